// End-to-end over real sockets: the server on 127.0.0.1:0 (HTTP and HTTPS)
// with the in-test MethodTable, spoken to with cpp-httplib's client.
#include "tests/emulator/server.h"

#include <gtest/gtest.h>

#include <atomic>
#include <csignal>
#include <cstdlib>
#include <filesystem>
#include <memory>
#include <string>
#include <thread>
#include <utility>
#include <vector>

#include <httplib.h>

#include "absl/time/clock.h"
#include "absl/time/time.h"
#include "tests/emulator/clock.h"
#include "tests/emulator/query_parser.h"
#include "tests/emulator/reply_turns.h"
#include "tests/emulator/test/fake_clock.h"
#include "tests/emulator/test/fake_methods.h"
#include "tests/emulator/test/portal_harness.h"
#include "tests/support/self_signed_certificate.h"
#include "tests/support/wait_for.h"

namespace b24emu::server_test {
namespace {

using nlohmann::json;

class Emulator {
 public:
  explicit Emulator(PortalConfig config = TestConfig(), ServerOptions options = ServerOptions())
      : portal_(std::move(config), &methods_, RealClock()), server_(options, &portal_) {
    absl::StatusOr<int> port = server_.Start();
    EXPECT_TRUE(port.ok()) << port.status();
    port_ = port.value_or(0);
  }
  int port() const { return port_; }
  Portal& portal() { return portal_; }
  FakeMethods& methods() { return methods_; }
  EmulatorServer& server() { return server_; }
  std::unique_ptr<httplib::Client> Client(const std::string& host = "127.0.0.1") {
    auto client = std::make_unique<httplib::Client>(host, port_);
    client->set_read_timeout(10, 0);
    return client;
  }
  json Stats() {
    auto res = Client()->Get("/_emulator/stats");
    return res ? json::parse(res->body) : json();
  }

 private:
  FakeMethods methods_;
  Portal portal_;
  EmulatorServer server_;
  int port_ = 0;
};

class ServerTest : public ::testing::Test {
 protected:
  static void SetUpTestSuite() { std::signal(SIGPIPE, SIG_IGN); }
};

TEST_F(ServerTest, GetWebhookCall) {
  Emulator e;
  auto res = e.Client()->Get("/rest/1/secret/crm.lead.get.json?id=7");
  ASSERT_TRUE(res);
  EXPECT_EQ(res->status, 200);
  EXPECT_EQ(res->get_header_value("Content-Type"), "application/json; charset=utf-8");
  EXPECT_EQ(json::parse(res->body)["result"]["ID"], "7");
}

// Real portals sit behind nginx, whose default `merge_slashes on` makes
// every run of '/' one before the path is routed; clients rely on it. Each
// path below is one the peers' clients send, and gets the clean path's
// answer.
TEST_F(ServerTest, RepeatedSlashesAndSuffixesReachTheMethod) {
  Emulator e;
  auto client = e.Client();
  auto clean = client->Post("/rest/1/secret/crm.lead.get.json", R"({"id":7})", "application/json");
  ASSERT_TRUE(clean);
  ASSERT_EQ(clean->status, 200) << clean->body;
  const json expected = json::parse(clean->body)["result"];
  for (const char* path : {
           "/rest/1/secret//crm.lead.get/",    // PHP SDK, webhook written with a trailing '/'
           "/rest/1/secret/crm.lead.get/",     // PHP SDK, webhook without it
           "/rest/1/secret/crm.lead.get",      // fast_bitrix24: webhook + method
           "//rest/1/secret/crm.lead.get.json",  // JS SDK, portal address ending in '/'
           "/rest//1//secret//crm.lead.get.json//",
           "///rest///1///secret///crm.lead.get///",
       }) {
    auto res = client->Post(path, R"({"id":7})", "application/json");
    ASSERT_TRUE(res) << path;
    EXPECT_EQ(res->status, 200) << path << ": " << res->body;
    EXPECT_EQ(json::parse(res->body)["result"], expected) << path;
    EXPECT_EQ(e.methods().last().method, "crm.lead.get") << path;
  }
  // Errors are the clean path's too: a wrong code, an unknown method, and a
  // classic method asked for on the REST 3.0 prefix (REST 3.0 paths'
  // answers: portal_v3_test.cc).
  for (const auto& [messy, tidy] : std::vector<std::pair<std::string, std::string>>{
           {"/rest/1/wrong//crm.lead.get/", "/rest/1/wrong/crm.lead.get"},
           {"/rest/1/secret//crm.nothing.here/", "/rest/1/secret/crm.nothing.here"},
           {"/rest//api//1/secret//crm.lead.get/", "/rest/api/1/secret/crm.lead.get/"},
           {"//rest/api/crm.lead.get", "/rest/api/crm.lead.get"},
       }) {
    auto a = client->Get(messy + "?id=7");
    auto b = client->Get(tidy + "?id=7");
    ASSERT_TRUE(a && b) << messy;
    EXPECT_EQ(a->status, b->status) << messy;
    EXPECT_EQ(a->body, b->body) << messy;
    EXPECT_NE(a->status, 200) << messy;
  }
}

TEST_F(ServerTest, QueryAndJsonBodyMerged) {
  Emulator e;
  auto res = e.Client()->Post("/rest/1/secret/echo?a=1", R"({"b":[1,2]})", "application/json");
  ASSERT_TRUE(res);
  EXPECT_EQ(e.methods().last().params, json::parse(R"({"a":"1","b":[1,2]})"));
}

TEST_F(ServerTest, LargeFormEncodedBatch) {
  Emulator e;
  std::string form = "halt=0";
  for (int i = 0; i < 50; ++i) {
    form += "&cmd[c" + std::to_string(i) + "]=" +
            UrlEncode("crm.lead.list?filter[>ID]=" + std::to_string(i * 10) +
                      "&select[]=ID&select[]=TITLE&start=-1&padding=" + std::string(150, 'x'));
  }
  ASSERT_GT(form.size(), 8192u);  // above cpp-httplib's own form limit
  auto res = e.Client()->Post("/rest/1/secret/batch", form, "application/x-www-form-urlencoded");
  ASSERT_TRUE(res);
  ASSERT_EQ(res->status, 200) << res->body;
  const json r = json::parse(res->body)["result"];
  EXPECT_EQ(r["result"].size(), 50u);
  EXPECT_EQ(r["result"]["c49"][0]["ID"], "491");
}

TEST_F(ServerTest, MultipartFieldsArePhpParsed) {
  Emulator e;
  httplib::MultipartFormDataItems items = {
      {"order[TITLE]", "ASC", "", ""}, {"order[ID]", "DESC", "", ""}, {"select[]", "ID", "", ""}};
  auto res = e.Client()->Post("/rest/1/secret/echo", items);
  ASSERT_TRUE(res);
  EXPECT_EQ(res->status, 200);
  // A multi-field order reaches the data layer as an ordered list of
  // single-field maps, so TITLE keeps its priority over ID.
  EXPECT_EQ(e.methods().last().params,
            json::parse(R"({"order":[{"TITLE":"ASC"},{"ID":"DESC"}],"select":["ID"]})"));
}

TEST_F(ServerTest, ControlEndpoints) {
  Emulator e;
  auto client = e.Client();
  client->Get("/rest/1/secret/crm.lead.add");
  client->Get("/rest/1/wrong/crm.lead.add");
  json stats = e.Stats();
  EXPECT_EQ(stats["requests"], 2);
  EXPECT_EQ(stats["commands"], 1);
  EXPECT_EQ(stats["created"]["crm.lead"], 1);
  EXPECT_EQ(stats["errors"]["INVALID_CREDENTIALS"], 1);
  EXPECT_GE(stats["peak_concurrency"], 1);
  for (const char* key : {"bucket_level", "peak_bucket_level", "operating", "faults_injected"}) {
    EXPECT_TRUE(stats.contains(key)) << key;
  }

  auto res = client->Post("/_emulator/faults", "500=@1", "text/plain");
  ASSERT_TRUE(res);
  EXPECT_EQ(res->status, 200);
  EXPECT_EQ(json::parse(client->Get("/_emulator/faults")->body)["spec"], "500=@1");
  res = client->Post("/_emulator/faults", R"({"spec":"overload=@1"})", "application/json");
  EXPECT_EQ(json::parse(res->body)["spec"], "overload=@1");
  EXPECT_EQ(client->Post("/_emulator/faults", "teapot=1", "text/plain")->status, 400);
  EXPECT_EQ(client->Get("/rest/1/secret/echo")->status, 503);

  ASSERT_EQ(client->Post("/_emulator/reset", "", "text/plain")->status, 200);
  stats = e.Stats();
  EXPECT_EQ(stats["requests"], 0);
  EXPECT_EQ(stats["errors"], json::object());
}

TEST_F(ServerTest, ResetFaultDropsConnectionAfterExecuting) {
  Emulator e;
  ASSERT_TRUE(e.portal().SetFaults("reset=@1").ok());
  auto client = e.Client();
  auto res = client->Get("/rest/1/secret/crm.lead.add");
  EXPECT_FALSE(res);  // no response at all
  EXPECT_EQ(e.Stats()["created"]["crm.lead"], 1);
  EXPECT_EQ(e.Stats()["faults_injected"]["reset"], 1);
  // The server is fine afterwards, also on the same client.
  res = client->Get("/rest/1/secret/crm.lead.get?id=1");
  ASSERT_TRUE(res);
  EXPECT_EQ(res->status, 200);
}

TEST_F(ServerTest, RedirectPointsAtTheOtherHostName) {
  Emulator e;
  ASSERT_TRUE(e.portal().SetFaults("redirect=@1").ok());
  auto res = e.Client()->Post("/rest/1/secret/crm.lead.add?x=1", R"({"fields":{}})", "application/json");
  ASSERT_TRUE(res);
  EXPECT_EQ(res->status, 302);
  const std::string location = res->get_header_value("Location");
  EXPECT_EQ(location, "http://localhost:" + std::to_string(e.port()) + "/rest/1/secret/crm.lead.add?x=1");
  EXPECT_EQ(e.Stats()["commands"], 0);
  // Re-sending as POST to the new host works.
  res = e.Client("localhost")->Post("/rest/1/secret/crm.lead.add?x=1", R"({"fields":{}})",
                                    "application/json");
  ASSERT_TRUE(res);
  EXPECT_EQ(res->status, 200);
}

TEST_F(ServerTest, DelayFaultOutlastsClientTimeoutAndStopInterruptsIt) {
  PortalConfig config = TestConfig();
  config.fault_delay = absl::Seconds(30);
  auto e = std::make_unique<Emulator>(config);
  ASSERT_TRUE(e->portal().SetFaults("delay=@1").ok());
  auto client = e->Client();
  client->set_read_timeout(0, 300000);
  auto res = client->Get("/rest/1/secret/crm.lead.add");
  EXPECT_FALSE(res);
  EXPECT_EQ(res.error(), httplib::Error::Read);
  // Executed although the client gave up: the client's 0.3 s say nothing of
  // how far the server's thread got on a loaded machine, so wait for it.
  EXPECT_TRUE(b24gate::testing::WaitFor([&] { return e->Stats()["created"]["crm.lead"] == 1; }));
  client.reset();
  e.reset();  // must not wait 30 s
}

TEST_F(ServerTest, NonJsonGatewayPages) {
  Emulator e;
  ASSERT_TRUE(e.portal().SetFaults("502=@1,504=@1").ok());
  auto client = e.Client();
  auto res = client->Get("/rest/1/secret/echo");
  ASSERT_TRUE(res);
  EXPECT_EQ(res->status, 502);
  EXPECT_EQ(res->get_header_value("Content-Type"), "text/html");
  res = client->Get("/rest/1/secret/echo");
  ASSERT_TRUE(res);
  EXPECT_EQ(res->status, 504);
  EXPECT_THROW(json::parse(res->body), json::parse_error);
}

TEST_F(ServerTest, ProcessingDelayHoldsResponsesAndPeakConcurrencyCounts) {
  PortalConfig config = TestConfig();
  config.cost = CostModel{absl::Milliseconds(800), absl::ZeroDuration(), absl::ZeroDuration(),
                          absl::ZeroDuration()};
  Emulator e(config);
  std::vector<std::thread> threads;
  for (int i = 0; i < 4; ++i) {
    threads.emplace_back([&] { e.Client()->Get("/rest/1/secret/echo"); });
  }
  for (auto& t : threads) t.join();
  const json stats = e.Stats();
  EXPECT_EQ(stats["requests"], 4);
  EXPECT_GE(stats["peak_concurrency"], 2);  // four 0.8 s holds started together
  EXPECT_EQ(stats["in_flight"], 0);
}

// A real portal's processing time is all of its time on a request, so the
// emulator's own work on one is inside the modelled time, not added to it:
// 0.6 s of the emulator's work under a modelled 1.2 s answers after about
// 1.2 s, not 1.8 s.
// The modelled processing time is the portal's whole time on a request:
// the method's own 600 ms (on the fake clock) count towards its 1,200 ms
// cost, so the reply is held for the other 600 ms only. On the fake clock
// the hold takes no real time and the request's whole time is exact.
TEST_F(ServerTest, ProcessingDelayIncludesTheEmulatorsOwnWork) {
  FakeClock clock;
  PortalConfig config = TestConfig();
  config.cost = CostModel{absl::Milliseconds(1200), absl::ZeroDuration(), absl::ZeroDuration(),
                          absl::ZeroDuration()};
  ServerOptions options;
  options.clock = &clock;
  Emulator e(config, options);
  e.methods().set_work_clock(&clock);
  const absl::Time start = clock.Now();
  auto res = e.Client()->Get("/rest/1/secret/slow?ms=600");
  ASSERT_TRUE(res);
  EXPECT_EQ(res->status, 200);
  EXPECT_EQ(clock.Now() - start, absl::Milliseconds(1200))
      << "1,800 ms: the emulator's work was added to the modelled time; 600 ms: the reply was "
         "not held for the rest of it";
}

// A request read late (a busy server) is still answered its processing time
// after its bytes arrived: the hold counts from the arrival, as on a portal
// whose front end takes requests in on many machines. Here the request's
// bytes arrived when the fake clock first read `start`, and the server read
// it 500 ms later.
TEST_F(ServerTest, AHoldCountsFromWhenTheRequestArrivedNotWhenItWasRead) {
  FakeClock clock;
  const absl::Time start = clock.Now();
  PortalConfig config = TestConfig();
  config.cost = CostModel{absl::Milliseconds(1200), absl::ZeroDuration(), absl::ZeroDuration(),
                          absl::ZeroDuration()};
  ServerOptions options;
  options.clock = &clock;
  // Older than the fake clock itself: it arrived at the clock's first reading.
  options.request_age = [](const httplib::Request&) { return absl::Hours(1); };
  Emulator e(config, options);
  clock.Advance(absl::Milliseconds(500));
  auto res = e.Client()->Get("/rest/1/secret/crm.lead.get?id=7");
  ASSERT_TRUE(res);
  EXPECT_EQ(res->status, 200);
  EXPECT_EQ(clock.Now() - start, absl::Milliseconds(1200))
      << "1,700 ms: the hold counted from when the server read the request";
}

// A reply's last byte leaves when it is due (arrival + modelled processing):
// on a fake clock the stats count it written 0 ms late. One that arrived
// long before the server read it (its processing time over before it was
// read) cannot leave on time: it is counted late by the difference.
TEST_F(ServerTest, AReplyIsCountedLateByTheTimeFromItsDueToItsLastByte) {
  FakeClock clock;
  PortalConfig config = TestConfig();
  config.cost = CostModel{absl::Milliseconds(1200), absl::ZeroDuration(), absl::ZeroDuration(),
                          absl::ZeroDuration()};
  ServerOptions options;
  options.clock = &clock;
  // The first request is read as it arrives; the second arrived at the
  // clock's first reading (older than the fake clock itself).
  std::atomic<int> reads{0};
  options.request_age = [&reads](const httplib::Request&) {
    return reads++ == 0 ? absl::ZeroDuration() : absl::Hours(1);
  };
  Emulator e(config, options);
  auto on_time = e.Client()->Get("/rest/1/secret/crm.lead.get?id=7");
  ASSERT_TRUE(on_time);
  ASSERT_EQ(on_time->status, 200);
  // The count follows the last byte: awaited, the client may read it first.
  ASSERT_TRUE(b24gate::testing::WaitFor([&] { return e.Stats()["replies_written"] == 1; }));
  json stats = e.Stats();
  EXPECT_EQ(stats["replies_late"], 0);
  EXPECT_EQ(stats["reply_lateness_max_ms"], 0.0);

  clock.Advance(absl::Seconds(2));  // 3.2 s after the second request arrived
  auto late = e.Client()->Get("/rest/1/secret/crm.lead.get?id=7");
  ASSERT_TRUE(late);
  ASSERT_EQ(late->status, 200);
  ASSERT_TRUE(b24gate::testing::WaitFor([&] { return e.Stats()["replies_written"] == 2; }));
  stats = e.Stats();
  EXPECT_EQ(stats["replies_late"], 1);
  EXPECT_EQ(stats["reply_lateness_max_ms"], 2000.0);
  EXPECT_EQ(stats["reply_lateness_total_ms"], 2000.0);
}

// A fake clock that notes the turns (reply_turns.h) of each thread holding
// a reply until it is due.
class TurnsNotingClock : public FakeClock {
 public:
  bool WaitUntil(absl::Time deadline, const absl::Notification& interrupt) const override {
    {
      absl::MutexLock lock(&mu_);
      held_.push_back(CurrentTurn());
    }
    return FakeClock::WaitUntil(deadline, interrupt);
  }
  std::vector<absl::Duration> held() const {
    absl::MutexLock lock(&mu_);
    return held_;
  }

 private:
  mutable absl::Mutex mu_;
  mutable std::vector<absl::Duration> held_ ABSL_GUARDED_BY(mu_);
};

// A thread holding a reply for its due time runs with short turns, so it
// writes the reply as soon as it is due on a busy machine; working out the
// next reply on the same connection it is back on the kernel's default.
TEST_F(ServerTest, AHeldReplysThreadRunsWithShortTurnsAndWorksWithTheDefault) {
  bool offered = false;
  std::thread([&] { offered = UseReplyTurns(true) && CurrentTurn() == kReplyTurn; }).join();
  if (!offered) GTEST_SKIP() << "this kernel sets no turn per thread (Linux 6.12 and later do)";
  TurnsNotingClock clock;
  PortalConfig config = TestConfig();
  config.cost = CostModel{absl::Milliseconds(1200), absl::ZeroDuration(), absl::ZeroDuration(),
                          absl::ZeroDuration()};
  ServerOptions options;
  options.clock = &clock;
  absl::Mutex mu;
  std::vector<absl::Duration> working;
  options.request_age = [&](const httplib::Request&) {
    absl::MutexLock lock(&mu);
    working.push_back(CurrentTurn());
    return absl::ZeroDuration();
  };
  Emulator e(config, options);
  auto client = e.Client();
  client->set_keep_alive(true);  // both on one connection: one thread
  for (int i = 0; i < 2; ++i) {
    auto res = client->Get("/rest/1/secret/crm.lead.get?id=7");
    ASSERT_TRUE(res);
    ASSERT_EQ(res->status, 200);
  }
  EXPECT_EQ(clock.held(), (std::vector<absl::Duration>{kReplyTurn, kReplyTurn}));
  absl::MutexLock lock(&mu);
  ASSERT_EQ(working.size(), 2u);
  EXPECT_NE(working[1], kReplyTurn) << "the second reply was worked out with a held one's turns";
}

// v3/things.thing.add: a REST 3.0 write that counts its runs.
class V3Adds : public MethodTable {
 public:
  bool HasMethod(const std::string& m) const override { return m == "v3/things.thing.add"; }
  bool IsWrite(const std::string& m) const override { return HasMethod(m); }
  MethodResult Invoke(const MethodCall&) override {
    MethodResult r;
    r.result = {{"item", {{"id", ++runs}}}};
    return r;
  }
  std::atomic<int> runs{0};
};

// A keyed write read late (a busy server) is answered its processing time
// after it arrived; a repeat sent on that answer is answered from the
// idempotency store and does not run again. The store counted the run from
// when the request was read, 500 ms later than the hold did, so the repeat
// came "before the first run had finished" and ran as an overlap: a second
// write for one key (the e2e CallManyWithTheCallersKeys test saw created 5
// under load).
TEST_F(ServerTest, AKeyedWriteReadLateIsKeptByTheTimeItsAnswerLeaves) {
  FakeClock clock;
  const absl::Time start = clock.Now();
  PortalConfig config = TestConfig();
  config.cost = CostModel{absl::Milliseconds(1200), absl::ZeroDuration(), absl::ZeroDuration(),
                          absl::ZeroDuration()};
  V3Adds methods;
  Portal portal(config, &methods, &clock);
  ServerOptions options;
  options.clock = &clock;
  // The first request arrived at the clock's first reading (older than the
  // fake clock itself) and was read 500 ms later; the repeat is read at once.
  std::atomic<int> reads{0};
  options.request_age = [&reads](const httplib::Request&) {
    return reads++ == 0 ? absl::Hours(1) : absl::ZeroDuration();
  };
  EmulatorServer server(options, &portal);
  absl::StatusOr<int> port = server.Start();
  ASSERT_TRUE(port.ok()) << port.status();
  clock.Advance(absl::Milliseconds(500));
  httplib::Client client("127.0.0.1", *port);
  client.set_read_timeout(10, 0);
  const httplib::Headers key = {{"Idempotency-Key", "order-1"}};
  const std::string body = R"({"fields":{"title":"x"}})";
  auto first = client.Post("/rest/api/1/secret/things.thing.add", key, body, "application/json");
  ASSERT_TRUE(first);
  ASSERT_EQ(first->status, 200) << first->body;
  ASSERT_EQ(clock.Now() - start, absl::Milliseconds(1200));
  auto again = client.Post("/rest/api/1/secret/things.thing.add", key, body, "application/json");
  ASSERT_TRUE(again);
  EXPECT_EQ(again->status, 200) << again->body;
  EXPECT_EQ(again->get_header_value("Idempotent-Replayed"), "true");
  EXPECT_EQ(again->body, first->body);
  EXPECT_EQ(methods.runs, 1) << "the repeat ran again as an overlap";
  server.Stop();
}

TEST_F(ServerTest, OAuthFlowOverHttp) {
  PortalConfig config = TestConfig();
  OAuthOptions oauth;
  oauth.client_id = "app";
  oauth.client_secret = "sec";
  oauth.initial_refresh_token = "r0";
  config.oauth = oauth;
  Emulator e(config);
  auto client = e.Client();
  auto res = client->Get("/oauth/token/?grant_type=refresh_token&client_id=app&client_secret=sec&refresh_token=r0");
  ASSERT_TRUE(res);
  ASSERT_EQ(res->status, 200) << res->body;
  const json token = json::parse(res->body);
  EXPECT_EQ(token["client_endpoint"], "http://127.0.0.1:" + std::to_string(e.port()) + "/rest/");
  EXPECT_EQ(client->Get("/rest/crm.lead.get?id=1&auth=" + token["access_token"].get<std::string>())->status, 200);
  res = client->Post("/oauth//token/", "grant_type=refresh_token&client_id=app&client_secret=sec&refresh_token=r0",
                     "application/x-www-form-urlencoded");
  EXPECT_EQ(res->status, 400);
  EXPECT_EQ(json::parse(res->body)["error"], "invalid_grant");
  ASSERT_EQ(client->Post("/_emulator/expire-tokens", "", "text/plain")->status, 200);
  res = client->Get("/rest/crm.lead.get?id=1&auth=" + token["access_token"].get<std::string>());
  EXPECT_EQ(json::parse(res->body)["error"], "expired_token");
}

// HTTPS with a throwaway self-signed certificate for 127.0.0.1 and localhost.
class TlsServerTest : public ServerTest {
 protected:
  void SetUp() override {
    dir_ = ::b24gate::testing::SelfSignedCertificate();
    ASSERT_FALSE(dir_.empty()) << "openssl could not make a certificate";
  }
  ServerOptions TlsOptions() {
    ServerOptions options;
    options.tls_cert_file = (dir_ / "cert.pem").string();
    options.tls_key_file = (dir_ / "key.pem").string();
    return options;
  }
  std::unique_ptr<httplib::SSLClient> Client(int port) {
    auto client = std::make_unique<httplib::SSLClient>("127.0.0.1", port);
    client->set_ca_cert_path((dir_ / "cert.pem").string().c_str());
    client->enable_server_certificate_verification(true);
    client->set_read_timeout(10, 0);
    return client;
  }
  std::filesystem::path dir_;
};

TEST_F(TlsServerTest, VerifiedHttpsCall) {
  Emulator e(TestConfig(), TlsOptions());
  auto res = Client(e.port())->Get("/rest/1/secret/crm.lead.get?id=3");
  ASSERT_TRUE(res) << httplib::to_string(res.error());
  EXPECT_EQ(res->status, 200);
  EXPECT_EQ(json::parse(res->body)["result"]["ID"], "3");
}

TEST_F(TlsServerTest, RequireHttpsPassesOverTls) {
  PortalConfig config = TestConfig();
  config.require_https = true;
  Emulator e(config, TlsOptions());
  auto res = Client(e.port())->Get("/rest/1/secret/echo");
  ASSERT_TRUE(res);
  EXPECT_EQ(res->status, 200);
}

TEST_F(TlsServerTest, ResetFaultOverTls) {
  Emulator e(TestConfig(), TlsOptions());
  ASSERT_TRUE(e.portal().SetFaults("reset=@1").ok());
  auto client = Client(e.port());
  EXPECT_FALSE(client->Get("/rest/1/secret/crm.lead.add"));
  EXPECT_EQ(e.portal().StatsJson()["created"]["crm.lead"], 1);
  auto res = client->Get("/rest/1/secret/echo");
  ASSERT_TRUE(res);
  EXPECT_EQ(res->status, 200);
}

TEST_F(ServerTest, RequireHttpsRefusesPlainHttp) {
  PortalConfig config = TestConfig();
  config.require_https = true;
  Emulator e(config);
  auto res = e.Client()->Get("/rest/1/secret/echo");
  ASSERT_TRUE(res);
  EXPECT_EQ(res->status, 400);
  EXPECT_EQ(json::parse(res->body)["error_description"], "Https required");
}

}  // namespace
}  // namespace b24emu::server_test
