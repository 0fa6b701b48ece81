#include "engine/budget/budget_syncer.h"

#include <algorithm>
#include <utility>

namespace b24gate {

BudgetSyncer::BudgetSyncer(Clock* clock) : clock_(clock) {
  thread_ = std::thread([this] { Loop(); });
}

BudgetSyncer::~BudgetSyncer() {
  {
    absl::MutexLock lock(&mu_);
    stopping_ = true;
  }
  thread_.join();
}

void BudgetSyncer::Add(Task* task) {
  absl::MutexLock lock(&mu_);
  tasks_.push_back(task);
  task->woken_ = woken_ = true;
}

void BudgetSyncer::Remove(Task* task) {
  absl::MutexLock lock(&mu_);
  tasks_.erase(std::find(tasks_.begin(), tasks_.end(), task));
  // A pass begun before the erase may still call `task`; later ones do not.
  const int64_t pass = passes_;
  auto done = [this, pass]() ABSL_EXCLUSIVE_LOCKS_REQUIRED(mu_) {
    return !in_pass_ || passes_ != pass;
  };
  mu_.Await(absl::Condition(&done));
}

void BudgetSyncer::Wake(Task* task) {
  absl::MutexLock lock(&mu_);
  task->woken_ = woken_ = true;
}

void BudgetSyncer::Loop() {
  absl::Time next = absl::InfinitePast();
  std::vector<Entry> tasks;
  for (;;) {
    {
      absl::MutexLock lock(&mu_);
      in_pass_ = false;
      if (!AwaitPass(next, &tasks)) return;
    }
    next = RunDue(tasks);
  }
}

bool BudgetSyncer::AwaitPass(absl::Time next, std::vector<Entry>* tasks) {
  auto woken = [this]() ABSL_EXCLUSIVE_LOCKS_REQUIRED(mu_) { return woken_ || stopping_; };
  if (clock_->Now() < next) clock_->AwaitWithDeadline(&mu_, absl::Condition(&woken), next);
  if (stopping_) return false;
  // Cleared before the tasks are asked: a Wake() from now on makes another pass.
  woken_ = false;
  tasks->clear();
  for (Task* task : tasks_) tasks->push_back({task, std::exchange(task->woken_, false)});
  in_pass_ = true;
  passes_++;
  return true;
}

absl::Time BudgetSyncer::RunDue(const std::vector<Entry>& tasks) {
  absl::Time next = absl::InfiniteFuture();
  for (const Entry& e : tasks) {
    Task& task = *e.task;
    if (e.woken || task.due_ <= clock_->Now()) task.due_ = task.DueAt(clock_->Now());
    if (task.due_ <= clock_->Now()) {
      task.RunRound();
      task.due_ = task.DueAt(clock_->Now());
    }
    next = std::min(next, task.due_);
  }
  return next;
}

}  // namespace b24gate
