// Routing, auth, errors, the envelope, limits and costs through the Portal.
#include "tests/emulator/portal.h"

#include <gtest/gtest.h>

#include "tests/emulator/test/portal_harness.h"

namespace b24emu::portal_test {
namespace {

using nlohmann::json;

constexpr char kHook[] = "/rest/1/secret/";

TEST(PortalRoutingTest, WebhookCallSucceedsWithEnvelope) {
  PortalHarness h;
  const HttpReply reply = h.Get(std::string(kHook) + "crm.lead.get?id=5");
  EXPECT_EQ(reply.status, 200);
  EXPECT_EQ(reply.content_type, "application/json; charset=utf-8");
  const json j = PortalHarness::Json(reply);
  EXPECT_EQ(j["result"]["ID"], "5");
  EXPECT_FALSE(j.contains("total"));
  EXPECT_FALSE(j.contains("next"));
  for (const char* key : {"start", "finish", "duration", "processing", "operating",
                          "operating_reset_at", "date_start", "date_finish"}) {
    EXPECT_TRUE(j["time"].contains(key)) << key;
  }
  EXPECT_EQ(j["time"]["date_start"], "2024-08-30T06:40:00+00:00");
  EXPECT_EQ(j["time"]["start"], 1725000000);
  EXPECT_EQ(j["time"]["operating_reset_at"], 1725000600);
}

TEST(PortalRoutingTest, MethodSuffixesAndCaseAreNormalised) {
  PortalHarness h;
  for (const char* m : {"crm.lead.get.json", "crm.lead.get/", "CRM.Lead.Get", "crm.lead.get.json/"}) {
    EXPECT_EQ(h.Get(std::string(kHook) + m + "?id=5").status, 200) << m;
    EXPECT_EQ(h.methods().last().method, "crm.lead.get");
  }
}

TEST(PortalRoutingTest, UnknownMethodIs404) {
  PortalHarness h;
  const HttpReply reply = h.Get(std::string(kHook) + "crm.nothing.here");
  EXPECT_EQ(reply.status, 404);
  EXPECT_EQ(reply.body, R"({"error":"ERROR_METHOD_NOT_FOUND","error_description":"Method not found!"})");
}

TEST(PortalRoutingTest, WrongWebhookCodeIs401) {
  PortalHarness h;
  const HttpReply reply = h.Get("/rest/1/wrong/crm.lead.get?id=5");
  EXPECT_EQ(reply.status, 401);
  EXPECT_EQ(PortalHarness::Json(reply)["error"], "INVALID_CREDENTIALS");
  EXPECT_EQ(h.Get("/rest/2/secret/crm.lead.get?id=5").status, 401);
}

TEST(PortalRoutingTest, OAuthUrlWithoutAuthIsNoAuthFound) {
  PortalHarness h;
  const HttpReply reply = h.Get("/rest/crm.lead.get?id=5");
  EXPECT_EQ(reply.status, 401);
  EXPECT_EQ(PortalHarness::Json(reply)["error"], "NO_AUTH_FOUND");
}

TEST(PortalRoutingTest, OldCrmErrorHasEmptyCode) {
  PortalHarness h;
  const HttpReply reply = h.Get(std::string(kHook) + "crm.lead.get?id=5000");
  EXPECT_EQ(reply.status, 400);
  EXPECT_EQ(reply.body, R"({"error":"","error_description":"Not found"})");
  EXPECT_EQ(h.portal().StatsJson()["errors"][""], 1);
}

TEST(PortalRoutingTest, HttpsRequired) {
  PortalConfig config = TestConfig();
  config.require_https = true;
  PortalHarness h(config);
  const HttpReply reply = h.Get(std::string(kHook) + "crm.lead.get?id=5");
  EXPECT_EQ(reply.status, 400);
  EXPECT_EQ(reply.body, R"({"error":"INVALID_REQUEST","error_description":"Https required"})");
  h.set_https(true);
  EXPECT_EQ(h.Get(std::string(kHook) + "crm.lead.get?id=5").status, 200);
}

TEST(PortalParamsTest, QueryAndJsonBodyMergeBodyWins) {
  PortalHarness h;
  h.PostJson(std::string(kHook) + "echo?a=1&b=2", R"({"b": 3, "c": null})");
  EXPECT_EQ(h.methods().last().params, json::parse(R"({"a":"1","b":3,"c":null})"));
}

TEST(PortalParamsTest, FormBodyIsPhpParsed) {
  PortalHarness h;
  h.PostForm(std::string(kHook) + "echo", "select[]=ID&select[]=TITLE&filter[%3EID]=5");
  EXPECT_EQ(h.methods().last().params,
            json::parse(R"({"select":["ID","TITLE"],"filter":{">ID":"5"}})"));
}

TEST(PortalParamsTest, PositionalJsonListReachesMethodAsList) {
  PortalHarness h;
  h.PostJson(std::string(kHook) + "task.commentitem.add", R"([5, {"POST_MESSAGE": "hi"}])");
  EXPECT_EQ(h.methods().last().params, json::parse(R"([5,{"POST_MESSAGE":"hi"}])"));
}

TEST(PortalParamsTest, InvalidJsonBodyIsRefused) {
  PortalHarness h;
  EXPECT_EQ(h.PostJson(std::string(kHook) + "echo", "{oops").status, 400);
}

TEST(PortalParamsTest, WebhookUserReachesMethod) {
  PortalConfig config = TestConfig();
  config.webhooks.push_back({7, "seven"});
  PortalHarness h(config);
  h.Get("/rest/7/seven/echo");
  EXPECT_EQ(h.methods().last().user_id, 7);
}

TEST(PortalEnvelopeTest, ListHasTotalAndNext) {
  PortalHarness h;
  const json j = PortalHarness::Json(h.Get(std::string(kHook) + "crm.lead.list"));
  EXPECT_EQ(j["result"].size(), 50u);
  EXPECT_EQ(j["total"], 1000);
  EXPECT_EQ(j["next"], 50);
  const json last = PortalHarness::Json(h.Get(std::string(kHook) + "crm.lead.list?start=-1&filter[>ID]=990"));
  EXPECT_EQ(last["result"].size(), 10u);
  EXPECT_FALSE(last.contains("total"));
  EXPECT_FALSE(last.contains("next"));
}

TEST(PortalEnvelopeTest, EmptyObjectResultIsEmptyList) {
  PortalHarness h;
  EXPECT_EQ(PortalHarness::Json(h.PostJson(std::string(kHook) + "echo", "{}"))["result"], json::array());
}

TEST(PortalLimitsTest, FiftiethPassesFiftyFirstGets503ThenOneMoreAfterHalfSecond) {
  PortalHarness h;
  const std::string url = std::string(kHook) + "crm.lead.get?id=1";
  for (int i = 0; i < 50; ++i) ASSERT_EQ(h.Get(url).status, 200) << i;
  const HttpReply refused = h.Get(url);
  EXPECT_EQ(refused.status, 503);
  EXPECT_EQ(refused.body, R"({"error":"QUERY_LIMIT_EXCEEDED","error_description":"Too many requests"})");
  h.clock().Advance(absl::Milliseconds(499));
  EXPECT_EQ(h.Get(url).status, 503);
  h.clock().Advance(absl::Milliseconds(1));
  EXPECT_EQ(h.Get(url).status, 200);
  EXPECT_EQ(h.Get(url).status, 503);
  const json stats = h.portal().StatsJson();
  EXPECT_EQ(stats["peak_bucket_level"], 50.0);
  EXPECT_EQ(stats["errors"]["QUERY_LIMIT_EXCEEDED"], 3);
  EXPECT_EQ(stats["commands"], 51);
}

// A request read 1 s after the burst (a busy thread) but arrived 0.4 s
// after it is judged at its arrival: refused, as on a portal whose check
// runs in the request; one that arrived at 0.5 s passes, and its
// `time.start` is that arrival, the instant it was admitted.
TEST(PortalLimitsTest, ARequestIsAdmittedByTheCounterWhenItArrivedNotWhenItWasRead) {
  PortalHarness h;
  const absl::Time t0 = h.clock().Now();
  const std::string url = std::string(kHook) + "crm.lead.get?id=1";
  for (int i = 0; i < 50; ++i) ASSERT_EQ(h.Get(url).status, 200) << i;
  h.clock().Advance(absl::Seconds(1));
  h.set_arrived(t0 + absl::Milliseconds(400));
  EXPECT_EQ(h.Get(url).status, 503) << "admitted by the counter when the request was read";
  h.set_arrived(t0 + absl::Milliseconds(500));
  const HttpReply admitted = h.Get(url);
  ASSERT_EQ(admitted.status, 200);
  EXPECT_DOUBLE_EQ(PortalHarness::Json(admitted)["time"]["start"].get<double>(),
                   absl::ToUnixMicros(t0 + absl::Milliseconds(500)) / 1e6);
}

TEST(PortalLimitsTest, BatchCostsOneInTheBucket) {
  PortalHarness h;
  for (int i = 0; i < 49; ++i) ASSERT_EQ(h.Get(std::string(kHook) + "echo").status, 200);
  std::string cmd;
  for (int i = 0; i < 10; ++i) cmd += "&cmd[c" + std::to_string(i) + "]=echo";
  EXPECT_EQ(h.Get(std::string(kHook) + "batch?halt=0" + cmd).status, 200);
  EXPECT_EQ(h.Get(std::string(kHook) + "echo").status, 503);
}

TEST(PortalLimitsTest, NoLimitsAdmitsButTracksBucket) {
  PortalConfig config = TestConfig();
  config.bucket.enforce = false;
  PortalHarness h(config);
  for (int i = 0; i < 60; ++i) ASSERT_EQ(h.Get(std::string(kHook) + "echo").status, 200);
  EXPECT_EQ(h.portal().StatsJson()["peak_bucket_level"], 60.0);
}

// Costs: "work" takes rows × 1 s with this model, so limits are easy to reach.
PortalConfig CostlyConfig() {
  PortalConfig config = TestConfig();
  config.bucket.enforce = false;
  config.cost = CostModel{absl::ZeroDuration(), absl::Seconds(1), absl::ZeroDuration(),
                          absl::ZeroDuration()};
  return config;
}

TEST(PortalLimitsTest, CallCrossing480RunsNextGets429UntilOldestBasketExpires) {
  PortalHarness h(CostlyConfig());
  const std::string hook(kHook);
  const absl::Time t0 = h.clock().Now();
  HttpReply r = h.Get(hook + "work?rows=470");  // basket at t0
  EXPECT_EQ(PortalHarness::Json(r)["time"]["operating"], 470);
  EXPECT_EQ(r.delay, absl::Seconds(470));
  h.clock().Advance(absl::Seconds(90));
  r = h.Get(hook + "work?rows=9");  // 479: below the limit; basket at t0+90
  EXPECT_EQ(r.status, 200);
  r = h.Get(hook + "work?rows=5");  // checked at 479 < 480: runs, crosses to 484
  EXPECT_EQ(r.status, 200);
  EXPECT_EQ(PortalHarness::Json(r)["time"]["operating"], 484);
  EXPECT_EQ(PortalHarness::Json(r)["time"]["operating_reset_at"], 1725000600);
  EXPECT_EQ(h.methods().calls(), 3);

  r = h.Get(hook + "work?rows=1");
  EXPECT_EQ(r.status, 429);
  EXPECT_EQ(r.body,
            R"({"error":"OPERATION_TIME_LIMIT","error_description":"Method is blocked due to operation time limit."})");
  EXPECT_EQ(h.methods().calls(), 3);  // not executed
  // Other methods keep working.
  EXPECT_EQ(h.Get(hook + "echo").status, 200);

  h.clock().Advance(t0 + absl::Seconds(600) - h.clock().Now() - absl::Milliseconds(1));
  EXPECT_EQ(h.Get(hook + "work?rows=1").status, 429);
  h.clock().Advance(absl::Milliseconds(1));
  r = h.Get(hook + "work?rows=1");
  EXPECT_EQ(r.status, 200);
  EXPECT_EQ(PortalHarness::Json(r)["time"]["operating"], 15);  // 9 + 5 + 1
}

TEST(PortalLimitsTest, OperatingIsPerCredential) {
  PortalConfig config = CostlyConfig();
  config.webhooks.push_back({2, "other"});
  PortalHarness h(config);
  EXPECT_EQ(h.Get(std::string(kHook) + "work?rows=500").status, 200);
  EXPECT_EQ(h.Get(std::string(kHook) + "work?rows=1").status, 429);
  EXPECT_EQ(h.Get("/rest/2/other/work?rows=1").status, 200);
}

TEST(PortalCostTest, ProcessingFollowsTheCostModel) {
  PortalConfig config = TestConfig();
  config.cost = CostModel{absl::Milliseconds(10), absl::Milliseconds(1), absl::Microseconds(2),
                          absl::Microseconds(1)};
  PortalHarness h(config);
  // 50 rows returned, 1000 counted, 100 skipped: 10 + 50 + 2 + 0.1 ms.
  const HttpReply r = h.Get(std::string(kHook) + "crm.lead.list?start=100");
  EXPECT_EQ(r.delay, absl::Microseconds(62100));
  const json time = PortalHarness::Json(r)["time"];
  EXPECT_DOUBLE_EQ(time["processing"].get<double>(), 0.0621);
  EXPECT_DOUBLE_EQ(time["duration"].get<double>(), 0.0621);
  EXPECT_DOUBLE_EQ(time["operating"].get<double>(), 0.0621);
}

TEST(PortalCostTest, HugeProfileMatchesTheDocsMeasurement) {
  const CostModel huge = *CostProfile("huge");
  WorkDone keyset{50, 0, 0};
  EXPECT_NEAR(absl::ToDoubleSeconds(huge.Cost(keyset)), 0.097, 1e-9);
  WorkDone counted{50, 2387743, 0};
  EXPECT_NEAR(absl::ToDoubleSeconds(huge.Cost(counted)), 49.9, 0.001);
  EXPECT_NEAR(absl::ToDoubleSeconds(huge.Scaled(0.01).Cost(counted)), 0.499, 0.0001);
}

TEST(PortalStatsTest, CountsRequestsCommandsCreatedAndResets) {
  PortalHarness h;
  h.Get(std::string(kHook) + "crm.lead.add?fields[TITLE]=x");
  h.Get(std::string(kHook) + "batch?cmd[a]=crm.lead.add&cmd[b]=crm.lead.add&cmd[c]=nope");
  json stats = h.portal().StatsJson();
  EXPECT_EQ(stats["requests"], 2);
  EXPECT_EQ(stats["commands"], 3);
  EXPECT_EQ(stats["batches"], 1);
  EXPECT_EQ(stats["created"]["crm.lead"], 3);
  EXPECT_EQ(stats["errors"]["ERROR_METHOD_NOT_FOUND"], 1);
  EXPECT_TRUE(stats["operating"].contains("crm.lead.add"));
  h.portal().Reset();
  stats = h.portal().StatsJson();
  EXPECT_EQ(stats["requests"], 0);
  EXPECT_EQ(stats["commands"], 0);
  EXPECT_EQ(stats["errors"], json::object());
  EXPECT_EQ(stats["peak_bucket_level"], 0.0);
}

// Faults that the portal decides (the HTTP side is in server_test).
TEST(PortalFaultTest, CountedFaultsHitExactlyTheNextRequests) {
  PortalHarness h;
  ASSERT_TRUE(h.portal().SetFaults("500=@2").ok());
  const std::string url = std::string(kHook) + "crm.lead.add";
  HttpReply r = h.Get(url);
  EXPECT_EQ(r.status, 500);
  EXPECT_EQ(PortalHarness::Json(r)["error"], "INTERNAL_SERVER_ERROR");
  EXPECT_EQ(h.Get(url).status, 500);
  EXPECT_EQ(h.Get(url).status, 200);
  // 500 comes after executing: all three adds happened.
  const json stats = h.portal().StatsJson();
  EXPECT_EQ(stats["created"]["crm.lead"], 3);
  EXPECT_EQ(stats["faults_injected"]["500"], 2);
}

TEST(PortalFaultTest, PreExecutionFaultsDoNotExecute) {
  PortalHarness h;
  ASSERT_TRUE(h.portal().SetFaults("502=@1,overload=@1,redirect=@1").ok());
  const std::string url = std::string(kHook) + "crm.lead.add?x=1";
  HttpReply r = h.Get(url);
  EXPECT_EQ(r.status, 502);
  EXPECT_EQ(r.content_type, "text/html");
  EXPECT_EQ(r.body.find('{'), std::string::npos);
  r = h.Get(url);
  EXPECT_EQ(r.status, 503);
  EXPECT_EQ(PortalHarness::Json(r)["error"], "OVERLOAD_LIMIT");
  r = h.Get(url);
  EXPECT_EQ(r.status, 302);
  ASSERT_EQ(r.headers.size(), 1u);
  EXPECT_EQ(r.headers[0].second, "http://localhost:8080/rest/1/secret/crm.lead.add?x=1");
  EXPECT_EQ(h.methods().calls(), 0);
}

TEST(PortalFaultTest, PostExecutionFaults) {
  PortalConfig config = TestConfig();
  config.fault_delay = absl::Seconds(65);
  PortalHarness h(config);
  ASSERT_TRUE(h.portal().SetFaults("504=@1,reset=@1,delay=@1").ok());
  const std::string url = std::string(kHook) + "crm.lead.add";
  HttpReply r = h.Get(url);
  EXPECT_EQ(r.status, 504);
  EXPECT_EQ(r.content_type, "text/html");
  r = h.Get(url);
  EXPECT_TRUE(r.drop_connection);
  r = h.Get(url);
  EXPECT_EQ(r.status, 200);
  EXPECT_EQ(r.delay, absl::Seconds(65));
  EXPECT_EQ(h.methods().calls(), 3);
}

TEST(PortalFaultTest, MethodRestriction) {
  PortalHarness h;
  ASSERT_TRUE(h.portal().SetFaults("500=1,method=crm.lead.add").ok());
  EXPECT_EQ(h.Get(std::string(kHook) + "echo").status, 200);
  EXPECT_EQ(h.Get(std::string(kHook) + "crm.lead.add").status, 500);
}

}  // namespace
}  // namespace b24emu::portal_test
