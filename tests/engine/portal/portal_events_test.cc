// One event stream feeds PortalStats and the observer: after any traffic
// the counters and what an observer counted agree; and the observer is
// never called while the portal holds its lock (it may call back into the
// portal's read-only views, as a metrics scrape does).
#include <gtest/gtest.h>

#include <map>

#include "absl/synchronization/mutex.h"
#include "absl/synchronization/notification.h"
#include "engine/portal/portal.h"
#include "tests/engine/fake_transport.h"
#include "tests/engine/portal/portal_harness.h"

namespace b24gate::portal_events_test {
namespace {

const nlohmann::ordered_json kNoParams = nlohmann::ordered_json::object();

// Counts events; on each one reads the portal's Stats(), which takes the
// portal's lock: called under that lock, it would deadlock.
class CountingObserver : public PortalObserver {
 public:
  void set_portal(Portal* portal) { portal_ = portal; }
  void OnRequestSent(const std::string&, int commands) override {
    Touch();
    Add("requests_sent", 1);
    Add("commands_sent", commands);
  }
  void OnRequestDone(const std::string&, HttpOutcome, absl::Duration) override {
    Touch();
    Add("requests_done", 1);
  }
  void OnRetry(const std::string&, const std::string&, RetryReason, absl::Duration) override {
    Touch();
    Add("retries", 1);
  }
  void OnOutcomeUnknown(const std::string&, const std::string&, const std::string&) override {
    Touch();
    Add("outcome_unknown", 1);
  }
  void OnBitrixError(const std::string&, const std::string&, const std::string&,
                     const std::string&) override {
    Touch();
  }
  int64_t count(const std::string& name) {
    absl::MutexLock lock(&mu_);
    return counts_[name];
  }

 private:
  void Touch() {
    if (portal_ != nullptr) portal_->Stats();
  }
  void Add(const std::string& name, int64_t n) {
    absl::MutexLock lock(&mu_);
    counts_[name] += n;
  }
  Portal* portal_ = nullptr;
  absl::Mutex mu_;
  std::map<std::string, int64_t> counts_ ABSL_GUARDED_BY(mu_);
};

PortalOptions Options() {
  PortalOptions o = QuickPortalOptions();
  o.autothrottle.enabled = false;
  return o;
}

TEST(PortalEvents, StatsAndObserverCountTheSameTraffic) {
  FakeClock clock;
  FakeTransport transport;
  CountingObserver observer;
  DispatchPool pool(&clock, 1);
  auto portal = std::make_unique<Portal>(Options(), &transport, &clock, &pool, &observer);
  observer.set_portal(portal.get());

  // A pre-formed batch two of whose commands are refused for operating
  // time: both go again (two retries), in one request.
  absl::Notification batch_done;
  portal->Batch({{"a", "crm.lead.list", kNoParams},
                 {"b", "crm.deal.list", kNoParams},
                 {"c", "crm.contact.list", kNoParams}},
                /*halt=*/false, {}, [&](absl::StatusOr<BatchResult>) { batch_done.Notify(); });
  auto e = transport.Next();
  ASSERT_TRUE(e);
  e->done(BatchAnswerBuilder()
              .Result("a", nlohmann::ordered_json::array())
              .Error("b", "OPERATION_TIME_LIMIT", "blocked")
              .Error("c", "OPERATION_TIME_LIMIT", "blocked")
              .Response());
  clock.Advance(absl::Minutes(10));
  auto again = transport.Next();
  ASSERT_TRUE(again);
  again->done(BatchAnswerBuilder()
                  .Result("b", nlohmann::ordered_json::array())
                  .Result("c", nlohmann::ordered_json::array())
                  .Response());
  ASSERT_TRUE(batch_done.WaitForNotificationWithTimeout(absl::Seconds(5)));

  // A read repeated after a 500, and a write left unknown by one.
  Outcome read, write;
  portal->Call("crm.lead.get", {{"id", 1}}, false, {}, read.Callback());
  auto r1 = transport.Next();
  ASSERT_TRUE(r1);
  r1->done(ErrorAnswer(500, "INTERNAL_SERVER_ERROR"));
  clock.Advance(absl::Seconds(1));
  auto r2 = transport.Next();
  ASSERT_TRUE(r2);
  r2->done(ResultAnswer({{"ID", "1"}}));
  ASSERT_TRUE(read.Wait());
  portal->Call("crm.lead.add", {{"fields", {{"TITLE", "x"}}}}, false, {}, write.Callback());
  auto w1 = transport.Next();
  ASSERT_TRUE(w1);
  w1->done(ErrorAnswer(500, "INTERNAL_SERVER_ERROR"));
  ASSERT_TRUE(write.Wait());

  const PortalStats stats = portal->Stats();
  EXPECT_EQ(stats.http_requests, 5);
  EXPECT_EQ(stats.http_requests, observer.count("requests_sent"));
  EXPECT_EQ(stats.http_requests, observer.count("requests_done"));
  EXPECT_EQ(stats.commands_sent, observer.count("commands_sent"));
  EXPECT_EQ(stats.retries, 3);  // two refused batch commands, one read
  EXPECT_EQ(stats.retries, observer.count("retries"));
  EXPECT_EQ(stats.outcome_unknown, 1);
  EXPECT_EQ(stats.outcome_unknown, observer.count("outcome_unknown"));
  transport.Close();
  portal.reset();
}

}  // namespace
}  // namespace b24gate::portal_events_test
