// The dispatcher on both sides of its time boundaries, with a fake clock: a
// call parked by the operating limit or waiting after a 503 is sent at its
// slot, and fails with DEADLINE_EXCEEDED (never sent) once its deadline
// passes first; a portal that charges batches to `batch` parks batching, not
// the callers' methods.
//
// "Not yet" is checked without sleeping: once the dispatcher is idle (blocked
// on the fake clock with nothing else to wake it), what it has not sent it
// will not send until the clock moves.
#include <gtest/gtest.h>

#include "absl/strings/match.h"
#include "absl/synchronization/notification.h"
#include "engine/common/errors.h"
#include "engine/portal/portal.h"
#include "tests/engine/fake_transport.h"
#include "tests/engine/portal/portal_harness.h"

namespace b24gate::portal_limits_test {
namespace {

const nlohmann::ordered_json kNoParams = nlohmann::ordered_json::object();

PortalOptions Options() {
  PortalOptions o = QuickPortalOptions();
  o.operating = OperatingPolicy{absl::Seconds(480), absl::Seconds(600), absl::Seconds(60)};
  o.autothrottle.enabled = false;  // exact slots; the autothrottle has its own tests
  return o;
}

HttpResponse EmptyList(double operating, absl::Time reset_at) {
  return ResultAnswer(nlohmann::ordered_json::array(), OperatingTime(operating, reset_at));
}

// Answers one crm.deal.list call so that the method is paused until `reset`.
void PauseDealList(PortalHarness& h, absl::Time reset) {
  Outcome first;
  h.portal->Call("crm.deal.list", kNoParams, true, {}, first.Callback());
  auto e = h.transport.Next();
  ASSERT_TRUE(e);
  e->done(EmptyList(/*operating=*/470, reset));
  ASSERT_TRUE(first.Wait());
  ASSERT_TRUE(first.reply.ok()) << first.reply.status();
}

TEST(PortalLimits, ParkedCallIsSentAtTheResetNotBefore) {
  PortalHarness h(Options());
  FakeClock& clock = h.clock;
  FakeTransport& transport = h.transport;
  Portal& portal = *h.portal;
  const absl::Time reset = clock.Now() + absl::Seconds(30);
  PauseDealList(h, reset);

  Outcome parked;
  CallOptions o;
  o.deadline = reset + absl::Seconds(10);
  portal.Call("crm.deal.list", kNoParams, true, o, parked.Callback());
  clock.Set(reset - absl::Microseconds(1));
  ASSERT_TRUE(h.Idle());
  EXPECT_EQ(transport.sent(), 1) << "sent before the reset";
  clock.Set(reset);
  auto e = transport.Next();
  ASSERT_TRUE(e) << "not sent at the reset";
  e->done(EmptyList(10, reset + absl::Seconds(60)));
  ASSERT_TRUE(parked.Wait());
  EXPECT_TRUE(parked.reply.ok()) << parked.reply.status();
}

TEST(PortalLimits, ParkedCallFailsAtItsDeadlineWithoutBeingSent) {
  PortalHarness h(Options());
  FakeClock& clock = h.clock;
  FakeTransport& transport = h.transport;
  Portal& portal = *h.portal;
  const absl::Time reset = clock.Now() + absl::Seconds(30);
  PauseDealList(h, reset);

  Outcome parked;
  CallOptions o;
  o.deadline = clock.Now() + absl::Seconds(10);  // before the reset
  portal.Call("crm.deal.list", kNoParams, true, o, parked.Callback());
  clock.Set(o.deadline - absl::Microseconds(1));
  ASSERT_TRUE(h.Idle());
  EXPECT_EQ(parked.answers(), 0) << "failed before its deadline";
  clock.Set(o.deadline);
  ASSERT_TRUE(parked.Wait());
  EXPECT_EQ(parked.reply.status().code(), absl::StatusCode::kDeadlineExceeded);
  EXPECT_EQ(ReasonOf(parked.reply.status()), kReasonDeadline);
  EXPECT_EQ(transport.sent(), 1) << "only the first call went out";
}

TEST(PortalLimits, RateLimitedCallIsRepeatedWhenItsDeadlineAllows) {
  PortalHarness h(Options());
  FakeClock& clock = h.clock;
  FakeTransport& transport = h.transport;
  Portal& portal = *h.portal;
  Outcome out;
  CallOptions o;
  o.deadline = clock.Now() + absl::Milliseconds(2);
  portal.Call("crm.lead.get", {{"id", 1}}, false, o, out.Callback());
  auto e = transport.Next();
  ASSERT_TRUE(e);
  e->done(ErrorAnswer(503, "QUERY_LIMIT_EXCEEDED", "Too many requests"));
  // The model is now full: the repeat waits one drain interval (1 ms).
  clock.Advance(absl::Milliseconds(1) - absl::Nanoseconds(1));
  ASSERT_TRUE(h.Idle());
  EXPECT_EQ(transport.sent(), 1) << "repeated into a full bucket";
  clock.Advance(absl::Nanoseconds(1));
  auto again = transport.Next();
  ASSERT_TRUE(again) << "not repeated within its deadline";
  again->done(ResultAnswer({{"ID", "1"}}));
  ASSERT_TRUE(out.Wait());
  EXPECT_TRUE(out.reply.ok()) << out.reply.status();
}

TEST(PortalLimits, RateLimitedCallFailsWhenItsDeadlineComesFirst) {
  PortalHarness h(Options());
  FakeClock& clock = h.clock;
  FakeTransport& transport = h.transport;
  Portal& portal = *h.portal;
  Outcome out;
  CallOptions o;
  o.deadline = clock.Now() + absl::Milliseconds(1);  // the slot after the 503
  portal.Call("crm.lead.get", {{"id", 1}}, false, o, out.Callback());
  auto e = transport.Next();
  ASSERT_TRUE(e);
  e->done(ErrorAnswer(503, "QUERY_LIMIT_EXCEEDED", "Too many requests"));
  clock.Advance(absl::Milliseconds(1) - absl::Nanoseconds(1));
  ASSERT_TRUE(h.Idle());
  EXPECT_EQ(out.answers(), 0) << "failed before its deadline";
  clock.Advance(absl::Nanoseconds(1));
  ASSERT_TRUE(out.Wait());
  EXPECT_EQ(out.reply.status().code(), absl::StatusCode::kDeadlineExceeded);
  EXPECT_TRUE(absl::StrContains(out.reply.status().message(), "Too many requests"))
      << out.reply.status();
  EXPECT_EQ(transport.sent(), 1);
}

TEST(PortalLimits, BatchChargedToBatchParksBatchingNotTheMethods) {
  // A portal in "batch" accounting refuses a whole batch with 429: the calls
  // are repeated one by one (charged to their own methods), not parked.
  PortalOptions options = Options();
  options.max_concurrency = 1;
  PortalHarness h(options);
  FakeClock& clock = h.clock;
  FakeTransport& transport = h.transport;
  Portal& portal = *h.portal;
  Outcome blocker;
  portal.Call("crm.deal.list", kNoParams, true, {}, blocker.Callback());
  auto first = transport.Next();  // holds the only slot while the others queue
  ASSERT_TRUE(first);
  Outcome outs[3];
  for (int i = 0; i < 3; ++i) portal.Call("crm.lead.get", {{"id", i}}, false, {}, outs[i].Callback());
  first->done(ResultAnswer(nlohmann::ordered_json::array()));
  ASSERT_TRUE(blocker.Wait());
  clock.Advance(absl::Milliseconds(1));  // the coalescing hold (one request in the bucket)
  auto batch = transport.Next();
  ASSERT_TRUE(batch);
  ASSERT_TRUE(absl::EndsWith(batch->request.url, "/batch"));
  batch->done(ErrorAnswer(429, "OPERATION_TIME_LIMIT",
                          "Method is blocked due to operation time limit."));
  for (int i = 0; i < 3; ++i) {
    auto e = transport.Next();
    ASSERT_TRUE(e) << "call " << i << " was parked";
    EXPECT_TRUE(absl::EndsWith(e->request.url, "/crm.lead.get")) << e->request.url;
    e->done(ResultAnswer({{"ID", "1"}}));
  }
  for (auto& out : outs) {
    ASSERT_TRUE(out.Wait());
    EXPECT_TRUE(out.reply.ok()) << out.reply.status();
  }
}

TEST(PortalLimits, PreformedBatchWaitsWhileBatchIsNearItsLimit) {
  absl::Notification batch_done;  // before the portal, which may answer while it is destroyed
  PortalOptions options = Options();
  options.max_concurrency = 1;
  PortalHarness h(options);
  FakeClock& clock = h.clock;
  FakeTransport& transport = h.transport;
  Portal& portal = *h.portal;
  const absl::Time reset = clock.Now() + absl::Seconds(20);
  // A coalesced batch whose answer reports `batch` at 470 of 480 s.
  Outcome blocker;
  portal.Call("crm.deal.list", kNoParams, true, {}, blocker.Callback());
  auto first = transport.Next();
  ASSERT_TRUE(first);
  Outcome a, b;
  portal.Call("crm.lead.get", {{"id", 1}}, false, {}, a.Callback());
  portal.Call("crm.lead.get", {{"id", 2}}, false, {}, b.Callback());
  first->done(ResultAnswer(nlohmann::ordered_json::array()));
  clock.Advance(absl::Milliseconds(1));  // the coalescing hold (one request in the bucket)
  auto batch = transport.Next();
  ASSERT_TRUE(batch);
  ASSERT_TRUE(absl::EndsWith(batch->request.url, "/batch"));
  batch->done(BatchAnswerBuilder()
                  .Result("c0", {{"ID", "1"}})
                  .Result("c1", {{"ID", "2"}})
                  .Time(OperatingTime(470, reset))
                  .Response());
  ASSERT_TRUE(a.Wait());
  ASSERT_TRUE(b.Wait());

  portal.Batch({{"x", "crm.lead.list", nlohmann::ordered_json::object()}}, false, {},
               [&](absl::StatusOr<BatchResult>) { batch_done.Notify(); });
  clock.Set(reset - absl::Microseconds(1));
  ASSERT_TRUE(h.Idle());
  EXPECT_EQ(transport.sent(), 2) << "a batch was sent while `batch` was paused";
  clock.Set(reset);
  auto e = transport.Next();
  ASSERT_TRUE(e);
  EXPECT_TRUE(absl::EndsWith(e->request.url, "/batch"));
  e->done(BatchAnswerBuilder()
              .Result("x", nlohmann::ordered_json::array())
              .Time({{"operating", 0}})
              .Response());
  EXPECT_TRUE(batch_done.WaitForNotificationWithTimeout(absl::Seconds(5)));
}

// Operating time predicted before sending.

PortalOptions SmallWindow() {
  PortalOptions o = Options();
  // 9 s usable per method: limit 10 s, margin 1 s.
  o.operating = OperatingPolicy{absl::Seconds(10), absl::Seconds(60), absl::Seconds(1)};
  return o;
}

nlohmann::ordered_json Spent(double processing, double operating, absl::Time reset_at) {
  nlohmann::ordered_json t = OperatingTime(operating, reset_at);
  t["processing"] = processing;
  return t;
}

TEST(PortalLimits, BatchesAreSizedToTheOperatingTimeLeft) {
  // A linger, and the 20 calls below queued while the first is in flight
  // (company expected), so they all wait for one another before a batch is
  // formed (on an idle portal the first would go alone at once, while the
  // test is still queueing the rest).
  PortalOptions options = SmallWindow();
  options.linger = absl::Milliseconds(10);
  PortalHarness h(options);
  const absl::Time reset = h.clock.Now() + absl::Seconds(30);
  Outcome first;
  h.portal->Call("crm.lead.get", {{"id", 0}}, false, {}, first.Callback());
  auto e = h.transport.Next();
  ASSERT_TRUE(e);
  Outcome outs[20];
  for (int i = 0; i < 20; ++i) {
    h.portal->Call("crm.lead.get", {{"id", i + 1}}, false, {}, outs[i].Callback());
  }
  // One command reports 1 s of processing: 1 s used, 8 s left.
  e->done(ResultAnswer({{"ID", "0"}}, Spent(1, 1, reset)));
  ASSERT_TRUE(first.Wait());
  EXPECT_EQ(h.portal->Budget("crm.lead.get").command_cost, absl::Seconds(1));
  ASSERT_TRUE(h.Idle());
  EXPECT_EQ(h.transport.sent(), 1) << "sent before the linger ended";
  h.clock.Advance(absl::Seconds(1));  // past the linger and any coalescing hold
  auto batch = h.transport.Next();
  ASSERT_TRUE(batch);
  auto cmd = nlohmann::ordered_json::parse(batch->request.body)["cmd"];
  EXPECT_EQ(cmd.size(), 8u) << "8 commands of 1 s fit in the 8 s left";
  EXPECT_EQ(h.portal->Budget("crm.lead.get").operating_left, absl::ZeroDuration());
  ASSERT_TRUE(h.Idle());
  EXPECT_EQ(h.transport.sent(), 2) << "more was sent than the window holds";

  BatchAnswerBuilder answer;
  for (int i = 0; i < 8; ++i) {
    answer.Result("c" + std::to_string(i), {{"ID", i + 1}}, Spent(1, 2 + i, reset));
  }
  batch->done(answer.Response());
  for (int i = 0; i < 8; ++i) ASSERT_TRUE(outs[i].Wait());
  // 9 s used: the method waits for its window, then the rest goes.
  h.clock.Set(reset - absl::Microseconds(1));
  ASSERT_TRUE(h.Idle());
  EXPECT_EQ(h.transport.sent(), 2) << "sent before the window freed";
  h.clock.Set(reset);
  auto rest = h.transport.Next();
  ASSERT_TRUE(rest);
  EXPECT_GE(nlohmann::ordered_json::parse(rest->request.body)["cmd"].size(), 1u);
}

TEST(PortalLimits, RefusedSubCommandsOfABatchAreSentAgainNotFailed) {
  // Declared before the portal, which may answer while it is destroyed.
  absl::Notification done;
  absl::StatusOr<BatchResult> result = absl::UnknownError("not answered");
  PortalHarness h(Options());
  h.portal->Batch({{"a", "crm.lead.list", kNoParams},
                   {"b", "crm.deal.list", kNoParams},
                   {"c", "crm.lead.list", {{"start", 50}}}},
                  /*halt=*/false, {}, [&](absl::StatusOr<BatchResult> r) {
                    result = std::move(r);
                    done.Notify();
                  });
  auto e = h.transport.Next();
  ASSERT_TRUE(e);
  e->done(BatchAnswerBuilder()
              .Result("a", nlohmann::ordered_json::array())
              .Error("b", "OPERATION_TIME_LIMIT", "Method is blocked due to operation time limit.")
              .Result("c", nlohmann::ordered_json::array())
              .Response());
  ASSERT_TRUE(h.Idle());
  EXPECT_FALSE(done.HasBeenNotified()) << "the refusal reached the caller";
  h.clock.Advance(absl::Minutes(10));  // the method's window frees
  auto again = h.transport.Next();
  ASSERT_TRUE(again);
  auto cmd = nlohmann::ordered_json::parse(again->request.body)["cmd"];
  ASSERT_EQ(cmd.size(), 1u) << "only the refused command goes again";
  EXPECT_EQ(cmd.begin().key(), "b");
  again->done(BatchAnswerBuilder().Result("b", nlohmann::ordered_json::array()).Response());
  ASSERT_TRUE(done.WaitForNotificationWithTimeout(absl::Seconds(5)));
  ASSERT_TRUE(result.ok()) << result.status();
  ASSERT_EQ(result->outcomes.size(), 3u);
  for (const auto& [key, outcome] : result->outcomes) EXPECT_TRUE(outcome.ok()) << key;
  EXPECT_EQ(h.transport.sent(), 2);
}

// A write whose deadline leaves less time than the portal's answers
// typically take is not started: its caller learns for certain that it did
// not run. A read may still try.
TEST(PortalLimits, AWriteThatCannotFinishBeforeItsDeadlineIsNotSent) {
  PortalHarness h(Options());
  Outcome first;
  h.portal->Call("crm.lead.get", {{"id", 1}}, false, {}, first.Callback());
  auto e = h.transport.Next();
  ASSERT_TRUE(e);
  h.clock.Advance(absl::Milliseconds(100));  // the portal answers in 100 ms
  e->done(ResultAnswer({{"ID", "1"}}));
  ASSERT_TRUE(first.Wait());

  CallOptions o;
  o.deadline = h.clock.Now() + absl::Milliseconds(50);
  Outcome write;
  h.portal->Call("crm.lead.add", {{"fields", {{"TITLE", "x"}}}}, false, o, write.Callback());
  ASSERT_TRUE(write.Wait());
  EXPECT_EQ(write.reply.status().code(), absl::StatusCode::kDeadlineExceeded);
  EXPECT_EQ(ReasonOf(write.reply.status()), "NOT_EXECUTED") << write.reply.status();
  Outcome read;
  h.portal->Call("crm.lead.get", {{"id", 2}}, false, o, read.Callback());
  auto r = h.transport.Next();
  ASSERT_TRUE(r) << "a read may still try";
  EXPECT_TRUE(absl::EndsWith(r->request.url, "/crm.lead.get"));
  r->done(ResultAnswer({{"ID", "2"}}));
  ASSERT_TRUE(read.Wait());
  EXPECT_EQ(h.transport.sent(), 2) << "the write was sent";
}

// A write still on the wire when its caller's deadline passes is answered
// then, as DEADLINE_EXCEEDED with reason OUTCOME_UNKNOWN (it may have run);
// the late answer reaches nobody.
TEST(PortalLimits, AWriteOnTheWireAtItsDeadlineIsAnsweredOutcomeUnknown) {
  PortalHarness h(Options());
  CallOptions o;
  o.deadline = h.clock.Now() + absl::Seconds(1);
  Outcome write;
  h.portal->Call("crm.lead.add", {{"fields", {{"TITLE", "x"}}}}, false, o, write.Callback());
  auto e = h.transport.Next();
  ASSERT_TRUE(e);
  h.clock.Advance(absl::Seconds(1));
  ASSERT_TRUE(write.Wait());
  EXPECT_EQ(write.reply.status().code(), absl::StatusCode::kDeadlineExceeded);
  EXPECT_EQ(ReasonOf(write.reply.status()), "OUTCOME_UNKNOWN") << write.reply.status();
  EXPECT_EQ(h.portal->Stats().outcome_unknown, 1);
  EXPECT_EQ(h.portal->Stats().in_flight, 1) << "the request itself is still out";
  e->done(ResultAnswer(42));
  EXPECT_EQ(h.portal->Stats().in_flight, 0);
  EXPECT_EQ(write.answers(), 1);
}

}  // namespace
}  // namespace b24gate::portal_limits_test
