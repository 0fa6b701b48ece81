// BudgetSyncer: one thread runs the rounds of every task, each when it is
// due or woken. Fake time, fake tasks.
#include "engine/budget/budget_syncer.h"

#include <memory>
#include <vector>

#include <gtest/gtest.h>

#include "tests/support/threads.h"

namespace b24gate::budget_syncer_test {
namespace {

using testing::ThreadsOfThisProcess;

// A store's rounds: due at `due`, then every second.
class FakeTask : public BudgetSyncer::Task {
 public:
  explicit FakeTask(absl::Time due) : due_at_(due) {}

  absl::Time DueAt(absl::Time) override {
    absl::MutexLock lock(&mu_);
    return due_at_;
  }
  void RunRound() override {
    absl::MutexLock lock(&mu_);
    rounds_++;
    due_at_ += absl::Seconds(1);
  }
  void set_due(absl::Time due) {
    absl::MutexLock lock(&mu_);
    due_at_ = due;
  }
  int rounds() {
    absl::MutexLock lock(&mu_);
    return rounds_;
  }

 private:
  absl::Mutex mu_;
  absl::Time due_at_ ABSL_GUARDED_BY(mu_);
  int rounds_ ABSL_GUARDED_BY(mu_) = 0;
};

TEST(BudgetSyncerTest, OneThreadRunsTheRoundsOfEveryTask) {
  FakeClock clock;
  const int before = ThreadsOfThisProcess();
  BudgetSyncer syncer(&clock);
  std::vector<std::unique_ptr<FakeTask>> tasks;
  for (int i = 0; i < 100; ++i) {
    // Due at 1 s or 2 s from now.
    tasks.push_back(std::make_unique<FakeTask>(clock.Now() + absl::Seconds(1 + i % 2)));
    syncer.Add(tasks.back().get());
  }
  EXPECT_EQ(ThreadsOfThisProcess(), before + 1);
  ASSERT_TRUE(clock.AwaitBlocked(1));
  for (const auto& task : tasks) EXPECT_EQ(task->rounds(), 0);

  clock.Advance(absl::Seconds(1));
  ASSERT_TRUE(clock.AwaitBlocked(1));
  for (int i = 0; i < 100; ++i) EXPECT_EQ(tasks[i]->rounds(), i % 2 == 0 ? 1 : 0) << i;

  clock.Advance(absl::Seconds(1));
  ASSERT_TRUE(clock.AwaitBlocked(1));
  for (int i = 0; i < 100; ++i) EXPECT_EQ(tasks[i]->rounds(), i % 2 == 0 ? 2 : 1) << i;

  for (const auto& task : tasks) syncer.Remove(task.get());
}

TEST(BudgetSyncerTest, AWokenTaskRunsWithoutWaitingForTime) {
  FakeClock clock;
  BudgetSyncer syncer(&clock);
  FakeTask idle(absl::InfiniteFuture());
  FakeTask task(absl::InfiniteFuture());
  syncer.Add(&idle);
  syncer.Add(&task);
  ASSERT_TRUE(clock.AwaitBlocked(1));

  task.set_due(clock.Now());
  syncer.Wake(&task);
  ASSERT_TRUE(clock.AwaitBlocked(1));
  EXPECT_EQ(task.rounds(), 1);
  EXPECT_EQ(idle.rounds(), 0);

  syncer.Remove(&task);
  syncer.Remove(&idle);
}

TEST(BudgetSyncerTest, ARemovedTaskIsNotCalledAgain) {
  FakeClock clock;
  BudgetSyncer syncer(&clock);
  FakeTask task(clock.Now() + absl::Seconds(1));
  syncer.Add(&task);
  ASSERT_TRUE(clock.AwaitBlocked(1));
  syncer.Remove(&task);
  clock.Advance(absl::Seconds(5));
  ASSERT_TRUE(clock.AwaitBlocked(1));
  EXPECT_EQ(task.rounds(), 0);
}

}  // namespace
}  // namespace b24gate::budget_syncer_test
