// A portal that answers what the emulator never would: answers nested tens of
// thousands of levels deep, bodies shorter than their Content-Length,
// redirects to plain http or to other hosts, and a request held for long.
// A small fake portal started here (cpp-httplib, or a raw socket where
// httplib cannot misbehave enough) stands behind a real b24gate process; the
// emulator the harness starts is not used.
#include <signal.h>
#include <sys/socket.h>
#include <unistd.h>

#include <atomic>
#include <cstdlib>
#include <memory>
#include <string>
#include <thread>

#include <gtest/gtest.h>
#include <httplib.h>

#include "absl/strings/ascii.h"
#include "absl/strings/match.h"
#include "absl/strings/numbers.h"
#include "absl/strings/str_cat.h"
#include "absl/synchronization/notification.h"
#include "tests/e2e/rpc_helpers.h"
#include "tests/support/listening_socket.h"
#include "tests/support/self_signed_certificate.h"

namespace b24gate::e2e::hostile_portal_test {
namespace {

constexpr char kCode[] = "h0stilec0de";  // the webhook's secret

// An httplib server (plain or TLS) on 127.0.0.1 answering every POST with
// `answer`, counting the requests it got.
class FakePortal {
 public:
  using Answer = std::function<void(const httplib::Request&, httplib::Response&)>;

  explicit FakePortal(Answer answer, const std::string& cert_dir = "")
      : answer_(std::move(answer)) {
    if (cert_dir.empty()) {
      server_ = std::make_unique<httplib::Server>();
    } else {
      server_ = std::make_unique<httplib::SSLServer>((cert_dir + "/cert.pem").c_str(),
                                                     (cert_dir + "/key.pem").c_str());
    }
    server_->new_task_queue = [] { return new httplib::ThreadPool(16); };
    server_->Post(".*", [this](const httplib::Request& req, httplib::Response& res) {
      ++requests_;
      answer_(req, res);
    });
    port_ = server_->bind_to_any_port("127.0.0.1");
    thread_ = std::thread([this] { server_->listen_after_bind(); });
    origin_ = absl::StrCat(cert_dir.empty() ? "http" : "https", "://127.0.0.1:", port_);
  }
  ~FakePortal() {
    server_->stop();
    thread_.join();
  }

  // "http(s)://127.0.0.1:PORT"
  const std::string& origin() const { return origin_; }
  std::string webhook() const { return absl::StrCat(origin_, "/rest/1/", kCode, "/"); }
  int requests() const { return requests_; }

 private:
  Answer answer_;
  std::unique_ptr<httplib::Server> server_;
  std::thread thread_;
  std::atomic<int> requests_{0};
  int port_ = 0;
  std::string origin_;
};

// A TCP server that reads each request whole and writes `reply` verbatim
// (however wrong), then hangs up.
class RawPortal {
 public:
  explicit RawPortal(std::string reply) : reply_(std::move(reply)) {
    thread_ = std::thread([this] {
      for (int client; (client = listener_.Accept()) >= 0; close(client)) {
        // The gateway's start-up connection (a HEAD) is no REST request.
        if (ReadRequest(client).rfind("HEAD ", 0) != 0) ++requests_;
        send(client, reply_.data(), reply_.size(), MSG_NOSIGNAL);
      }
    });
  }
  ~RawPortal() {
    listener_.Shutdown();
    thread_.join();
  }
  std::string webhook() const {
    return absl::StrCat("http://", listener_.address(), "/rest/1/", kCode, "/");
  }
  int requests() const { return requests_; }

 private:
  // Headers, then Content-Length bytes of body; returns what was read.
  static std::string ReadRequest(int client) {
    std::string in;
    char buffer[4096];
    size_t need = std::string::npos;
    while (need == std::string::npos || in.size() < need) {
      ssize_t n = recv(client, buffer, sizeof(buffer), 0);
      if (n <= 0) return in;
      in.append(buffer, n);
      size_t end = in.find("\r\n\r\n");
      if (need != std::string::npos || end == std::string::npos) continue;
      size_t length = 0;
      size_t at = absl::AsciiStrToLower(in.substr(0, end)).find("content-length:");
      if (at != std::string::npos) {
        std::string value = in.substr(at + 15, in.find("\r\n", at) - at - 15);
        (void)absl::SimpleAtoi(value, &length);
      }
      need = end + 4 + length;
    }
    return in;
  }

  const std::string reply_;
  testing::ListeningSocket listener_;
  std::atomic<int> requests_{0};
  std::thread thread_;
};

// A gateway whose default portal is `webhook` (the harness's emulator
// stands by unused), with `portal` merged into the portal's config.
std::unique_ptr<Stack> GatewayFor(const std::string& webhook, nlohmann::json portal = {},
                                  std::vector<std::string> extra_args = {}) {
  GatewaySpec gateway;
  gateway.portal = portal.is_null() ? nlohmann::json::object() : std::move(portal);
  gateway.extra_args = std::move(extra_args);
  gateway.customize = [webhook](nlohmann::json* p, const std::string&) {
    (*p)["webhook"] = webhook;
  };
  return Up({}, std::move(gateway));
}

bool Alive(Stack& stack) { return kill(stack.gateway().pid(), 0) == 0; }

// {"result": [[[...1...]]]} or {"result": {"a": {"a": ...1...}}}.
std::string Nested(int levels, bool objects) {
  std::string text = "{\"result\":";
  for (int i = 0; i < levels; ++i) text += objects ? "{\"a\":" : "[";
  text += "1";
  text.append(levels, objects ? '}' : ']');
  return text + "}";
}

TEST(HostilePortal, ADeepAnswerFailsTheCallNotTheGateway) {
  std::atomic<int> levels{30000};
  std::atomic<bool> objects{false};
  FakePortal portal([&](const httplib::Request&, httplib::Response& res) {
    res.set_content(levels > 0 ? Nested(levels, objects) : R"({"result": 7})", "application/json");
  });
  auto stack = GatewayFor(portal.webhook(), {{"max_attempts", 2}});
  ASSERT_TRUE(stack);
  for (int depth : {30000, 5000}) {
    for (bool as_objects : {false, true}) {
      levels = depth;
      objects = as_objects;
      int before = portal.requests();
      CallOut read = Call1(*stack, "crm.lead.list", json::object());
      EXPECT_EQ(read.status.error_code(), grpc::StatusCode::UNAVAILABLE) << depth;
      EXPECT_EQ(ReasonOf(read.status), "BAD_RESPONSE") << read.status.error_message();
      EXPECT_TRUE(absl::StrContains(read.status.error_message(), "nested deeper than 32 levels"))
          << read.status.error_message();
      ASSERT_TRUE(Alive(*stack)) << "the gateway died on an answer " << depth << " levels deep";

      // A write is sent once and reported as possibly executed.
      CallOut write = Call1(*stack, "crm.lead.add", {{"fields", {{"TITLE", "x"}}}});
      EXPECT_EQ(write.status.error_code(), grpc::StatusCode::UNAVAILABLE);
      EXPECT_EQ(ReasonOf(write.status), "OUTCOME_UNKNOWN") << write.status.error_message();
      EXPECT_EQ(portal.requests() - before, 2 + 1) << "reads twice (max_attempts), the write once";
    }
  }
  levels = 0;
  CallOut after = Call1(*stack, "crm.lead.list", json::object());
  ASSERT_TRUE(after.status.ok()) << after.status.error_message();
  EXPECT_EQ(after.result(), 7);
}

TEST(HostilePortal, AnAnswerShorterThanItsContentLengthIsABadResponse) {
  RawPortal portal(
      "HTTP/1.1 200 OK\r\nContent-Type: application/json\r\nContent-Length: 500\r\n"
      "Connection: close\r\n\r\n{\"result\": [1, 2, 3]}");
  auto stack = GatewayFor(portal.webhook(), {{"max_attempts", 3}});
  ASSERT_TRUE(stack);
  CallOut read = Call1(*stack, "crm.lead.list", json::object());
  EXPECT_EQ(read.status.error_code(), grpc::StatusCode::UNAVAILABLE)
      << read.status.error_code() << " " << read.status.error_message();
  EXPECT_EQ(ReasonOf(read.status), "BAD_RESPONSE") << read.status.error_message();
  EXPECT_EQ(portal.requests(), 3) << "a read is repeated up to max_attempts";

  CallOut write = Call1(*stack, "crm.lead.add", {{"fields", {{"TITLE", "x"}}}});
  EXPECT_EQ(write.status.error_code(), grpc::StatusCode::UNAVAILABLE);
  EXPECT_EQ(ReasonOf(write.status), "OUTCOME_UNKNOWN") << write.status.error_message();
  EXPECT_TRUE(absl::StrContains(write.status.error_message(), "unreadable Bitrix24 answer"))
      << write.status.error_message();
  EXPECT_EQ(portal.requests(), 4) << "a write is never repeated";
}

TEST(HostilePortal, HugeIntegersArriveExactlyAndAnUnreadableTotalIsRefused) {
  std::atomic<bool> bad_total{false};
  FakePortal portal([&](const httplib::Request&, httplib::Response& res) {
    res.set_content(bad_total ? R"({"result": [], "total": 99999999999999999999})"
                              : R"({"result": {"ID": 123456789012345678901234567890}, "total": 1})",
                    "application/json");
  });
  auto stack = GatewayFor(portal.webhook(), {{"max_attempts", 1}});
  ASSERT_TRUE(stack);
  CallOut big = Call1(*stack, "crm.lead.get", {{"id", 1}});
  ASSERT_TRUE(big.status.ok()) << big.status.error_message();
  EXPECT_EQ(big.result()["ID"], "123456789012345678901234567890");
  bad_total = true;
  CallOut total = Call1(*stack, "crm.lead.list", json::object());
  EXPECT_EQ(total.status.error_code(), grpc::StatusCode::UNAVAILABLE);
  EXPECT_EQ(ReasonOf(total.status), "BAD_RESPONSE") << total.status.error_message();
}

// A 4xx page from in front of the REST API (here 414, URI too long) proves
// the request was not run: not OUTCOME_UNKNOWN, and not sent again.
TEST(HostilePortal, A414PageIsNotExecuted) {
  FakePortal portal([](const httplib::Request&, httplib::Response& res) {
    res.status = 414;
    res.set_content("<html><body>414 Request-URI Too Large</body></html>", "text/html");
  });
  auto stack = GatewayFor(portal.webhook());
  ASSERT_TRUE(stack);
  CallOut write = Call1(*stack, "crm.lead.add", {{"fields", {{"TITLE", "x"}}}});
  EXPECT_EQ(write.status.error_code(), grpc::StatusCode::INVALID_ARGUMENT)
      << write.status.error_code() << " " << write.status.error_message();
  EXPECT_EQ(ReasonOf(write.status), "NOT_EXECUTED") << write.status.error_message();
  EXPECT_TRUE(absl::StrContains(write.status.error_message(), "HTTP 414"));
  CallOut read = Call1(*stack, "crm.lead.list", json::object());
  EXPECT_EQ(ReasonOf(read.status), "NOT_EXECUTED") << read.status.error_message();
  EXPECT_EQ(portal.requests(), 2) << "a refusal that will not change is not sent again";
}

// One request the portal holds does not hold up the others: each of them
// reaches the portal while it is still held.
TEST(HostilePortal, AHeldRequestDelaysNoOtherCall) {
  absl::Notification release;
  std::atomic<int> held{0};
  std::atomic<int> alongside{0};
  FakePortal portal([&](const httplib::Request& req, httplib::Response& res) {
    if (absl::StrContains(req.path, "crm.lead.get")) {
      ++held;
      release.WaitForNotificationWithTimeout(absl::Seconds(20));
    } else if (!release.HasBeenNotified()) {
      ++alongside;
    }
    res.set_content(R"({"result": {"ID": "1"}})", "application/json");
  });
  auto stack = GatewayFor(portal.webhook());
  ASSERT_TRUE(stack);
  std::thread slow([&] { Call1(*stack, "crm.lead.get", {{"id", 1}}); });
  ASSERT_TRUE(WaitFor([&] { return held > 0; }));
  for (int i = 0; i < 8; ++i) {
    CallOut out = Call1(*stack, "crm.deal.get", {{"id", i + 1}});
    EXPECT_TRUE(out.status.ok()) << out.status.error_message();
  }
  EXPECT_EQ(alongside, 8) << "calls waited for the held request";
  release.Notify();
  slow.join();
}

// ---- Redirects ----------------------------------------------------------------

class Redirects : public ::testing::Test {
 protected:
  static void SetUpTestSuite() {
    dir_ = testing::SelfSignedCertificate();
    ASSERT_FALSE(dir_.empty()) << "openssl could not make a certificate";
  }

  // An https portal answering every request with a 302 to `target` + the
  // request's own path.
  static std::unique_ptr<FakePortal> Moved(std::function<std::string()> target) {
    return std::make_unique<FakePortal>(
        [target](const httplib::Request& req, httplib::Response& res) {
          res.status = 302;
          res.set_header("Location", target() + req.path);
        },
        dir_);
  }
  static std::unique_ptr<FakePortal> Answering() {
    return std::make_unique<FakePortal>(
        [](const httplib::Request&, httplib::Response& res) {
          res.set_content(R"({"result": "moved here"})", "application/json");
        },
        dir_);
  }

  static std::string dir_;
};

std::string Redirects::dir_;

TEST_F(Redirects, FromHttpsToHttpIsRefusedCountedAndNotKept) {
  FakePortal plain([](const httplib::Request&, httplib::Response& res) {
    res.set_content(R"({"result": "cleartext"})", "application/json");
  });
  auto moved = Moved([&] { return plain.origin(); });
  auto stack = GatewayFor(moved->webhook(),
                          {{"ca_file", dir_ + "/cert.pem"}, {"redirect_to", {plain.origin()}}},
                          {"--metrics-listen", "127.0.0.1:0"});
  ASSERT_TRUE(stack);
  for (int i = 1; i <= 2; ++i) {
    CallOut out = Call1(*stack, "crm.lead.list", json::object());
    EXPECT_EQ(out.status.error_code(), grpc::StatusCode::UNAVAILABLE);
    EXPECT_EQ(ReasonOf(out.status), "TRANSPORT_ERROR") << out.status.error_message();
    EXPECT_TRUE(absl::StrContains(out.status.error_message(), "from https to plain http"))
        << out.status.error_message();
    EXPECT_FALSE(absl::StrContains(out.status.error_message(), kCode));
    EXPECT_EQ(moved->requests(), i) << "the configured address stays";
  }
  EXPECT_EQ(plain.requests(), 0) << "the webhook went out in cleartext";

  httplib::Client metrics("http://" + MetricsAddress(stack->gateway()));
  auto scraped = metrics.Get("/metrics");
  ASSERT_TRUE(scraped);
  EXPECT_TRUE(absl::StrContains(scraped->body, "b24gate_redirects_refused_total{portal=\"main\"} 2"))
      << "no refused-redirect count";
  EXPECT_FALSE(absl::StrContains(scraped->body, kCode));
}

TEST_F(Redirects, ToAnotherHostOnlyWhenConfiguredAndThenKept) {
  auto target = Answering();
  auto moved = Moved([&] { return target->origin(); });
  {
    // Not listed (a dead port would do the same): refused, nothing re-pointed.
    auto stack = GatewayFor(moved->webhook(), {{"ca_file", dir_ + "/cert.pem"}});
    ASSERT_TRUE(stack);
    for (int i = 1; i <= 2; ++i) {
      CallOut out = Call1(*stack, "crm.lead.add", {{"fields", {{"TITLE", "x"}}}});
      EXPECT_EQ(out.status.error_code(), grpc::StatusCode::UNAVAILABLE);
      EXPECT_TRUE(absl::StrContains(out.status.error_message(), "not in the portal's redirect_to"))
          << out.status.error_message();
      EXPECT_TRUE(absl::StrContains(out.status.error_message(), "not executed"));
      EXPECT_EQ(moved->requests(), i);
    }
    EXPECT_EQ(target->requests(), 0);
  }
  // Listed: followed, and the new address is used from then on.
  auto stack = GatewayFor(moved->webhook(),
                          {{"ca_file", dir_ + "/cert.pem"}, {"redirect_to", {target->origin()}}});
  ASSERT_TRUE(stack);
  int before = moved->requests();
  for (int i = 1; i <= 3; ++i) {
    CallOut out = Call1(*stack, "crm.lead.list", json::object());
    ASSERT_TRUE(out.status.ok()) << out.status.error_message();
    EXPECT_EQ(out.result(), "moved here");
  }
  EXPECT_EQ(moved->requests() - before, 1);
  EXPECT_EQ(target->requests(), 3);
}

}  // namespace
}  // namespace b24gate::e2e::hostile_portal_test
