// The portal dispatcher against a hand-answered transport, on a fake clock:
// packing, coalescing, and the retry rules (not executed → repeat; outcome
// unknown → repeat reads only; final → return).
#include "engine/portal/portal.h"

#include <gtest/gtest.h>

#include <atomic>
#include <cmath>
#include <string>

#include "absl/strings/match.h"
#include "absl/synchronization/notification.h"
#include "engine/common/errors.h"
#include "tests/engine/fake_transport.h"
#include "tests/engine/portal/portal_harness.h"

namespace b24gate::portal_test {
namespace {

const nlohmann::ordered_json kNoParams = nlohmann::ordered_json::object();

PortalOptions Options() { return QuickPortalOptions(); }

// Longer than any backoff in Options(): a repeat, if any, is due by then.
const absl::Duration kPastBackoff = absl::Seconds(1);

TEST(Portal, ALoneCallGoesAsAPlainJsonRequest) {
  PortalHarness h(Options());
  Outcome out;
  h.portal->Call("crm.lead.get", {{"id", 7}}, false, {}, out.Callback());
  auto e = h.transport.Next();
  ASSERT_TRUE(e);
  EXPECT_EQ(e->request.url, "https://portal.example/rest/1/secret/crm.lead.get");
  EXPECT_EQ(nlohmann::ordered_json::parse(e->request.body), nlohmann::ordered_json({{"id", 7}}));
  e->done(ResultAnswer({{"ID", "7"}}, {{"operating", 0.1}}));
  ASSERT_TRUE(out.Wait());
  ASSERT_TRUE(out.reply.ok()) << out.reply.status();
  EXPECT_EQ(out.reply->result["ID"], "7");
}

// A hint that many requests will go at once opens connections up to the
// portal's max_concurrency (8 here), to its base URL's origin; a single
// request needs none opened ahead.
TEST(Portal, AWarmHintOpensUpToMaxConcurrencyConnections) {
  PortalHarness h(Options());
  h.portal->Warm(20);
  ASSERT_TRUE(h.Idle());
  h.portal->Warm(3);
  ASSERT_TRUE(h.Idle());
  h.portal->Warm(1);
  ASSERT_TRUE(h.Idle());
  std::vector<std::pair<std::string, int>> warms = h.transport.warms();
  ASSERT_EQ(warms.size(), 2u);
  EXPECT_EQ(warms[0], std::make_pair(std::string("https://portal.example/rest/1/secret/"), 8));
  EXPECT_EQ(warms[1].second, 3);
  EXPECT_EQ(h.transport.sent(), 0);  // no request of the portal's budget
}

// A list read queues its first request, then hints that more will follow:
// the request reaches the transport before the hint, so the transport's
// loop starts it before opening connections for the rest (and counts it
// among them), even when the request waits for a pool thread.
TEST(Portal, AWarmHintGoesAfterTheRequestQueuedBeforeIt) {
  PortalHarness h(Options());
  ASSERT_TRUE(h.Idle());
  absl::Notification holding, release;
  h.pool.Run([&] {
    holding.Notify();
    release.WaitForNotification();
  });
  holding.WaitForNotification();  // the pool's one thread is busy
  h.portal->Batch({{"b", "crm.lead.list", {{"order", {{"ID", "ASC"}}}}}}, false, {},
                  [](absl::StatusOr<BatchResult>) {});
  h.portal->Warm(8);
  EXPECT_TRUE(h.transport.warms().empty()) << "warmed before the request was sent";
  release.Notify();
  ASSERT_TRUE(h.transport.AwaitWaiting(1));
  ASSERT_TRUE(h.Idle());
  ASSERT_EQ(h.transport.warms().size(), 1u);
  EXPECT_EQ(h.transport.warms()[0].second, 8);
  EXPECT_EQ(h.transport.sent_before_warms(), std::vector<int>{1});
  h.transport.Close();
}

TEST(Portal, ACallOnAnIdlePortalCostsOneTurn) {
  // A turn is a hand-off to a pool thread (on a loaded machine, a wait for
  // a core): the call needs one, to be sent. Neither the empty queue after
  // the send nor the answer calls for another.
  PortalHarness h(Options());
  ASSERT_TRUE(h.Idle());
  const int64_t before = h.pool.turns();
  Outcome out;
  h.portal->Call("crm.lead.get", {{"id", 7}}, false, {}, out.Callback());
  auto e = h.transport.Next();
  ASSERT_TRUE(e);
  ASSERT_TRUE(h.Idle());
  EXPECT_EQ(h.pool.turns() - before, 1) << "turns before the answer";
  e->done(ResultAnswer({{"ID", "7"}}, {{"operating", 0.1}}));
  ASSERT_TRUE(out.Wait());
  ASSERT_TRUE(h.Idle());
  EXPECT_EQ(h.pool.turns() - before, 1) << "turns after the answer";
}

TEST(Portal, ACallLendingItsThreadIsSentBeforeCallReturns) {
  // A caller holding no lock lends its thread (the unary Call RPC): on an
  // idle portal the turn that sends runs on it, and no pool thread is woken.
  PortalHarness h(Options());
  ASSERT_TRUE(h.Idle());
  const int64_t before = h.pool.turns();
  Outcome out;
  CallOptions options;
  options.lend_thread = true;
  h.portal->Call("crm.lead.get", {{"id", 7}}, false, options, out.Callback());
  EXPECT_EQ(h.transport.sent(), 1) << "not sent when Call returned";
  auto e = h.transport.Next();
  ASSERT_TRUE(e);
  e->done(ResultAnswer({{"ID", "7"}}, {{"operating", 0.1}}));
  ASSERT_TRUE(out.Wait());
  ASSERT_TRUE(h.Idle());
  EXPECT_EQ(h.pool.turns() - before, 0) << "a pool thread took a turn";
}

TEST(Portal, ALingerDecidedOnALentThreadEndsOnTime) {
  // The lent turn decides to wait (a request in flight: the call lingers
  // for company) and leaves a timer with the pool, whose worker sleeps
  // until the timers it saw: it must see this one.
  PortalOptions options = Options();
  options.linger = absl::Milliseconds(50);
  PortalHarness h(options);
  Outcome blocker;
  h.portal->Call("crm.lead.list", kNoParams, /*as_json=*/true, {}, blocker.Callback());
  auto in_flight = h.transport.Next();
  ASSERT_TRUE(in_flight);
  ASSERT_TRUE(h.Idle());
  Outcome out;
  CallOptions lend;
  lend.lend_thread = true;
  h.portal->Call("crm.lead.get", {{"id", 1}}, false, lend, out.Callback());
  ASSERT_TRUE(h.Idle());
  EXPECT_EQ(h.transport.sent(), 1) << "sent before the linger ended";
  h.clock.Advance(absl::Milliseconds(50));
  auto e = h.transport.Next();
  ASSERT_TRUE(e) << "the linger's end was missed";
  e->done(ResultAnswer({{"ID", "1"}}));
  ASSERT_TRUE(out.Wait());
  in_flight->done(ResultAnswer(nlohmann::ordered_json::array()));
  ASSERT_TRUE(blocker.Wait());
}

TEST(Portal, ALargeAnswerIsHandledOffTheTransportsThread) {
  // A list batch's answer (170 KB, 5-10 ms to parse) handled on the
  // transport's single thread would hold up every other transfer, and
  // answers arriving together would be parsed one after another. Here the
  // caller's callback waits until the transport's done() has returned:
  // handled on the transport's thread, it would wait for itself.
  PortalHarness h(Options());
  absl::Notification transport_free;
  std::atomic<bool> saw_transport_free{false};
  std::atomic<int> answers{0};
  const std::string title(Portal::kParseOnPoolBytes, 'x');
  h.portal->Call("crm.lead.get", {{"id", 7}}, false, {}, [&](absl::StatusOr<CallReply> r) {
    saw_transport_free = transport_free.WaitForNotificationWithTimeout(absl::Seconds(5));
    if (r.ok() && (*r).result["TITLE"] == title) answers++;
  });
  auto e = h.transport.Next();
  ASSERT_TRUE(e);
  e->done(ResultAnswer({{"ID", "7"}, {"TITLE", title}}));
  transport_free.Notify();
  ASSERT_TRUE(h.Idle());
  EXPECT_TRUE(saw_transport_free.load()) << "the answer was handled on the transport's thread";
  EXPECT_EQ(answers.load(), 1);
}

TEST(Portal, ASmallAnswerForAHeavyCallbackIsHandledOffTheTransportsThread) {
  // A list read's one-page answer may release every page that waited for
  // it (tens of milliseconds of conversion for the stream): on the
  // transport's single thread that would hold up every other transfer. As
  // above, the caller's callback waits until the transport's done() has
  // returned: handled on the transport's thread, it would wait for itself.
  PortalHarness h(Options());
  absl::Notification transport_free;
  std::atomic<bool> saw_transport_free{false};
  std::atomic<int> answers{0};
  CallOptions heavy;
  heavy.heavy_callback = true;
  h.portal->Call("crm.lead.get", {{"id", 7}}, false, heavy, [&](absl::StatusOr<CallReply> r) {
    saw_transport_free = transport_free.WaitForNotificationWithTimeout(absl::Seconds(5));
    if (r.ok() && (*r).result["ID"] == "7") answers++;
  });
  auto e = h.transport.Next();
  ASSERT_TRUE(e);
  e->done(ResultAnswer({{"ID", "7"}}));
  transport_free.Notify();
  ASSERT_TRUE(h.Idle());
  EXPECT_TRUE(saw_transport_free.load()) << "the answer was handled on the transport's thread";
  EXPECT_EQ(answers.load(), 1);
}

TEST(Portal, ASmallAnswerIsHandledOnTheTransportsThread) {
  // A call's usual answer is handed to nobody: no pool thread is woken.
  PortalHarness h(Options());
  Outcome out;
  h.portal->Call("crm.lead.get", {{"id", 7}}, false, {}, out.Callback());
  auto e = h.transport.Next();
  ASSERT_TRUE(e);
  e->done(ResultAnswer({{"ID", "7"}}));
  EXPECT_EQ(out.answers(), 1) << "not answered when done() returned";
}

TEST(Portal, AWriteSentAsTheLastQueuedStillExpiresAtItsDeadline) {
  // No turn follows a send that emptied the queue, so the write's deadline
  // must be among the times the sending turn asks to look again at.
  PortalHarness h(Options());
  Outcome out;
  CallOptions options;
  options.deadline = h.clock.Now() + absl::Seconds(10);
  h.portal->Call("crm.lead.add", {{"fields", {{"TITLE", "x"}}}}, false, options,
                 out.Callback());
  auto e = h.transport.Next();
  ASSERT_TRUE(e);
  ASSERT_TRUE(h.Idle());
  h.clock.Advance(absl::Seconds(10));
  ASSERT_TRUE(out.Wait());
  EXPECT_EQ(out.reply.status().code(), absl::StatusCode::kDeadlineExceeded);
  e->done(ResultAnswer(1));
  EXPECT_EQ(out.answers(), 1);
}

TEST(Portal, CallsArrivingTogetherShareOneBatch) {
  PortalOptions options = Options();
  options.linger = absl::Milliseconds(50);
  PortalHarness h(options);
  // In flight: its caller may send more, so a partial batch lingers.
  Outcome blocker;
  h.portal->Call("crm.lead.list", kNoParams, /*as_json=*/true, {}, blocker.Callback());
  auto in_flight = h.transport.Next();
  ASSERT_TRUE(in_flight);
  Outcome outs[3];
  for (int i = 0; i < 3; ++i) {
    h.portal->Call("crm.lead.get", {{"id", i}}, false, {}, outs[i].Callback());
  }
  ASSERT_TRUE(h.Idle());
  EXPECT_EQ(h.transport.sent(), 1) << "sent before the linger ended";
  h.clock.Advance(absl::Milliseconds(50));
  auto e = h.transport.Next();
  ASSERT_TRUE(e);
  EXPECT_TRUE(absl::EndsWith(e->request.url, "/batch"));
  auto body = nlohmann::ordered_json::parse(e->request.body);
  EXPECT_EQ(body["cmd"]["c0"], "crm.lead.get?id=0");
  EXPECT_EQ(body["cmd"]["c2"], "crm.lead.get?id=2");
  e->done(BatchAnswerBuilder()
              .Result("c0", {{"ID", "0"}})
              .Error("c1", "", "Not found")
              .Result("c2", {{"ID", "2"}})
              .Response());
  for (auto& o : outs) ASSERT_TRUE(o.Wait());
  EXPECT_EQ(outs[0].reply->result["ID"], "0");
  EXPECT_EQ(outs[1].reply.status().code(), absl::StatusCode::kNotFound);
  EXPECT_EQ(outs[2].reply->result["ID"], "2");
  EXPECT_EQ(h.transport.sent(), 2);
  in_flight->done(ResultAnswer(nlohmann::ordered_json::array()));
  ASSERT_TRUE(blocker.Wait());
}

TEST(Portal, AGroupOfCallsRidesInFullBatches) {
  // Handed over at once, a bulk's calls are never split by a look at the
  // queue between two of them: 60 calls go as 50 + 10, not 1 + 50 + 9.
  PortalHarness h(Options());
  Outcome outs[60];
  std::vector<GroupedCall> calls;
  for (int i = 0; i < 60; ++i) calls.push_back({{{"id", i}}, outs[i].Callback()});
  h.portal->Calls("crm.lead.get", std::move(calls), false, {});
  auto first = h.transport.Next();
  ASSERT_TRUE(first);
  auto cmd = nlohmann::ordered_json::parse(first->request.body)["cmd"];
  ASSERT_EQ(cmd.size(), 50u);
  EXPECT_EQ(cmd["c0"], "crm.lead.get?id=0");
  EXPECT_EQ(cmd["c49"], "crm.lead.get?id=49");
  auto second = h.transport.Next();  // the clock never moves
  ASSERT_TRUE(second);
  cmd = nlohmann::ordered_json::parse(second->request.body)["cmd"];
  ASSERT_EQ(cmd.size(), 10u);
  EXPECT_EQ(cmd["c0"], "crm.lead.get?id=50");
  BatchAnswerBuilder a, b;
  for (int i = 0; i < 50; ++i) a.Result("c" + std::to_string(i), i);
  for (int i = 0; i < 10; ++i) b.Result("c" + std::to_string(i), 50 + i);
  first->done(a.Response());
  second->done(b.Response());
  for (int i = 0; i < 60; ++i) {
    ASSERT_TRUE(outs[i].Wait());
    ASSERT_TRUE(outs[i].reply.ok()) << outs[i].reply.status();
    EXPECT_EQ(outs[i].reply->result, i);
    EXPECT_EQ(outs[i].answers(), 1);
  }
  EXPECT_EQ(h.transport.sent(), 2);
}

TEST(Portal, NullParamsTravelAloneAsJson) {
  PortalHarness h(Options());
  Outcome a, b;
  h.portal->Call("crm.lead.update", {{"id", 1}, {"fields", {{"DESCRIPTION", nullptr}}}}, false, {},
                 a.Callback());
  auto first = h.transport.Next();
  ASSERT_TRUE(first);
  EXPECT_TRUE(absl::EndsWith(first->request.url, "/crm.lead.update"));
  EXPECT_EQ(nlohmann::ordered_json::parse(first->request.body)["fields"]["DESCRIPTION"], nullptr);
  h.portal->Call("crm.lead.get", {{"id", 1}}, false, {}, b.Callback());
  h.clock.Advance(absl::Milliseconds(1));  // one request in the bucket: a short hold
  auto second = h.transport.Next();
  ASSERT_TRUE(second);
  EXPECT_TRUE(absl::EndsWith(second->request.url, "/crm.lead.get"));
  first->done(ResultAnswer(true));
  second->done(ResultAnswer({{"ID", "1"}}));
  ASSERT_TRUE(a.Wait());
  ASSERT_TRUE(b.Wait());
  EXPECT_TRUE(a.reply.ok());
}

TEST(Portal, RateLimitedRequestIsRepeated) {
  PortalHarness h(Options());
  Outcome out;
  h.portal->Call("crm.lead.add", {{"fields", {{"TITLE", "x"}}}}, false, {}, out.Callback());
  auto e = h.transport.Next();
  ASSERT_TRUE(e);
  e->done(ErrorAnswer(503, "QUERY_LIMIT_EXCEEDED", "Too many requests"));
  h.clock.Advance(kPastBackoff);  // the model is full after a 503
  auto again = h.transport.Next();
  ASSERT_TRUE(again) << "a 503 was not executed: the write must be repeated";
  again->done(ResultAnswer(42));
  ASSERT_TRUE(out.Wait());
  ASSERT_TRUE(out.reply.ok());
  EXPECT_EQ(out.reply->result, 42);
  EXPECT_EQ(h.portal->Stats().rate_limited, 1);
}

TEST(Portal, WriteWithUnknownOutcomeIsNeverRepeated) {
  for (auto response : {ErrorAnswer(500, "INTERNAL_SERVER_ERROR"),
                        FakeTransport::Failure(TransportFailure::kAfterSend),
                        FakeTransport::Json(504, "<html>Gateway Timeout</html>")}) {
    PortalHarness h(Options());
    Outcome out;
    h.portal->Call("crm.deal.add", {{"fields", {{"TITLE", "x"}}}}, false, {}, out.Callback());
    auto e = h.transport.Next();
    ASSERT_TRUE(e);
    e->done(response);
    ASSERT_TRUE(out.Wait());
    EXPECT_EQ(out.reply.status().code(), absl::StatusCode::kUnavailable);
    EXPECT_EQ(ReasonOf(out.reply.status()), kReasonOutcomeUnknown);
    h.clock.Advance(absl::Minutes(1));
    ASSERT_TRUE(h.Idle());
    EXPECT_EQ(h.transport.sent(), 1) << "the write was sent again";
    EXPECT_EQ(out.answers(), 1);
  }
}

TEST(Portal, ReadWithUnknownOutcomeIsRepeated) {
  PortalHarness h(Options());
  Outcome out;
  h.portal->Call("crm.deal.list", kNoParams, false, {}, out.Callback());
  auto e = h.transport.Next();
  ASSERT_TRUE(e);
  e->done(FakeTransport::Failure(TransportFailure::kAfterSend));
  h.clock.Advance(kPastBackoff);
  auto again = h.transport.Next();
  ASSERT_TRUE(again);
  again->done(FakeTransport::Json(200, R"({"result":[],"total":0})"));
  ASSERT_TRUE(out.Wait());
  EXPECT_TRUE(out.reply.ok());
}

TEST(Portal, IdempotentFlagMakesAWriteRepeatable) {
  PortalHarness h(Options());
  Outcome out;
  CallOptions o;
  o.idempotent = true;
  h.portal->Call("crm.deal.update", {{"id", 1}, {"fields", {{"TITLE", "t"}}}}, false, o,
                 out.Callback());
  auto e = h.transport.Next();
  ASSERT_TRUE(e);
  e->done(FakeTransport::Failure(TransportFailure::kAfterSend));
  h.clock.Advance(kPastBackoff);
  auto again = h.transport.Next();
  ASSERT_TRUE(again);
  again->done(ResultAnswer(true));
  ASSERT_TRUE(out.Wait());
  EXPECT_TRUE(out.reply.ok());
}

TEST(Portal, NotSentWriteIsRepeated) {
  PortalHarness h(Options());
  Outcome out;
  h.portal->Call("crm.deal.add", {{"fields", {{"TITLE", "x"}}}}, false, {}, out.Callback());
  auto e = h.transport.Next();
  ASSERT_TRUE(e);
  e->done(FakeTransport::Failure(TransportFailure::kNotSent));
  h.clock.Advance(kPastBackoff);
  auto again = h.transport.Next();
  ASSERT_TRUE(again);
  again->done(ResultAnswer(5));
  ASSERT_TRUE(out.Wait());
  EXPECT_TRUE(out.reply.ok());
}

// A batch whose request never reached the portal is sent again like a
// call, not dropped (its caller would wait until its deadline).
TEST(Portal, NotSentBatchIsRepeated) {
  absl::Notification done;
  absl::StatusOr<BatchResult> result = absl::UnknownError("not answered");
  PortalHarness h(Options());
  h.portal->Batch({{"a", "crm.lead.add", {{"fields", {{"TITLE", "x"}}}}},
                   {"b", "crm.lead.list", kNoParams}},
                  /*halt=*/false, {}, [&](absl::StatusOr<BatchResult> r) {
                    result = std::move(r);
                    done.Notify();
                  });
  auto e = h.transport.Next();
  ASSERT_TRUE(e);
  e->done(FakeTransport::Failure(TransportFailure::kNotSent));
  h.clock.Advance(kPastBackoff);
  auto again = h.transport.Next();
  ASSERT_TRUE(again) << "the batch was dropped, not sent again";
  again->done(BatchAnswerBuilder()
                  .Result("a", 7)
                  .Result("b", nlohmann::ordered_json::array())
                  .Response());
  ASSERT_TRUE(done.WaitForNotificationWithTimeout(absl::Seconds(5)));
  ASSERT_TRUE(result.ok()) << result.status();
  EXPECT_EQ(result->outcomes.size(), 2u);
}

TEST(Portal, ACertificateThatFailsVerificationFailsAtOnce) {
  PortalHarness h(Options());
  Outcome out;
  h.portal->Call("crm.lead.get", {{"id", 1}}, false, {}, out.Callback());
  auto e = h.transport.Next();
  ASSERT_TRUE(e);
  HttpResponse refused = FakeTransport::Failure(TransportFailure::kNotSent);
  refused.permanent = true;
  e->done(refused);
  ASSERT_TRUE(out.Wait());
  EXPECT_EQ(out.reply.status().code(), absl::StatusCode::kUnavailable);
  EXPECT_EQ(ReasonOf(out.reply.status()), kReasonTransport);
  h.clock.Advance(absl::Minutes(1));
  ASSERT_TRUE(h.Idle());
  EXPECT_EQ(h.transport.sent(), 1) << "a certificate that failed verification was tried again";
}

TEST(Portal, FinalErrorsReturnAtOnce) {
  PortalHarness h(Options());
  Outcome out;
  h.portal->Call("crm.deal.add", kNoParams, false, {}, out.Callback());
  auto e = h.transport.Next();
  ASSERT_TRUE(e);
  e->done(ErrorAnswer(401, "INVALID_CREDENTIALS", "Invalid request credentials"));
  ASSERT_TRUE(out.Wait());
  EXPECT_EQ(out.reply.status().code(), absl::StatusCode::kUnauthenticated);
  EXPECT_EQ(ReasonOf(out.reply.status()), "INVALID_CREDENTIALS");
  h.clock.Advance(absl::Minutes(1));
  ASSERT_TRUE(h.Idle());
  EXPECT_EQ(h.transport.sent(), 1);
}

TEST(Portal, ErrorInA200BodyIsAnError) {
  PortalHarness h(Options());
  Outcome out;
  h.portal->Call("crm.lead.get", {{"id", 1}}, false, {}, out.Callback());
  auto e = h.transport.Next();
  ASSERT_TRUE(e);
  e->done(ErrorAnswer(200, "ACCESS_DENIED", "Access denied."));
  ASSERT_TRUE(out.Wait());
  EXPECT_EQ(out.reply.status().code(), absl::StatusCode::kPermissionDenied);
}

TEST(Portal, ExpiredDeadlineIsNotSent) {
  PortalHarness h(Options());
  Outcome out;
  CallOptions o;
  o.deadline = h.clock.Now() - absl::Seconds(1);
  h.portal->Call("crm.lead.get", {{"id", 1}}, false, o, out.Callback());
  ASSERT_TRUE(out.Wait());
  EXPECT_EQ(out.reply.status().code(), absl::StatusCode::kDeadlineExceeded);
  EXPECT_EQ(h.transport.sent(), 0);
}

TEST(Portal, CancelledCallIsNotSent) {
  PortalOptions options = Options();
  options.max_concurrency = 1;
  PortalHarness h(options);
  Outcome blocker, cancelled;
  h.portal->Call("crm.lead.list", kNoParams, true, {}, blocker.Callback());
  auto first = h.transport.Next();  // occupies the only slot
  ASSERT_TRUE(first);
  CallOptions o;
  o.cancel = std::make_shared<CancelToken>();
  h.portal->Call("crm.lead.get", {{"id", 1}}, false, o, cancelled.Callback());
  o.cancel->Cancel();
  // Cancellation is set without the portal's lock: noticed at its next look.
  h.clock.Advance(absl::Milliseconds(200));
  ASSERT_TRUE(cancelled.Wait());
  EXPECT_EQ(cancelled.reply.status().code(), absl::StatusCode::kCancelled);
  first->done(ResultAnswer(nlohmann::ordered_json::array()));
  ASSERT_TRUE(blocker.Wait());
  ASSERT_TRUE(h.Idle());
  EXPECT_EQ(h.transport.sent(), 1);
}

TEST(Portal, ACancelledReadInFlightIsAbandoned) {
  PortalHarness h(Options());
  Outcome out;
  CallOptions o;
  o.cancel = std::make_shared<CancelToken>();
  h.portal->Call("crm.lead.list", kNoParams, true, o, out.Callback());
  auto e = h.transport.Next();
  ASSERT_TRUE(e);
  ASSERT_TRUE(e->request.abandoned) << "a cancellable read must be abortable";
  EXPECT_FALSE(e->request.abandoned());
  o.cancel->Cancel();
  EXPECT_TRUE(e->request.abandoned()) << "the transport would now abort the transfer";
  e->done(FakeTransport::Failure(TransportFailure::kAfterSend));  // what it answers then
  ASSERT_TRUE(out.Wait());
  EXPECT_EQ(out.reply.status().code(), absl::StatusCode::kCancelled);
  h.clock.Advance(absl::Minutes(1));
  ASSERT_TRUE(h.Idle());
  EXPECT_EQ(h.transport.sent(), 1) << "an abandoned read was sent again";
  EXPECT_EQ(h.portal->Stats().slowdowns, 0) << "our own abort is no server trouble";
}

TEST(Portal, AWriteInFlightIsNeverAbandoned) {
  PortalHarness h(Options());
  Outcome out;
  CallOptions o;
  o.cancel = std::make_shared<CancelToken>();
  h.portal->Call("crm.lead.add", {{"fields", {{"TITLE", "x"}}}}, false, o, out.Callback());
  auto e = h.transport.Next();
  ASSERT_TRUE(e);
  EXPECT_FALSE(e->request.abandoned) << "a write already sent is answered, not dropped";
  e->done(ResultAnswer(5));
  ASSERT_TRUE(out.Wait());
}

TEST(Portal, OperatingLimitParksOnlyThatMethod) {
  PortalHarness h(Options());
  Outcome a;
  h.portal->Call("crm.deal.list", kNoParams, true, {}, a.Callback());
  auto first = h.transport.Next();
  ASSERT_TRUE(first);
  first->done(ResultAnswer(nlohmann::ordered_json::array(),
                           OperatingTime(470, h.clock.Now() + absl::Seconds(30))));
  ASSERT_TRUE(a.Wait());
  Outcome parked, other;
  h.portal->Call("crm.deal.list", kNoParams, true, {}, parked.Callback());
  h.portal->Call("crm.lead.list", kNoParams, true, {}, other.Callback());
  auto e = h.transport.Next();
  ASSERT_TRUE(e);
  EXPECT_TRUE(absl::EndsWith(e->request.url, "/crm.lead.list")) << "the parked method went first";
  e->done(ResultAnswer(nlohmann::ordered_json::array()));
  ASSERT_TRUE(other.Wait());
  ASSERT_TRUE(h.Idle());
  EXPECT_EQ(h.transport.sent(), 2) << "crm.deal.list was sent while parked";
  EXPECT_EQ(h.portal->Stats().queued, 1);
}

// Coalescing: how long a partial batch waits depends on the request budget.

PortalOptions Standard() {
  PortalOptions o = Options();
  o.bucket = BucketPolicy{50, 2, 1};  // 49 usable, one request per 500 ms
  o.max_concurrency = 50;
  o.autothrottle.enabled = false;
  return o;
}

// Spends `requests` of the bucket with calls that travel alone.
void SpendBucket(PortalHarness& h, int requests) {
  for (int i = 0; i < requests; ++i) {
    Outcome out;
    h.portal->Call("crm.lead.list", kNoParams, /*as_json=*/true, {}, out.Callback());
    auto e = h.transport.Next();
    ASSERT_TRUE(e);
    e->done(ResultAnswer(nlohmann::ordered_json::array()));
    ASSERT_TRUE(out.Wait());
  }
}

TEST(PortalCoalescing, ALoneCallOnAnIdlePortalGoesAtOnce) {
  PortalOptions options = Standard();
  options.linger = absl::Milliseconds(50);  // waiting would save nothing
  PortalHarness h(options);
  Outcome out;
  h.portal->Call("crm.lead.get", {{"id", 1}}, false, {}, out.Callback());
  auto e = h.transport.Next();  // the clock never moves
  ASSERT_TRUE(e) << "an idle gateway held a lone call";
  EXPECT_TRUE(absl::EndsWith(e->request.url, "/crm.lead.get"));
  e->done(ResultAnswer({{"ID", "1"}}));
  ASSERT_TRUE(out.Wait());
}

TEST(PortalCoalescing, ALoneCallLingersOnceTheBudgetIsScarce) {
  PortalOptions options = Standard();
  options.linger = absl::Milliseconds(50);
  PortalHarness h(options);
  // 26 of 49 usable; 501 ms later 25 remain (half is 24.5) and the callers
  // answered are no longer expected back.
  SpendBucket(h, 26);
  h.clock.Advance(absl::Milliseconds(501));
  Outcome out;
  h.portal->Call("crm.lead.get", {{"id", 1}}, false, {}, out.Callback());
  h.clock.Advance(options.linger - absl::Microseconds(1));
  ASSERT_TRUE(h.Idle());
  EXPECT_EQ(h.transport.sent(), 26) << "sent before the linger ended";
  h.clock.Advance(absl::Microseconds(1));
  auto e = h.transport.Next();
  ASSERT_TRUE(e);
  e->done(ResultAnswer({{"ID", "1"}}));
  ASSERT_TRUE(out.Wait());
}

TEST(PortalCoalescing, APartialBatchWaitsLongerAsTheBucketFills) {
  PortalHarness h(Standard());
  // 25 of 49 usable, one of them still in flight (its caller may send more):
  // a partial batch holds sqrt(25/49) of the 500 ms interval.
  SpendBucket(h, 24);
  Outcome blocker;
  h.portal->Call("crm.lead.list", kNoParams, /*as_json=*/true, {}, blocker.Callback());
  auto in_flight = h.transport.Next();
  ASSERT_TRUE(in_flight);
  const absl::Duration hold = absl::Milliseconds(500) * std::sqrt(25.0 / 49);
  Outcome outs[2];
  for (auto& out : outs) h.portal->Call("crm.lead.get", {{"id", 1}}, false, {}, out.Callback());
  h.clock.Advance(hold - absl::Microseconds(1));
  ASSERT_TRUE(h.Idle());
  EXPECT_EQ(h.transport.sent(), 25) << "a partial batch went before its hold ended";
  h.clock.Advance(absl::Microseconds(1));
  auto e = h.transport.Next();
  ASSERT_TRUE(e);
  EXPECT_TRUE(absl::EndsWith(e->request.url, "/batch"));
  e->done(BatchAnswerBuilder().Result("c0", {{"ID", "1"}}).Result("c1", {{"ID", "1"}}).Response());
  for (auto& out : outs) ASSERT_TRUE(out.Wait());
  in_flight->done(ResultAnswer(nlohmann::ordered_json::array()));
  ASSERT_TRUE(blocker.Wait());
}

TEST(PortalCoalescing, APartialBatchGoesAtOnceWhenNoOneElseIsExpected) {
  PortalHarness h(Standard());
  SpendBucket(h, 25);
  // Nothing in flight, and the answered callers did not come back within
  // the longest hold: no company is coming.
  h.clock.Advance(absl::Milliseconds(501));
  Outcome out;
  h.portal->Call("crm.lead.get", {{"id", 1}}, false, {}, out.Callback());
  auto e = h.transport.Next();  // the clock does not move
  ASSERT_TRUE(e) << "held although no one else was expected";
  e->done(ResultAnswer({{"ID", "1"}}));
  ASSERT_TRUE(out.Wait());
}

TEST(PortalCoalescing, ARepeatedCallLeavesNoOneExpected) {
  // A lone caller's read fails with a server error and is repeated; once it
  // is answered, its next call goes at once. (The failed attempt was once
  // counted as an answered caller due back, so every later lone call waited
  // a hold for company that never came.)
  PortalHarness h(Standard());
  SpendBucket(h, 25);
  h.clock.Advance(absl::Milliseconds(501));  // the bucket's callers are gone
  Outcome first;
  h.portal->Call("crm.lead.get", {{"id", 1}}, false, {}, first.Callback());
  auto e = h.transport.Next();
  ASSERT_TRUE(e);
  e->done(FakeTransport::Failure(TransportFailure::kAfterSend));
  h.clock.Advance(absl::Seconds(2));  // past the backoff
  auto again = h.transport.Next();
  ASSERT_TRUE(again);
  again->done(ResultAnswer({{"ID", "1"}}));
  ASSERT_TRUE(first.Wait());
  Outcome next;
  h.portal->Call("crm.lead.get", {{"id", 1}}, false, {}, next.Callback());
  auto third = h.transport.Next();  // the clock does not move
  ASSERT_TRUE(third) << "a lone call waited for company after a repeated call";
  third->done(ResultAnswer({{"ID", "1"}}));
  ASSERT_TRUE(next.Wait());
}

TEST(PortalCoalescing, CallersComingBackFillTheNextBatch) {
  // Three callers sending one call at a time: answered together, they come
  // back one by one, and the first waits for the others.
  PortalOptions options = Standard();
  options.linger = absl::Milliseconds(1);
  PortalHarness h(options);
  // Their first calls are handed over as one group so that they share a
  // batch: three Call()s on this idle portal would race its dispatcher,
  // which sends a lone call at once when it looks before the second arrives
  // (seen on a loaded machine). Answered callers count the same either way.
  Outcome first[3];
  std::vector<GroupedCall> calls;
  for (auto& out : first) calls.push_back({{{"id", 1}}, out.Callback()});
  h.portal->Calls("crm.lead.get", std::move(calls), false, {});
  auto e = h.transport.Next();  // the clock does not move: nobody is expected
  ASSERT_TRUE(e);
  e->done(BatchAnswerBuilder().Result("c0", 1).Result("c1", 1).Result("c2", 1).Response());
  for (auto& out : first) ASSERT_TRUE(out.Wait());
  Outcome second[3];
  h.portal->Call("crm.lead.get", {{"id", 2}}, false, {}, second[0].Callback());
  h.clock.Advance(absl::Milliseconds(50));  // past the linger, within the hold
  ASSERT_TRUE(h.Idle());
  EXPECT_EQ(h.transport.sent(), 1) << "sent before the callers answered with it came back";
  // Two of three back is not enough before the hold (71 ms) ends, so a look
  // between these two calls sends nothing.
  h.portal->Call("crm.lead.get", {{"id", 2}}, false, {}, second[1].Callback());
  h.portal->Call("crm.lead.get", {{"id", 2}}, false, {}, second[2].Callback());
  auto again = h.transport.Next();  // everyone is back: no more waiting
  ASSERT_TRUE(again);
  EXPECT_EQ(nlohmann::ordered_json::parse(again->request.body)["cmd"].size(), 3u);
  again->done(BatchAnswerBuilder().Result("c0", 1).Result("c1", 1).Result("c2", 1).Response());
  for (auto& out : second) ASSERT_TRUE(out.Wait());
}

// The commands of a batch request, each answered with a result.
HttpResponse AnswerEveryCommand(const FakeTransport::Exchange& e) {
  const auto body = nlohmann::ordered_json::parse(e.request.body);
  BatchAnswerBuilder answer;
  for (const auto& [key, command] : body["cmd"].items()) answer.Result(key, {{"ID", "1"}});
  return answer.Response();
}

// The next request carries every call of `outs` in one batch: answers it.
void ExpectOneBatchOf(PortalHarness& h, std::vector<Outcome>& outs) {
  auto e = h.transport.Next();
  ASSERT_TRUE(e);
  EXPECT_EQ(nlohmann::ordered_json::parse(e->request.body)["cmd"].size(), outs.size());
  e->done(AnswerEveryCommand(*e));
  for (auto& out : outs) ASSERT_TRUE(out.Wait());
}

// Each of `outs`' callers sends a call, all as one group (one batch on an
// idle portal).
void CallTogether(PortalHarness& h, std::vector<Outcome>& outs) {
  std::vector<GroupedCall> calls;
  for (auto& out : outs) calls.push_back({{{"id", 1}}, out.Callback()});
  h.portal->Calls("crm.lead.get", std::move(calls), false, {});
}

// Callers `from` to `to` (exclusive) of `outs` each send a call of their own.
void CallEach(PortalHarness& h, std::vector<Outcome>& outs, size_t from, size_t to) {
  for (size_t i = from; i < to; ++i) {
    h.portal->Call("crm.lead.get", {{"id", 2}}, false, {}, outs[i].Callback());
  }
}

TEST(PortalCoalescing, TheFirstCallersBackDoNotSetTheirGroupsPace) {
  // 50 callers answered together; two are back after 21 ms, the other 48
  // after 36 ms (a busy machine runs their threads one after another). The
  // two wait for the rest: one batch of 50, not one of 2 and one of 48.
  PortalHarness h(Standard());
  std::vector<Outcome> first(50);
  CallTogether(h, first);
  ASSERT_TRUE(h.Idle());
  h.clock.Advance(absl::Milliseconds(520));  // the bucket has drained
  ExpectOneBatchOf(h, first);
  std::vector<Outcome> second(50);
  h.clock.Advance(absl::Milliseconds(21));
  CallEach(h, second, 0, 2);
  ASSERT_TRUE(h.Idle());
  EXPECT_EQ(h.transport.sent(), 1) << "the first two callers back left without the others";
  h.clock.Advance(absl::Milliseconds(15));
  CallEach(h, second, 2, 50);
  ExpectOneBatchOf(h, second);
  EXPECT_EQ(h.transport.sent(), 2);
}

TEST(PortalCoalescing, ALargerGroupIsWaitedForByItsSize) {
  // A caller out of step with 49 others (sent alone while their batch was
  // on the wire) came back 2 ms after its answer. When the 49 are answered,
  // it waits for them as long as 49 callers take at that pace, not 2 ms:
  // they are back 90 ms later and all 50 share one batch.
  PortalHarness h(Standard());
  std::vector<Outcome> group(49);
  CallTogether(h, group);
  auto batch = h.transport.Next();
  ASSERT_TRUE(batch);
  Outcome lone;
  h.portal->Call("crm.lead.get", {{"id", 1}}, false, {}, lone.Callback());
  // It waits for the batch (the first burst's, due as soon as it may be) until
  // the company window ends, and then goes alone.
  h.clock.Advance(absl::Milliseconds(500));
  auto alone = h.transport.Next();
  ASSERT_TRUE(alone);
  alone->done(ResultAnswer({{"ID", "1"}}));
  ASSERT_TRUE(lone.Wait());
  std::vector<Outcome> next(50);
  h.clock.Advance(absl::Milliseconds(2));
  CallEach(h, next, 0, 1);
  h.clock.Advance(absl::Milliseconds(26));  // t = 528 ms
  batch->done(AnswerEveryCommand(*batch));
  for (auto& out : group) ASSERT_TRUE(out.Wait());
  h.clock.Advance(absl::Milliseconds(90));  // past the lone call's own hold (574 ms)
  ASSERT_TRUE(h.Idle());
  EXPECT_EQ(h.transport.sent(), 2) << "the lone caller left before the 49 were back";
  CallEach(h, next, 1, 50);
  ExpectOneBatchOf(h, next);
  EXPECT_EQ(h.transport.sent(), 3);
}

TEST(PortalCoalescing, TheFirstBurstWaitsForItsHeadSentAlone) {
  // Fifty callers, two calls each, start together on a fresh gateway. The
  // first call finds the portal idle and goes at once, alone (on its own
  // lent thread, before the others are queued); the other 49 arrive in
  // turns of their own while it is on the wire, and on a busy machine its
  // answer comes only after their hold (72 ms). Before any answer nobody
  // knows when it is due, but it is the head of their burst: they wait for
  // it, its caller's next call joins them, and the 100 calls take
  // ceil(100 / 50) + 1 requests. (Left without it, the 49 went at 72 ms
  // and its caller's next call went alone while they were on the wire.)
  PortalHarness h(Standard());
  std::vector<Outcome> first(50);
  CallOptions lend;
  lend.lend_thread = true;
  h.portal->Call("crm.lead.get", {{"id", 1}}, false, lend, first[0].Callback());
  auto head = h.transport.Next();
  ASSERT_TRUE(head);
  for (size_t i = 1; i < first.size(); ++i) {
    CallEach(h, first, i, i + 1);
    ASSERT_TRUE(h.Idle());
  }
  h.clock.Advance(absl::Milliseconds(120));
  ASSERT_TRUE(h.Idle());
  EXPECT_EQ(h.transport.sent(), 1) << "the burst left without its head";
  head->done(ResultAnswer({{"ID", "1"}}));
  ASSERT_TRUE(first[0].Wait());
  std::vector<Outcome> second(50);
  h.clock.Advance(absl::Milliseconds(5));
  CallEach(h, second, 0, 1);
  // Rounds of 500 ms: a full batch of 50 is on the wire about that long
  // (10 ms a command), and whatever a partial batch waits for ends within
  // the company window. Each round answers what was sent, and the callers
  // answered for the first time send their second call.
  int requests = 1;
  for (;;) {
    h.clock.Advance(absl::Milliseconds(500));
    ASSERT_TRUE(h.Idle());
    if (!h.transport.AwaitWaiting(1, absl::ZeroDuration())) break;
    while (h.transport.AwaitWaiting(1, absl::ZeroDuration())) {
      auto e = h.transport.Next();
      ASSERT_TRUE(e);
      ++requests;
      const bool batch = absl::EndsWith(e->request.url, "/batch");
      e->done(batch ? AnswerEveryCommand(*e) : ResultAnswer({{"ID", "1"}}));
    }
    for (size_t i = 1; i < first.size(); ++i) {
      if (first[i].answers() > 0 && !first[i].reply.ok()) {
        ASSERT_TRUE(first[i].Wait());
        CallEach(h, second, i, i + 1);
      }
    }
  }
  for (auto& out : first) EXPECT_EQ(out.answers(), 1);
  for (auto& out : second) EXPECT_EQ(out.answers(), 1);
  EXPECT_LE(requests, 3);
}

TEST(PortalCoalescing, AFullBatchGoesAtOnceWhateverTheBucket) {
  PortalHarness h(Standard());
  SpendBucket(h, 39);
  Outcome blocker;  // in flight: its caller may send more, so partial batches hold
  h.portal->Call("crm.lead.list", kNoParams, /*as_json=*/true, {}, blocker.Callback());
  auto in_flight = h.transport.Next();
  ASSERT_TRUE(in_flight);
  Outcome outs[50];
  for (int i = 0; i < 50; ++i) {
    h.portal->Call("crm.lead.get", {{"id", i}}, false, {}, outs[i].Callback());
  }
  auto e = h.transport.Next();  // the clock never moves
  ASSERT_TRUE(e) << "a full batch was held";
  EXPECT_EQ(nlohmann::ordered_json::parse(e->request.body)["cmd"].size(), 50u);
  BatchAnswerBuilder answer;
  for (int i = 0; i < 50; ++i) answer.Result("c" + std::to_string(i), {{"ID", i}});
  e->done(answer.Response());
  for (auto& out : outs) ASSERT_TRUE(out.Wait());
  in_flight->done(ResultAnswer(nlohmann::ordered_json::array()));
  ASSERT_TRUE(blocker.Wait());
}

TEST(Portal, BudgetReportsBucketAndOperatingTimeLeft) {
  PortalOptions options = Options();
  options.bucket = BucketPolicy{50, 2, 1};
  PortalHarness h(options);
  PortalBudget fresh = h.portal->Budget("crm.deal.list");
  EXPECT_EQ(fresh.bucket_level, 0);
  EXPECT_EQ(fresh.bucket_usable, 49);
  EXPECT_EQ(fresh.drain_per_second, 2);
  EXPECT_EQ(fresh.requests_free_now, 49);
  EXPECT_EQ(fresh.max_in_flight, 8);
  EXPECT_EQ(fresh.operating_left, absl::Seconds(420));
  EXPECT_EQ(fresh.paused_until, absl::InfinitePast());

  Outcome out;
  h.portal->Call("crm.deal.list", kNoParams, true, {}, out.Callback());
  auto e = h.transport.Next();
  ASSERT_TRUE(e);
  EXPECT_EQ(h.portal->Budget("crm.deal.list").in_flight, 1);
  e->done(ResultAnswer(nlohmann::ordered_json::array(),
                       OperatingTime(400, h.clock.Now() + absl::Seconds(30))));
  ASSERT_TRUE(out.Wait());
  PortalBudget after = h.portal->Budget("CRM.DEAL.LIST");
  EXPECT_EQ(after.bucket_level, 1);
  EXPECT_EQ(after.requests_free_now, 48);
  EXPECT_EQ(after.in_flight, 0);
  EXPECT_EQ(after.operating_used, absl::Seconds(400));
  EXPECT_EQ(after.operating_left, absl::Seconds(20));
  EXPECT_EQ(after.paused_until, absl::InfinitePast());
  EXPECT_EQ(h.portal->Budget("crm.lead.list").operating_left, absl::Seconds(420))
      << "another method's window is its own";
  h.clock.Advance(absl::Seconds(0.5));
  EXPECT_DOUBLE_EQ(h.portal->Budget("crm.deal.list").bucket_level, 0);
}

// The answers' `time.start` (the portal's clock) less when each request's
// slot was taken tell the delays' jitter: steady delays leave the floor's
// headroom (0.1 s × 2/s), in the budget the list planners read and in the
// stats; the configured headroom stays what it was.
TEST(Portal, TheAnswersStartTimesSizeTheHeadroom) {
  PortalOptions options = Options();
  options.bucket = BucketPolicy{50, 2, 1};
  PortalHarness h(options);
  EXPECT_EQ(h.portal->Budget("crm.lead.get").bucket_usable, 49);
  for (int i = 0; i < 10; ++i) {
    Outcome out;
    h.portal->Call("crm.lead.get", {{"id", i}}, false, {}, out.Callback());
    auto e = h.transport.Next();
    ASSERT_TRUE(e);
    const double start = absl::ToUnixMicros(h.clock.Now() + absl::Milliseconds(30)) / 1e6;
    e->done(ResultAnswer({{"ID", i}}, {{"start", start}}));
    ASSERT_TRUE(out.Wait());
  }
  EXPECT_DOUBLE_EQ(h.portal->Budget("crm.lead.get").bucket_usable, 49.8);
  const PortalStats stats = h.portal->Stats();
  EXPECT_DOUBLE_EQ(stats.bucket_headroom_effective, 0.2);
  EXPECT_LT(stats.bucket_jitter_seconds, 1e-6);
  EXPECT_EQ(h.portal->Tuning().bucket.headroom, 1);
}

}  // namespace
}  // namespace b24gate::portal_test
