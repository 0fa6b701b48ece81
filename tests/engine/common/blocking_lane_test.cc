// BlockingLane: at most max_in_flight of its jobs wait or run at once, the
// rest refused at once; a finished job frees its place; a job of another
// caller still gets the pool while the lane is full; a job's `then` runs
// once its place is free.
#include "engine/common/blocking_lane.h"

#include <gtest/gtest.h>

#include "absl/synchronization/notification.h"
#include "tests/support/wait_for.h"

namespace b24gate::blocking_lane_test {
namespace {

using ::b24gate::testing::WaitFor;

TEST(BlockingLaneTest, RefusesBeyondItsBoundAndLeavesThePoolToOthers) {
  BlockingPool::Options options;
  options.threads = 2;
  BlockingPool pool(options);
  BlockingLane lane(&pool, 1);
  absl::Notification started, release;
  ASSERT_TRUE(lane.Submit([&] {
    started.Notify();
    release.WaitForNotification();
  }));
  started.WaitForNotification();
  EXPECT_FALSE(lane.Submit([] {})) << "one runs: the lane is full";
  EXPECT_EQ(lane.in_flight(), 1);
  absl::Notification other;
  ASSERT_TRUE(pool.Submit([&] { other.Notify(); }));
  EXPECT_TRUE(other.WaitForNotificationWithTimeout(absl::Seconds(30))) << "the pool's other thread is free";
  release.Notify();
  ASSERT_TRUE(WaitFor([&] { return lane.in_flight() == 0; }));
  absl::Notification again;
  EXPECT_TRUE(lane.Submit([&] { again.Notify(); })) << "the place is free again";
  EXPECT_TRUE(again.WaitForNotificationWithTimeout(absl::Seconds(30)));
}

// What answers a caller runs after the job left the lane: a caller that
// submits again as soon as it has its answer is never refused for the place
// its own finished job held.
TEST(BlockingLaneTest, ThenRunsOnceTheJobsPlaceIsFree) {
  BlockingPool pool(BlockingPool::Options{});
  BlockingLane lane(&pool, 1);
  absl::Notification answered, again;
  int in_flight_when_answered = -1;
  bool resubmitted = false;
  ASSERT_TRUE(lane.Submit([] {},
                          [&] {
                            in_flight_when_answered = lane.in_flight();
                            resubmitted = lane.Submit([&] { again.Notify(); });
                            answered.Notify();
                          }));
  ASSERT_TRUE(answered.WaitForNotificationWithTimeout(absl::Seconds(30)));
  EXPECT_EQ(in_flight_when_answered, 0);
  EXPECT_TRUE(resubmitted) << "refused for the place of a job that had ended";
  if (resubmitted) EXPECT_TRUE(again.WaitForNotificationWithTimeout(absl::Seconds(30)));
}

}  // namespace
}  // namespace b24gate::blocking_lane_test
