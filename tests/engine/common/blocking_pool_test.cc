// BlockingPool: jobs run off the caller's thread, in the order handed in
// on a one-thread pool; beyond max_queued waiting jobs Submit refuses; the
// destructor runs what was queued before it joins.
#include "engine/common/blocking_pool.h"

#include <gtest/gtest.h>

#include <thread>
#include <vector>

#include "absl/synchronization/mutex.h"
#include "absl/synchronization/notification.h"

namespace b24gate::blocking_pool_test {
namespace {

TEST(BlockingPoolTest, RunsJobsOffTheCallersThreadInOrder) {
  absl::Mutex mu;
  std::vector<int> order;
  std::vector<std::thread::id> threads;
  {
    BlockingPool::Options options;
    options.threads = 1;
    BlockingPool pool(options);
    for (int i = 0; i < 5; ++i) {
      ASSERT_TRUE(pool.Submit([&, i] {
        absl::MutexLock lock(&mu);
        order.push_back(i);
        threads.push_back(std::this_thread::get_id());
      }));
    }
  }
  EXPECT_EQ(order, (std::vector<int>{0, 1, 2, 3, 4})) << "every queued job ran before the pool went";
  for (std::thread::id id : threads) EXPECT_NE(id, std::this_thread::get_id());
}

TEST(BlockingPoolTest, RefusesBeyondMaxQueuedWhileItsThreadsAreBusy) {
  BlockingPool::Options options;
  options.threads = 1;
  options.max_queued = 2;
  BlockingPool pool(options);
  absl::Notification started, release;
  ASSERT_TRUE(pool.Submit([&] {
    started.Notify();
    release.WaitForNotification();
  }));
  started.WaitForNotification();  // the thread is busy; the queue is empty
  EXPECT_TRUE(pool.Submit([] {}));
  EXPECT_TRUE(pool.Submit([] {}));
  EXPECT_FALSE(pool.Submit([] {})) << "two wait already";
  EXPECT_EQ(pool.queued(), 2u);
  release.Notify();
}

}  // namespace
}  // namespace b24gate::blocking_pool_test
