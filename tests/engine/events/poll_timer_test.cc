// PollTimer on a FakeClock: callbacks run when their time comes, in time
// order, and not before; a cancelled one goes at once and never runs.
#include "engine/events/poll_timer.h"

#include <gtest/gtest.h>

#include <functional>
#include <memory>
#include <string>

#include "absl/synchronization/mutex.h"
#include "engine/common/clock.h"

namespace b24gate::poll_timer_test {
namespace {

// The letters of the callbacks that ran, in the order they ran (on the
// timer's thread).
class FiredLog {
 public:
  std::function<void()> Mark(char c) {
    return [this, c] {
      absl::MutexLock lock(&mu_);
      fired_ += c;
    };
  }
  std::string fired() {
    absl::MutexLock lock(&mu_);
    return fired_;
  }

 private:
  absl::Mutex mu_;
  std::string fired_;
};

TEST(PollTimerTest, RunsEachCallbackOnceItsDelayHasPassedInTimeOrder) {
  FakeClock clock;
  PollTimer timer(&clock);
  FiredLog log;
  timer.After(absl::Seconds(2), log.Mark('b'));
  timer.After(absl::Seconds(1), log.Mark('a'));
  ASSERT_TRUE(clock.AwaitBlocked(1));
  EXPECT_EQ(timer.pending(), 2);
  clock.Advance(absl::Milliseconds(999));
  ASSERT_TRUE(clock.AwaitBlocked(1));
  EXPECT_EQ(timer.pending(), 2);
  clock.Advance(absl::Seconds(1));
  ASSERT_TRUE(clock.AwaitBlocked(1));
  EXPECT_EQ(timer.pending(), 1);
  clock.Advance(absl::Seconds(1));
  ASSERT_TRUE(clock.AwaitBlocked(1));
  EXPECT_EQ(timer.pending(), 0);
  EXPECT_EQ(log.fired(), "ab");
}

TEST(PollTimerTest, DestroyingDropsWhatIsNotDue) {
  FakeClock clock;
  bool ran = false;
  {
    PollTimer timer(&clock);
    timer.After(absl::Hours(1), [&] { ran = true; });
  }
  EXPECT_FALSE(ran);
}

TEST(PollTimerTest, ACancelledEntryGoesAtOnceAndNeverRuns) {
  FakeClock clock;
  PollTimer timer(&clock);
  FiredLog log;
  // Two entries due at the same time: cancelling one leaves the other.
  const PollTimer::Entry a = timer.After(absl::Seconds(1), log.Mark('a'));
  const PollTimer::Entry b = timer.After(absl::Seconds(1), log.Mark('b'));
  auto held = std::make_shared<int>(0);
  const PollTimer::Entry c = timer.After(absl::Hours(1), [held] {});
  EXPECT_EQ(held.use_count(), 2);
  EXPECT_TRUE(timer.Cancel(b));
  EXPECT_TRUE(timer.Cancel(c));
  EXPECT_EQ(timer.pending(), 1);
  EXPECT_EQ(held.use_count(), 1) << "the cancelled callback was kept";
  EXPECT_FALSE(timer.Cancel(b)) << "cancelled twice";
  clock.Advance(absl::Seconds(1));
  ASSERT_TRUE(clock.AwaitBlocked(1));
  EXPECT_EQ(timer.pending(), 0);
  EXPECT_FALSE(timer.Cancel(a)) << "it ran already";
  EXPECT_EQ(log.fired(), "a");
}

}  // namespace
}  // namespace b24gate::poll_timer_test
