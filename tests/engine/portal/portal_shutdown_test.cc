// Portal::BeginShutdown / AbandonInFlight: queued commands are answered
// NOT_EXECUTED at once and never sent; commands on the wire keep their
// result until abandoned, then are answered OUTCOME_UNKNOWN exactly once,
// and their late HTTP answers are dropped. On a fake clock: nothing here
// waits for time to pass.
#include <atomic>
#include <memory>
#include <vector>

#include <gtest/gtest.h>

#include "absl/synchronization/mutex.h"
#include "absl/synchronization/notification.h"
#include "engine/common/errors.h"
#include "engine/portal/portal.h"
#include "tests/engine/fake_transport.h"
#include "tests/engine/portal/portal_harness.h"

namespace b24gate::portal_shutdown_test {
namespace {

PortalOptions Options() {
  PortalOptions o;
  o.name = "p";
  o.webhook_url = "https://p.example.com/rest/1/code/";
  o.batch_size = 1;       // one command per request
  o.max_concurrency = 1;  // one request on the wire, the rest queued
  o.linger = absl::ZeroDuration();
  return o;
}

// Collects each call's outcomes; a second answer to one call is a failure.
struct Outcomes {
  absl::Mutex mu;
  std::vector<absl::StatusOr<CallReply>> got ABSL_GUARDED_BY(mu);
  std::vector<int> answers ABSL_GUARDED_BY(mu);

  CallCallback Callback(int index) {
    {
      absl::MutexLock lock(&mu);
      if (static_cast<int>(answers.size()) <= index) {
        answers.resize(index + 1);
        got.resize(index + 1, absl::UnknownError("no answer"));
      }
    }
    return [this, index](absl::StatusOr<CallReply> r) {
      absl::MutexLock lock(&mu);
      answers[index]++;
      got[index] = std::move(r);
    };
  }
  bool WaitAnswered(int n) {
    absl::MutexLock lock(&mu);
    auto all = [this, n]() ABSL_SHARED_LOCKS_REQUIRED(mu) {
      int answered = 0;
      for (int a : answers) answered += a > 0;
      return answered >= n;
    };
    return mu.AwaitWithTimeout(absl::Condition(&all), absl::Seconds(5));
  }
  std::string Reason(int i) {
    absl::MutexLock lock(&mu);
    return got[i].ok() ? "OK" : ReasonOf(got[i].status());
  }
  int Answers(int i) {
    absl::MutexLock lock(&mu);
    return answers[i];
  }
};

const char kAnswer[] = R"({"result": {"ID": "1"}, "time": {"start": 1, "finish": 1.01,
    "duration": 0.01, "processing": 0.01, "operating": 0, "operating_reset_at": 1700000600}})";

TEST(PortalShutdown, QueuedAreNotExecutedAndInFlightKeepTheirResult) {
  Outcomes out;  // declared first: outlives the portal
  PortalHarness h(Options());
  FakeTransport& transport = h.transport;
  Portal& portal = *h.portal;
  for (int i = 0; i < 3; ++i) portal.Call("crm.lead.get", {{"id", i}}, false, {}, out.Callback(i));
  auto first = transport.Next();
  ASSERT_TRUE(first);
  portal.BeginShutdown();
  ASSERT_TRUE(out.WaitAnswered(2));
  EXPECT_EQ(out.Reason(1), "NOT_EXECUTED");
  EXPECT_EQ(out.Reason(2), "NOT_EXECUTED");
  // A call arriving now is answered too, and never sent.
  portal.Call("crm.lead.add", {{"fields", {{"TITLE", "late"}}}}, false, {}, out.Callback(3));
  ASSERT_TRUE(out.WaitAnswered(3));
  EXPECT_EQ(out.Reason(3), "NOT_EXECUTED");
  // The request on the wire brings its result.
  first->done(FakeTransport::Json(200, kAnswer));
  ASSERT_TRUE(out.WaitAnswered(4));
  EXPECT_EQ(out.Reason(0), "OK");
  ASSERT_TRUE(h.Idle());
  EXPECT_EQ(transport.sent(), 1);
}

TEST(PortalShutdown, AbandonedWritesAreOutcomeUnknownOnceAndLateAnswersDropped) {
  Outcomes out;  // declared first: outlives the portal
  PortalHarness h(Options());
  FakeTransport& transport = h.transport;
  Portal& portal = *h.portal;
  portal.Call("crm.lead.add", {{"fields", {{"TITLE", "x"}}}}, false, {}, out.Callback(0));
  portal.Call("crm.lead.get", {{"id", 1}}, false, {}, out.Callback(1));
  auto on_wire = transport.Next();
  ASSERT_TRUE(on_wire);
  portal.BeginShutdown();
  ASSERT_TRUE(out.WaitAnswered(1));
  EXPECT_EQ(out.Reason(1), "NOT_EXECUTED");
  EXPECT_EQ(portal.Stats().in_flight, 1);
  portal.AbandonInFlight();
  ASSERT_TRUE(out.WaitAnswered(2));
  EXPECT_EQ(out.Reason(0), "OUTCOME_UNKNOWN");
  EXPECT_EQ(portal.Stats().outcome_unknown, 1);
  // The portal answers after all: nobody hears it twice, and the in-flight
  // count settles (the destructor waits for it).
  on_wire->done(FakeTransport::Json(200, kAnswer));
  EXPECT_EQ(portal.Stats().in_flight, 0);
  EXPECT_EQ(out.Answers(0), 1);
  EXPECT_EQ(out.Answers(1), 1);
}

TEST(PortalShutdown, RequestsStillWaitingForAConnectionAreNotExecuted) {
  // Two writes handed to the transport: one on the wire, one still waiting
  // for a connection. Only the first may have run.
  PortalOptions options = Options();
  options.max_concurrency = 2;
  Outcomes out;  // declared first: outlives the portal
  PortalHarness h(options);
  FakeTransport& transport = h.transport;
  Portal& portal = *h.portal;
  portal.Call("crm.lead.add", {{"fields", {{"TITLE", "a"}}}}, false, {}, out.Callback(0));
  portal.Call("crm.lead.add", {{"fields", {{"TITLE", "b"}}}}, false, {}, out.Callback(1));
  ASSERT_TRUE(transport.AwaitWaiting(2));
  auto on_wire = transport.Next();
  ASSERT_TRUE(on_wire);
  portal.BeginShutdown();
  portal.AbandonInFlight();
  ASSERT_TRUE(out.WaitAnswered(2));
  EXPECT_EQ(out.Reason(0), "OUTCOME_UNKNOWN");
  EXPECT_EQ(out.Reason(1), "NOT_EXECUTED");
  EXPECT_EQ(portal.Stats().outcome_unknown, 1);
  // The transport asks before it writes the withdrawn request (already
  // waiting in the transport, so no wait is needed): never sent.
  EXPECT_FALSE(transport.Next(absl::ZeroDuration()));
  on_wire->done(FakeTransport::Json(200, kAnswer));
  EXPECT_EQ(portal.Stats().in_flight, 0);
  EXPECT_EQ(out.Answers(0), 1);
  EXPECT_EQ(out.Answers(1), 1);
}

}  // namespace
}  // namespace b24gate::portal_shutdown_test
