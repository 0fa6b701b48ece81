// The dispatcher on both sides of its time boundaries, with a fake clock: a
// call parked by the operating limit or waiting after a 503 is sent at its
// slot, and fails with DEADLINE_EXCEEDED (never sent) once its deadline
// passes first; a portal that charges batches to `batch` parks batching, not
// the callers' methods.
//
// The dispatcher thread re-reads the fake clock at least every 200 ms of real
// time, so "not yet" is checked by waiting a little longer than that.
#include <gtest/gtest.h>

#include "absl/strings/match.h"
#include "absl/synchronization/notification.h"
#include "engine/common/errors.h"
#include "engine/portal/portal.h"
#include "tests/engine/fake_transport.h"

namespace b24gate {
namespace {

// Longer than the dispatcher's longest sleep between looks at the clock.
const absl::Duration kSettle = absl::Milliseconds(400);

struct Outcome {
  absl::Notification done;
  absl::StatusOr<CallReply> reply = absl::UnknownError("not called");
  CallCallback Callback() {
    return [this](absl::StatusOr<CallReply> r) {
      reply = std::move(r);
      done.Notify();
    };
  }
  bool Wait(absl::Duration timeout = absl::Seconds(5)) {
    return done.WaitForNotificationWithTimeout(timeout);
  }
};

PortalOptions Options() {
  PortalOptions o;
  o.webhook_url = "https://portal.example/rest/1/secret/";
  o.bucket = BucketPolicy{1000, 1000, 0};
  o.linger = absl::ZeroDuration();  // the fake clock would never end a linger
  o.backoff = BackoffPolicy{absl::Milliseconds(1), absl::Milliseconds(5), 2};
  o.operating = OperatingPolicy{absl::Seconds(480), absl::Seconds(600), absl::Seconds(60)};
  o.autothrottle.enabled = false;  // exact slots; the autothrottle has its own tests
  return o;
}

std::string Body(double operating, absl::Time reset_at) {
  return nlohmann::ordered_json({{"result", nlohmann::ordered_json::array()},
                         {"time",
                          {{"operating", operating},
                           {"operating_reset_at", absl::ToUnixMicros(reset_at) / 1e6}}}})
      .dump();
}

// Answers one crm.deal.list call so that the method is paused until `reset`.
void PauseDealList(Portal& portal, FakeTransport& transport, absl::Time reset) {
  Outcome first;
  portal.Call("crm.deal.list", nlohmann::ordered_json::object(), true, {}, first.Callback());
  auto e = transport.Next();
  ASSERT_TRUE(e);
  e->done(FakeTransport::Json(200, Body(/*operating=*/470, reset)));
  ASSERT_TRUE(first.Wait());
  ASSERT_TRUE(first.reply.ok()) << first.reply.status();
}

TEST(PortalLimits, ParkedCallIsSentAtTheResetNotBefore) {
  FakeClock clock;
  FakeTransport transport;
  Portal portal(Options(), &transport, &clock);
  const absl::Time reset = clock.Now() + absl::Seconds(30);
  PauseDealList(portal, transport, reset);

  Outcome parked;
  CallOptions o;
  o.deadline = reset + absl::Seconds(10);
  portal.Call("crm.deal.list", nlohmann::ordered_json::object(), true, o, parked.Callback());
  clock.Set(reset - absl::Microseconds(1));
  EXPECT_FALSE(transport.Next(kSettle)) << "sent before the reset";
  clock.Set(reset);
  auto e = transport.Next();
  ASSERT_TRUE(e) << "not sent at the reset";
  e->done(FakeTransport::Json(200, Body(10, reset + absl::Seconds(60))));
  ASSERT_TRUE(parked.Wait());
  EXPECT_TRUE(parked.reply.ok()) << parked.reply.status();
}

TEST(PortalLimits, ParkedCallFailsAtItsDeadlineWithoutBeingSent) {
  FakeClock clock;
  FakeTransport transport;
  Portal portal(Options(), &transport, &clock);
  const absl::Time reset = clock.Now() + absl::Seconds(30);
  PauseDealList(portal, transport, reset);

  Outcome parked;
  CallOptions o;
  o.deadline = clock.Now() + absl::Seconds(10);  // before the reset
  portal.Call("crm.deal.list", nlohmann::ordered_json::object(), true, o, parked.Callback());
  clock.Set(o.deadline - absl::Microseconds(1));
  EXPECT_FALSE(parked.Wait(kSettle)) << "failed before its deadline";
  clock.Set(o.deadline);
  ASSERT_TRUE(parked.Wait());
  EXPECT_EQ(parked.reply.status().code(), absl::StatusCode::kDeadlineExceeded);
  EXPECT_EQ(ReasonOf(parked.reply.status()), kReasonDeadline);
  EXPECT_EQ(transport.sent(), 1) << "only the first call went out";
}

TEST(PortalLimits, RateLimitedCallIsRepeatedWhenItsDeadlineAllows) {
  FakeClock clock;
  FakeTransport transport;
  Portal portal(Options(), &transport, &clock);
  Outcome out;
  CallOptions o;
  o.deadline = clock.Now() + absl::Milliseconds(2);
  portal.Call("crm.lead.get", {{"id", 1}}, false, o, out.Callback());
  auto e = transport.Next();
  ASSERT_TRUE(e);
  e->done(FakeTransport::Json(
      503, R"({"error":"QUERY_LIMIT_EXCEEDED","error_description":"Too many requests"})"));
  // The model is now full: the repeat waits one drain interval (1 ms).
  EXPECT_FALSE(transport.Next(kSettle)) << "repeated into a full bucket";
  clock.Advance(absl::Milliseconds(1));
  auto again = transport.Next();
  ASSERT_TRUE(again) << "not repeated within its deadline";
  again->done(FakeTransport::Json(200, R"({"result":{"ID":"1"}})"));
  ASSERT_TRUE(out.Wait());
  EXPECT_TRUE(out.reply.ok()) << out.reply.status();
}

TEST(PortalLimits, RateLimitedCallFailsWhenItsDeadlineComesFirst) {
  FakeClock clock;
  FakeTransport transport;
  Portal portal(Options(), &transport, &clock);
  Outcome out;
  CallOptions o;
  o.deadline = clock.Now() + absl::Milliseconds(1);  // the slot after the 503
  portal.Call("crm.lead.get", {{"id", 1}}, false, o, out.Callback());
  auto e = transport.Next();
  ASSERT_TRUE(e);
  e->done(FakeTransport::Json(
      503, R"({"error":"QUERY_LIMIT_EXCEEDED","error_description":"Too many requests"})"));
  EXPECT_FALSE(out.Wait(kSettle));
  clock.Advance(absl::Milliseconds(1));
  ASSERT_TRUE(out.Wait());
  EXPECT_EQ(out.reply.status().code(), absl::StatusCode::kDeadlineExceeded);
  EXPECT_TRUE(absl::StrContains(out.reply.status().message(), "Too many requests"))
      << out.reply.status();
  EXPECT_EQ(transport.sent(), 1);
}

TEST(PortalLimits, BatchChargedToBatchParksBatchingNotTheMethods) {
  // A portal in "batch" accounting refuses a whole batch with 429: the calls
  // are repeated one by one (charged to their own methods), not parked.
  FakeClock clock;
  FakeTransport transport;
  PortalOptions options = Options();
  options.max_concurrency = 1;
  Portal portal(options, &transport, &clock);
  Outcome blocker;
  portal.Call("crm.deal.list", nlohmann::ordered_json::object(), true, {}, blocker.Callback());
  auto first = transport.Next();  // holds the only slot while the others queue
  ASSERT_TRUE(first);
  Outcome outs[3];
  for (int i = 0; i < 3; ++i) portal.Call("crm.lead.get", {{"id", i}}, false, {}, outs[i].Callback());
  first->done(FakeTransport::Json(200, R"({"result":[]})"));
  ASSERT_TRUE(blocker.Wait());
  auto batch = transport.Next();
  ASSERT_TRUE(batch);
  ASSERT_TRUE(absl::EndsWith(batch->request.url, "/batch"));
  batch->done(FakeTransport::Json(
      429, R"({"error":"OPERATION_TIME_LIMIT","error_description":"Method is blocked due to operation time limit."})"));
  for (int i = 0; i < 3; ++i) {
    auto e = transport.Next();
    ASSERT_TRUE(e) << "call " << i << " was parked";
    EXPECT_TRUE(absl::EndsWith(e->request.url, "/crm.lead.get")) << e->request.url;
    e->done(FakeTransport::Json(200, R"({"result":{"ID":"1"}})"));
  }
  for (auto& out : outs) {
    ASSERT_TRUE(out.Wait());
    EXPECT_TRUE(out.reply.ok()) << out.reply.status();
  }
}

TEST(PortalLimits, PreformedBatchWaitsWhileBatchIsNearItsLimit) {
  FakeClock clock;
  FakeTransport transport;
  PortalOptions options = Options();
  options.max_concurrency = 1;
  Portal portal(options, &transport, &clock);
  const absl::Time reset = clock.Now() + absl::Seconds(20);
  // A coalesced batch whose answer reports `batch` at 470 of 480 s.
  Outcome blocker;
  portal.Call("crm.deal.list", nlohmann::ordered_json::object(), true, {}, blocker.Callback());
  auto first = transport.Next();
  ASSERT_TRUE(first);
  Outcome a, b;
  portal.Call("crm.lead.get", {{"id", 1}}, false, {}, a.Callback());
  portal.Call("crm.lead.get", {{"id", 2}}, false, {}, b.Callback());
  first->done(FakeTransport::Json(200, R"({"result":[]})"));
  auto batch = transport.Next();
  ASSERT_TRUE(batch);
  ASSERT_TRUE(absl::EndsWith(batch->request.url, "/batch"));
  nlohmann::ordered_json answer = {
      {"result",
       {{"result", {{"c0", {{"ID", "1"}}}, {"c1", {{"ID", "2"}}}}},
        {"result_error", nlohmann::ordered_json::array()},
        {"result_total", nlohmann::ordered_json::array()},
        {"result_next", nlohmann::ordered_json::array()},
        {"result_time", nlohmann::ordered_json::array()}}},
      {"time", {{"operating", 470}, {"operating_reset_at", absl::ToUnixMicros(reset) / 1e6}}}};
  batch->done(FakeTransport::Json(200, answer.dump()));
  ASSERT_TRUE(a.Wait());
  ASSERT_TRUE(b.Wait());

  absl::Notification batch_done;
  portal.Batch({{"x", "crm.lead.list", nlohmann::ordered_json::object()}}, false, {},
               [&](absl::StatusOr<BatchResult>) { batch_done.Notify(); });
  clock.Set(reset - absl::Microseconds(1));
  EXPECT_FALSE(transport.Next(kSettle)) << "a batch was sent while `batch` was paused";
  clock.Set(reset);
  auto e = transport.Next();
  ASSERT_TRUE(e);
  EXPECT_TRUE(absl::EndsWith(e->request.url, "/batch"));
  e->done(FakeTransport::Json(
      200, R"({"result":{"result":{"x":[]},"result_error":[],"result_total":[],"result_next":[],"result_time":[]},"time":{"operating":0}})"));
  EXPECT_TRUE(batch_done.WaitForNotificationWithTimeout(absl::Seconds(5)));
}

}  // namespace
}  // namespace b24gate
