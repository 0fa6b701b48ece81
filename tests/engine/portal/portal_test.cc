// The portal dispatcher against a hand-answered transport: packing, and the
// retry rules (not executed → repeat; outcome unknown → repeat reads only;
// final → return).
#include "engine/portal/portal.h"

#include <gtest/gtest.h>

#include "absl/strings/match.h"
#include "absl/synchronization/notification.h"
#include "engine/common/errors.h"
#include "tests/engine/fake_transport.h"

namespace b24gate {
namespace {

// Collects one call's outcome.
struct Outcome {
  absl::Notification done;
  absl::StatusOr<CallReply> reply = absl::UnknownError("not called");
  CallCallback Callback() {
    return [this](absl::StatusOr<CallReply> r) {
      reply = std::move(r);
      done.Notify();
    };
  }
  bool Wait() { return done.WaitForNotificationWithTimeout(absl::Seconds(5)); }
};

PortalOptions Options() {
  PortalOptions o;
  o.webhook_url = "https://portal.example/rest/1/secret/";
  o.bucket = BucketPolicy{1000, 1000, 0};
  o.linger = absl::Milliseconds(50);
  o.backoff = BackoffPolicy{absl::Milliseconds(1), absl::Milliseconds(5), 2};
  return o;
}

TEST(Portal, ALoneCallGoesAsAPlainJsonRequest) {
  FakeTransport transport;
  Portal portal(Options(), &transport, Clock::Real());
  Outcome out;
  portal.Call("crm.lead.get", {{"id", 7}}, false, {}, out.Callback());
  auto e = transport.Next();
  ASSERT_TRUE(e);
  EXPECT_EQ(e->request.url, "https://portal.example/rest/1/secret/crm.lead.get");
  EXPECT_EQ(nlohmann::ordered_json::parse(e->request.body), nlohmann::ordered_json({{"id", 7}}));
  e->done(FakeTransport::Json(200, R"({"result":{"ID":"7"},"time":{"operating":0.1}})"));
  ASSERT_TRUE(out.Wait());
  ASSERT_TRUE(out.reply.ok()) << out.reply.status();
  EXPECT_EQ(out.reply->result["ID"], "7");
}

TEST(Portal, CallsArrivingTogetherShareOneBatch) {
  FakeTransport transport;
  Portal portal(Options(), &transport, Clock::Real());
  Outcome outs[3];
  for (int i = 0; i < 3; ++i) portal.Call("crm.lead.get", {{"id", i}}, false, {}, outs[i].Callback());
  auto e = transport.Next();
  ASSERT_TRUE(e);
  EXPECT_TRUE(absl::EndsWith(e->request.url, "/batch"));
  auto body = nlohmann::ordered_json::parse(e->request.body);
  EXPECT_EQ(body["cmd"]["c0"], "crm.lead.get?id=0");
  EXPECT_EQ(body["cmd"]["c2"], "crm.lead.get?id=2");
  e->done(FakeTransport::Json(
      200, R"({"result":{"result":{"c0":{"ID":"0"},"c2":{"ID":"2"}},
               "result_error":{"c1":{"error":"","error_description":"Not found"}},
               "result_total":[],"result_next":[],"result_time":[]},"time":{}})"));
  for (auto& o : outs) ASSERT_TRUE(o.Wait());
  EXPECT_EQ(outs[0].reply->result["ID"], "0");
  EXPECT_EQ(outs[1].reply.status().code(), absl::StatusCode::kNotFound);
  EXPECT_EQ(outs[2].reply->result["ID"], "2");
  EXPECT_EQ(transport.sent(), 1);
}

TEST(Portal, NullParamsTravelAloneAsJson) {
  FakeTransport transport;
  Portal portal(Options(), &transport, Clock::Real());
  Outcome a, b;
  portal.Call("crm.lead.update", {{"id", 1}, {"fields", {{"DESCRIPTION", nullptr}}}}, false, {},
              a.Callback());
  portal.Call("crm.lead.get", {{"id", 1}}, false, {}, b.Callback());
  auto first = transport.Next();
  ASSERT_TRUE(first);
  EXPECT_TRUE(absl::EndsWith(first->request.url, "/crm.lead.update"));
  EXPECT_EQ(nlohmann::ordered_json::parse(first->request.body)["fields"]["DESCRIPTION"], nullptr);
  first->done(FakeTransport::Json(200, R"({"result":true})"));
  auto second = transport.Next();
  ASSERT_TRUE(second);
  second->done(FakeTransport::Json(200, R"({"result":{"ID":"1"}})"));
  ASSERT_TRUE(a.Wait());
  ASSERT_TRUE(b.Wait());
  EXPECT_TRUE(a.reply.ok());
}

TEST(Portal, RateLimitedRequestIsRepeated) {
  FakeTransport transport;
  Portal portal(Options(), &transport, Clock::Real());
  Outcome out;
  portal.Call("crm.lead.add", {{"fields", {{"TITLE", "x"}}}}, false, {}, out.Callback());
  auto e = transport.Next();
  ASSERT_TRUE(e);
  e->done(FakeTransport::Json(
      503, R"({"error":"QUERY_LIMIT_EXCEEDED","error_description":"Too many requests"})"));
  auto again = transport.Next();
  ASSERT_TRUE(again) << "a 503 was not executed: the write must be repeated";
  again->done(FakeTransport::Json(200, R"({"result":42})"));
  ASSERT_TRUE(out.Wait());
  ASSERT_TRUE(out.reply.ok());
  EXPECT_EQ(out.reply->result, 42);
  EXPECT_EQ(portal.Stats().rate_limited, 1);
}

TEST(Portal, WriteWithUnknownOutcomeIsNeverRepeated) {
  for (auto response : {FakeTransport::Json(500, R"({"error":"INTERNAL_SERVER_ERROR","error_description":"x"})"),
                        FakeTransport::Failure(TransportFailure::kAfterSend),
                        FakeTransport::Json(504, "<html>Gateway Timeout</html>")}) {
    FakeTransport transport;
    Portal portal(Options(), &transport, Clock::Real());
    Outcome out;
    portal.Call("crm.deal.add", {{"fields", {{"TITLE", "x"}}}}, false, {}, out.Callback());
    auto e = transport.Next();
    ASSERT_TRUE(e);
    e->done(response);
    ASSERT_TRUE(out.Wait());
    EXPECT_EQ(out.reply.status().code(), absl::StatusCode::kUnavailable);
    EXPECT_EQ(ReasonOf(out.reply.status()), kReasonOutcomeUnknown);
    EXPECT_FALSE(transport.Next(absl::Milliseconds(100))) << "the write was sent again";
    EXPECT_EQ(transport.sent(), 1);
  }
}

TEST(Portal, ReadWithUnknownOutcomeIsRepeated) {
  FakeTransport transport;
  Portal portal(Options(), &transport, Clock::Real());
  Outcome out;
  portal.Call("crm.deal.list", nlohmann::ordered_json::object(), false, {}, out.Callback());
  auto e = transport.Next();
  ASSERT_TRUE(e);
  e->done(FakeTransport::Failure(TransportFailure::kAfterSend));
  auto again = transport.Next();
  ASSERT_TRUE(again);
  again->done(FakeTransport::Json(200, R"({"result":[],"total":0})"));
  ASSERT_TRUE(out.Wait());
  EXPECT_TRUE(out.reply.ok());
}

TEST(Portal, IdempotentFlagMakesAWriteRepeatable) {
  FakeTransport transport;
  Portal portal(Options(), &transport, Clock::Real());
  Outcome out;
  CallOptions o;
  o.idempotent = true;
  portal.Call("crm.deal.update", {{"id", 1}, {"fields", {{"TITLE", "t"}}}}, false, o,
              out.Callback());
  transport.Next()->done(FakeTransport::Failure(TransportFailure::kAfterSend));
  auto again = transport.Next();
  ASSERT_TRUE(again);
  again->done(FakeTransport::Json(200, R"({"result":true})"));
  ASSERT_TRUE(out.Wait());
  EXPECT_TRUE(out.reply.ok());
}

TEST(Portal, NotSentWriteIsRepeated) {
  FakeTransport transport;
  Portal portal(Options(), &transport, Clock::Real());
  Outcome out;
  portal.Call("crm.deal.add", {{"fields", {{"TITLE", "x"}}}}, false, {}, out.Callback());
  transport.Next()->done(FakeTransport::Failure(TransportFailure::kNotSent));
  auto again = transport.Next();
  ASSERT_TRUE(again);
  again->done(FakeTransport::Json(200, R"({"result":5})"));
  ASSERT_TRUE(out.Wait());
  EXPECT_TRUE(out.reply.ok());
}

TEST(Portal, FinalErrorsReturnAtOnce) {
  FakeTransport transport;
  Portal portal(Options(), &transport, Clock::Real());
  Outcome out;
  portal.Call("crm.deal.add", nlohmann::ordered_json::object(), false, {}, out.Callback());
  transport.Next()->done(FakeTransport::Json(
      401, R"({"error":"INVALID_CREDENTIALS","error_description":"Invalid request credentials"})"));
  ASSERT_TRUE(out.Wait());
  EXPECT_EQ(out.reply.status().code(), absl::StatusCode::kUnauthenticated);
  EXPECT_EQ(ReasonOf(out.reply.status()), "INVALID_CREDENTIALS");
  EXPECT_FALSE(transport.Next(absl::Milliseconds(100)));
}

TEST(Portal, ErrorInA200BodyIsAnError) {
  FakeTransport transport;
  Portal portal(Options(), &transport, Clock::Real());
  Outcome out;
  portal.Call("crm.lead.get", {{"id", 1}}, false, {}, out.Callback());
  transport.Next()->done(
      FakeTransport::Json(200, R"({"error":"ACCESS_DENIED","error_description":"Access denied."})"));
  ASSERT_TRUE(out.Wait());
  EXPECT_EQ(out.reply.status().code(), absl::StatusCode::kPermissionDenied);
}

TEST(Portal, ExpiredDeadlineIsNotSent) {
  FakeTransport transport;
  Portal portal(Options(), &transport, Clock::Real());
  Outcome out;
  CallOptions o;
  o.deadline = absl::Now() - absl::Seconds(1);
  portal.Call("crm.lead.get", {{"id", 1}}, false, o, out.Callback());
  ASSERT_TRUE(out.Wait());
  EXPECT_EQ(out.reply.status().code(), absl::StatusCode::kDeadlineExceeded);
  EXPECT_EQ(transport.sent(), 0);
}

TEST(Portal, CancelledCallIsNotSent) {
  FakeTransport transport;
  PortalOptions options = Options();
  options.max_concurrency = 1;
  Portal portal(options, &transport, Clock::Real());
  Outcome blocker, cancelled;
  portal.Call("crm.lead.list", nlohmann::ordered_json::object(), true, {}, blocker.Callback());
  auto first = transport.Next();  // occupies the only slot
  ASSERT_TRUE(first);
  CallOptions o;
  o.cancel = std::make_shared<CancelToken>();
  portal.Call("crm.lead.get", {{"id", 1}}, false, o, cancelled.Callback());
  o.cancel->Cancel();
  ASSERT_TRUE(cancelled.Wait());
  EXPECT_EQ(cancelled.reply.status().code(), absl::StatusCode::kCancelled);
  first->done(FakeTransport::Json(200, R"({"result":[]})"));
  ASSERT_TRUE(blocker.Wait());
  EXPECT_EQ(transport.sent(), 1);
}

TEST(Portal, OperatingLimitParksOnlyThatMethod) {
  FakeTransport transport;
  PortalOptions options = Options();
  options.linger = absl::ZeroDuration();
  Portal portal(options, &transport, Clock::Real());
  Outcome a;
  portal.Call("crm.deal.list", nlohmann::ordered_json::object(), true, {}, a.Callback());
  double reset = absl::ToUnixMicros(absl::Now() + absl::Seconds(30)) / 1e6;
  transport.Next()->done(FakeTransport::Json(
      200, nlohmann::ordered_json({{"result", nlohmann::ordered_json::array()},
                           {"time", {{"operating", 470}, {"operating_reset_at", reset}}}})
               .dump()));
  ASSERT_TRUE(a.Wait());
  Outcome parked, other;
  portal.Call("crm.deal.list", nlohmann::ordered_json::object(), true, {}, parked.Callback());
  portal.Call("crm.lead.list", nlohmann::ordered_json::object(), true, {}, other.Callback());
  auto e = transport.Next();
  ASSERT_TRUE(e);
  EXPECT_TRUE(absl::EndsWith(e->request.url, "/crm.lead.list")) << "the parked method went first";
  e->done(FakeTransport::Json(200, R"({"result":[]})"));
  ASSERT_TRUE(other.Wait());
  EXPECT_FALSE(transport.Next(absl::Milliseconds(200))) << "crm.deal.list was sent while parked";
  EXPECT_EQ(portal.Stats().queued, 1);
}

TEST(Portal, BudgetReportsBucketAndOperatingTimeLeft) {
  FakeClock clock;
  FakeTransport transport;
  PortalOptions options = Options();
  options.bucket = BucketPolicy{50, 2, 1};
  Portal portal(options, &transport, &clock);
  PortalBudget fresh = portal.Budget("crm.deal.list");
  EXPECT_EQ(fresh.bucket_level, 0);
  EXPECT_EQ(fresh.bucket_usable, 49);
  EXPECT_EQ(fresh.drain_per_second, 2);
  EXPECT_EQ(fresh.requests_free_now, 49);
  EXPECT_EQ(fresh.max_in_flight, 8);
  EXPECT_EQ(fresh.operating_left, absl::Seconds(420));
  EXPECT_EQ(fresh.paused_until, absl::InfinitePast());

  Outcome out;
  portal.Call("crm.deal.list", nlohmann::ordered_json::object(), true, {}, out.Callback());
  auto e = transport.Next();
  ASSERT_TRUE(e);
  EXPECT_EQ(portal.Budget("crm.deal.list").in_flight, 1);
  absl::Time reset = clock.Now() + absl::Seconds(30);
  e->done(FakeTransport::Json(
      200, nlohmann::ordered_json({{"result", nlohmann::ordered_json::array()},
                                   {"time",
                                    {{"operating", 400},
                                     {"operating_reset_at", absl::ToUnixMicros(reset) / 1e6}}}})
               .dump()));
  ASSERT_TRUE(out.Wait());
  PortalBudget after = portal.Budget("CRM.DEAL.LIST");
  EXPECT_EQ(after.bucket_level, 1);
  EXPECT_EQ(after.requests_free_now, 48);
  EXPECT_EQ(after.in_flight, 0);
  EXPECT_EQ(after.operating_used, absl::Seconds(400));
  EXPECT_EQ(after.operating_left, absl::Seconds(20));
  EXPECT_EQ(after.paused_until, absl::InfinitePast());
  EXPECT_EQ(portal.Budget("crm.lead.list").operating_left, absl::Seconds(420))
      << "another method's window is its own";
  clock.Advance(absl::Seconds(0.5));
  EXPECT_DOUBLE_EQ(portal.Budget("crm.deal.list").bucket_level, 0);
}

}  // namespace
}  // namespace b24gate
