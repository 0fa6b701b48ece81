// DispatchPool: tasks run in turns, on timers of the injected clock, one at
// a time each, in fair order; and portals sharing one pool do not wait for
// each other.
#include "engine/portal/dispatch_pool.h"

#include <gtest/gtest.h>
#include <malloc.h>
#include <sys/resource.h>

#include <atomic>
#include <cstring>
#include <functional>
#include <memory>
#include <string>
#include <vector>

#include "absl/strings/match.h"
#include "absl/synchronization/mutex.h"
#include "absl/synchronization/notification.h"
#include "engine/portal/portal.h"
#include "tests/engine/fake_transport.h"
#include "tests/engine/portal/portal_harness.h"

namespace b24gate::dispatch_pool_test {
namespace {

// Records its turns in a shared log; each turn returns the next entry of
// `plan` (InfiniteFuture when the plan is over).
class PlannedTask : public DispatchPool::Task {
 public:
  PlannedTask(std::string name, std::vector<absl::Time> plan, absl::Mutex* mu,
              std::vector<std::string>* log)
      : name_(std::move(name)), plan_(std::move(plan)), mu_(mu), log_(log) {}
  absl::Time RunTurn() override {
    absl::MutexLock lock(mu_);
    log_->push_back(name_);
    return turns_ < plan_.size() ? plan_[turns_++] : absl::InfiniteFuture();
  }

 private:
  const std::string name_;
  const std::vector<absl::Time> plan_;
  size_t turns_ = 0;
  absl::Mutex* mu_;
  std::vector<std::string>* log_;
};

class DispatchPoolTest : public ::testing::Test {
 protected:
  std::vector<std::string> Log() {
    absl::MutexLock lock(&mu_);
    return log_;
  }
  // A job that writes `name` to the log.
  std::function<void()> Logs(std::string name) {
    return [this, name = std::move(name)] {
      absl::MutexLock lock(&mu_);
      log_.push_back(name);
    };
  }
  // Keeps the pool's one thread on a job that logs "job 1" once `release`
  // is notified; returns when the job is running, so what the test queues
  // next waits behind it.
  void HoldTheThread(DispatchPool* pool, absl::Notification* release) {
    // Shared: the job may still be inside Notify() when this returns.
    auto running = std::make_shared<absl::Notification>();
    pool->Run([running, release, job = Logs("job 1")] {
      running->Notify();
      release->WaitForNotificationWithTimeout(absl::Seconds(10));
      job();
    });
    ASSERT_TRUE(running->WaitForNotificationWithTimeout(absl::Seconds(10)));
  }
  FakeClock clock_;
  absl::Mutex mu_;
  std::vector<std::string> log_ ABSL_GUARDED_BY(mu_);
};

TEST_F(DispatchPoolTest, ATurnAskedForLaterRunsWhenTheClockGetsThere) {
  DispatchPool pool(&clock_, 1);
  PlannedTask task("a", {clock_.Now() + absl::Seconds(1)}, &mu_, &log_);
  pool.Add(&task);
  ASSERT_TRUE(clock_.AwaitBlocked(1));
  EXPECT_EQ(Log().size(), 1u);
  clock_.Advance(absl::Milliseconds(999));
  ASSERT_TRUE(clock_.AwaitBlocked(1));
  EXPECT_EQ(Log().size(), 1u) << "ran before its time";
  clock_.Advance(absl::Milliseconds(1));
  ASSERT_TRUE(clock_.AwaitBlocked(1));
  EXPECT_EQ(Log().size(), 2u);
  pool.Remove(&task);
}

TEST_F(DispatchPoolTest, AWokenTaskRunsAtOnceAndAnIdleOneNever) {
  DispatchPool pool(&clock_, 2);
  PlannedTask task("a", {}, &mu_, &log_);
  pool.Add(&task);
  ASSERT_TRUE(clock_.AwaitBlocked(2));
  EXPECT_EQ(Log().size(), 1u);
  pool.Wake(&task);
  ASSERT_TRUE(clock_.AwaitBlocked(2));
  EXPECT_EQ(Log().size(), 2u);
  clock_.Advance(absl::Hours(1));
  ASSERT_TRUE(clock_.AwaitBlocked(2));
  EXPECT_EQ(Log().size(), 2u);
  pool.Remove(&task);
  pool.Wake(&task);  // ignored
}

TEST_F(DispatchPoolTest, BusyTasksTakeTurnsInRoundRobin) {
  DispatchPool pool(&clock_, 1);
  // Each always has more to do (a time already reached) for 3 more turns.
  const absl::Time now = clock_.Now();
  PlannedTask a("a", {now, now, now}, &mu_, &log_);
  PlannedTask b("b", {now, now, now}, &mu_, &log_);
  {
    // a's first turn waits for the log until b is in line too: otherwise
    // the worker may run all of a's turns before b is added.
    absl::MutexLock lock(&mu_);
    pool.Add(&a);
    pool.Add(&b);
  }
  ASSERT_TRUE(clock_.AwaitBlocked(1));
  EXPECT_EQ(Log(), (std::vector<std::string>{"a", "b", "a", "b", "a", "b", "a", "b"}));
  pool.Remove(&a);
  pool.Remove(&b);
}

PortalOptions BusyOptions(const std::string& name) {
  PortalOptions o;
  o.name = name;
  o.webhook_url = absl::StrCat("https://", name, ".example/rest/1/secret/");
  o.bucket = BucketPolicy{100000, 100000, 0};
  o.batch_size = 1;
  o.max_concurrency = 1000;
  o.linger = absl::ZeroDuration();
  o.autothrottle.enabled = false;
  return o;
}

// Holds the pool's thread until released, so the test can queue work for
// several portals before any of them runs.
class Blocker : public DispatchPool::Task {
 public:
  absl::Time RunTurn() override {
    release.WaitForNotification();
    return absl::InfiniteFuture();
  }
  absl::Notification release;
};

TEST_F(DispatchPoolTest, ASaturatedPortalDoesNotHoldUpAnothersCall) {
  // Two portals on one thread: the first has 200 calls ready to go, each
  // its own request; the second's one call goes right after the first's
  // first request, not after all of them.
  FakeTransport transport;
  DispatchPool pool(&clock_, 1);
  Blocker blocker;
  pool.Add(&blocker);
  auto busy = std::make_unique<Portal>(BusyOptions("busy"), &transport, &clock_, &pool);
  auto quiet = std::make_unique<Portal>(BusyOptions("quiet"), &transport, &clock_, &pool);
  std::vector<Outcome> outs(201);
  for (int i = 0; i < 200; ++i) {
    busy->Call("crm.lead.get", {{"id", i}}, false, {}, outs[i].Callback());
  }
  quiet->Call("crm.lead.get", {{"id", 1}}, false, {}, outs[200].Callback());
  blocker.release.Notify();
  std::vector<std::string> hosts;
  for (int i = 0; i < 4; ++i) {
    auto e = transport.Next();
    ASSERT_TRUE(e);
    hosts.push_back(absl::StrContains(e->request.url, "quiet.example") ? "quiet" : "busy");
  }
  EXPECT_EQ(hosts, (std::vector<std::string>{"busy", "quiet", "busy", "busy"}));
  transport.Close();
  busy.reset();
  quiet.reset();
  pool.Remove(&blocker);
}

TEST_F(DispatchPoolTest, JobsRunSideBySideOnThePoolsThreads) {
  // Two answers' parses handed in together take both threads: each job
  // here waits until the other has started, which one thread never allows.
  DispatchPool pool(&clock_, 2);
  absl::Notification first_started, second_started;
  std::atomic<int> met{0};
  pool.Run([&] {
    first_started.Notify();
    if (second_started.WaitForNotificationWithTimeout(absl::Seconds(10))) met++;
  });
  pool.Run([&] {
    second_started.Notify();
    if (first_started.WaitForNotificationWithTimeout(absl::Seconds(10))) met++;
  });
  ASSERT_TRUE(first_started.WaitForNotificationWithTimeout(absl::Seconds(10)));
  ASSERT_TRUE(second_started.WaitForNotificationWithTimeout(absl::Seconds(10)));
  ASSERT_TRUE(clock_.AwaitBlocked(2));
  EXPECT_EQ(met.load(), 2);
}

TEST_F(DispatchPoolTest, ATurnReadyWhileJobsWaitGoesAfterOneOfThem) {
  // A turn sends the next request; the jobs queued before it (answers to
  // parse, milliseconds each) must not all run first.
  DispatchPool pool(&clock_, 1);
  PlannedTask task("turn", {}, &mu_, &log_);
  pool.Add(&task);
  ASSERT_TRUE(clock_.AwaitBlocked(1));
  absl::Notification release;
  HoldTheThread(&pool, &release);
  pool.Run(Logs("job 2"));
  pool.Run(Logs("job 3"));
  pool.Wake(&task);
  release.Notify();
  ASSERT_TRUE(clock_.AwaitBlocked(1));
  EXPECT_EQ(Log(), (std::vector<std::string>{"turn", "job 1", "turn", "job 2", "job 3"}));
  pool.Remove(&task);
}

TEST_F(DispatchPoolTest, AQuickJobGoesAheadOfTheOthersWaiting) {
  // A small answer's handling may send the next request: it must not wait
  // for every large answer's parse queued before it. Quick ones keep their
  // own order.
  DispatchPool pool(&clock_, 1);
  absl::Notification release;
  HoldTheThread(&pool, &release);
  pool.Run(Logs("parse 2"));
  pool.Run(Logs("parse 3"));
  pool.Run(Logs("quick 4"), /*quick=*/true);
  pool.Run(Logs("quick 5"), /*quick=*/true);
  pool.Run(Logs("parse 6"));
  release.Notify();
  ASSERT_TRUE(clock_.AwaitBlocked(1));
  EXPECT_EQ(Log(), (std::vector<std::string>{"job 1", "quick 4", "quick 5", "parse 2", "parse 3",
                                             "parse 6"}));
}

TEST_F(DispatchPoolTest, AnIdleJobWaitsForEveryTurnAndJobWaiting) {
  // A read's pages made ahead of their turn must hold up no answer's parse
  // and no request's sending: they run when the pool has nothing else.
  DispatchPool pool(&clock_, 1);
  PlannedTask task("turn", {}, &mu_, &log_);
  pool.Add(&task);
  ASSERT_TRUE(clock_.AwaitBlocked(1));
  absl::Notification release;
  HoldTheThread(&pool, &release);
  pool.RunWhenIdle(Logs("idle 2"));
  pool.RunWhenIdle(Logs("idle 3"));
  pool.Run(Logs("parse 4"));
  pool.Run(Logs("quick 5"), /*quick=*/true);
  pool.Wake(&task);
  release.Notify();
  ASSERT_TRUE(clock_.AwaitBlocked(1));
  EXPECT_EQ(Log(), (std::vector<std::string>{"turn", "job 1", "turn", "quick 5", "parse 4",
                                             "idle 2", "idle 3"}));
  pool.Remove(&task);
}

TEST_F(DispatchPoolTest, EveryJobHandedInRunsBeforeThePoolIsGone) {
  // A job may be what answers a caller: none is dropped at shutdown.
  std::atomic<int> ran{0};
  {
    DispatchPool pool(&clock_, 1);
    absl::Notification release;
    pool.Run([&] {
      release.WaitForNotificationWithTimeout(absl::Seconds(10));
      ran++;
    });
    for (int i = 0; i < 5; ++i) pool.Run([&] { ran++; });
    pool.RunWhenIdle([&] { ran++; });
    release.Notify();
  }
  EXPECT_EQ(ran.load(), 7);
}

// Minor page faults the calling thread has taken so far.
long ThreadFaults() {
  rusage usage{};
  getrusage(RUSAGE_THREAD, &usage);
  return usage.ru_minflt;
}

TEST_F(DispatchPoolTest, AWarmedThreadsFirstJobAllocatesInPagesItAlreadyTouched) {
  // As the gateway's main does: freed heap stays mapped (without it glibc
  // hands the warmed pages back at once).
  mallopt(M_TRIM_THRESHOLD, 64 << 20);
  DispatchPool pool(&clock_, 1, /*warm_bytes=*/4 << 20);
  // 2 MiB in small pieces, as a parsed answer's tree: 512 pages.
  constexpr int kPieces = 2048;
  constexpr size_t kPieceBytes = 1000;
  absl::Notification done;
  long faults = -1;
  pool.Run([&] {
    const long before = ThreadFaults();
    std::vector<std::unique_ptr<char[]>> pieces;
    pieces.reserve(kPieces);
    for (int i = 0; i < kPieces; ++i) {
      pieces.emplace_back(new char[kPieceBytes]);
      std::memset(pieces.back().get(), i & 0xff, kPieceBytes);
    }
    faults = ThreadFaults() - before;
    done.Notify();
  });
  ASSERT_TRUE(done.WaitForNotificationWithTimeout(absl::Seconds(30)));
  // Without the warming, one fault a page (about 500).
  EXPECT_LT(faults, 100);
}

}  // namespace
}  // namespace b24gate::dispatch_pool_test
