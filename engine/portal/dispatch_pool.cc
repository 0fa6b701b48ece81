#include "engine/portal/dispatch_pool.h"

#include <cstddef>

#include "absl/synchronization/blocking_counter.h"
#include "engine/common/heap_warmth.h"

namespace b24gate {

DispatchPool::DispatchPool(Clock* clock, int threads, size_t warm_bytes) : clock_(clock) {
  absl::BlockingCounter warm(threads);
  for (int i = 0; i < threads; ++i) {
    threads_.emplace_back([this, &warm, warm_bytes] {
      if (warm_bytes > 0) WarmThreadHeap(warm_bytes);
      warm.DecrementCount();
      Work();
    });
  }
  warm.Wait();
}

DispatchPool::~DispatchPool() {
  {
    absl::MutexLock lock(&mu_);
    stopping_ = true;
  }
  for (auto& t : threads_) t.join();
}

void DispatchPool::Add(Task* task) {
  absl::MutexLock lock(&mu_);
  MakeReady(task, tasks_[task]);
}

void DispatchPool::Remove(Task* task) {
  absl::MutexLock lock(&mu_);
  auto idle = [this, task]() ABSL_EXCLUSIVE_LOCKS_REQUIRED(mu_) {
    auto it = tasks_.find(task);
    return it == tasks_.end() || !it->second.running;
  };
  mu_.Await(absl::Condition(&idle));
  tasks_.erase(task);
  for (auto it = ready_.begin(); it != ready_.end();) {
    it = *it == task ? ready_.erase(it) : std::next(it);
  }
}

void DispatchPool::Wake(Task* task) {
  absl::MutexLock lock(&mu_);
  auto it = tasks_.find(task);
  if (it == tasks_.end()) return;
  if (it->second.running) {
    it->second.woken = true;
  } else {
    MakeReady(task, it->second);
  }
}

void DispatchPool::Run(std::function<void()> job, bool quick) {
  absl::MutexLock lock(&mu_);
  if (!quick) {
    jobs_.push_back(std::move(job));
    return;
  }
  jobs_.insert(jobs_.begin() + static_cast<std::ptrdiff_t>(quick_jobs_), std::move(job));
  ++quick_jobs_;
}

void DispatchPool::RunWhenIdle(std::function<void()> job) {
  absl::MutexLock lock(&mu_);
  idle_jobs_.push_back(std::move(job));
}

void DispatchPool::TurnHere(Task* task) {
  absl::MutexLock lock(&mu_);
  auto it = tasks_.find(task);
  if (it == tasks_.end()) return;
  Entry& entry = it->second;
  if (entry.running) {
    entry.woken = true;
    return;
  }
  if (entry.ready) return;  // a worker takes it in its order
  entry.due = absl::InfiniteFuture();
  entry.running = true;
  entry.woken = false;
  mu_.Unlock();
  const absl::Time again = task->RunTurn();
  mu_.Lock();
  // `entry` stays valid: Remove waits while the task is running.
  const size_t timers = timers_.size();
  AfterTurn(task, entry, again);
  if (timers_.size() != timers) ++timers_set_here_;
}

void DispatchPool::AfterTurn(Task* task, Entry& e, absl::Time again) {
  e.running = false;
  if (e.woken) {
    MakeReady(task, e);
  } else {
    Schedule(task, e, again, clock_->Now());
  }
}

void DispatchPool::MakeReady(Task* task, Entry& e) {
  e.due = absl::InfiniteFuture();
  if (e.ready || e.running) return;
  e.ready = true;
  ready_.push_back(task);
}

void DispatchPool::Schedule(Task* task, Entry& e, absl::Time at, absl::Time now) {
  if (at <= now) {
    MakeReady(task, e);
    return;
  }
  e.due = at;
  if (at != absl::InfiniteFuture()) timers_.emplace(at, task);
}

absl::Time DispatchPool::FireTimers(absl::Time now) {
  while (!timers_.empty() && timers_.begin()->first <= now) {
    auto [at, task] = *timers_.begin();
    timers_.erase(timers_.begin());
    auto it = tasks_.find(task);
    if (it != tasks_.end() && it->second.due == at && !it->second.running) {
      MakeReady(task, it->second);
    }
  }
  return timers_.empty() ? absl::InfiniteFuture() : timers_.begin()->first;
}

void DispatchPool::Work() {
  absl::MutexLock lock(&mu_);
  bool job_next = false;  // when both wait: a job after a turn, a turn after a job
  for (;;) {
    const absl::Time next_timer = FireTimers(clock_->Now());
    if (!jobs_.empty() && (job_next || ready_.empty() || stopping_)) {
      job_next = false;
      RunJob();
      continue;
    }
    if (!idle_jobs_.empty() && (ready_.empty() || stopping_)) {
      RunIdleJob();
      continue;
    }
    if (stopping_) return;
    if (ready_.empty()) {
      // Nothing to run before the next timer, unless a task is woken, a job
      // handed in or a turn run by TurnHere sets an earlier one.
      const uint64_t seen = timers_set_here_;
      auto woken = [this, seen]() ABSL_NO_THREAD_SAFETY_ANALYSIS {
        return !ready_.empty() || !jobs_.empty() || !idle_jobs_.empty() || stopping_ ||
               timers_set_here_ != seen;
      };
      clock_->AwaitWithDeadline(&mu_, absl::Condition(&woken), next_timer);
      continue;
    }
    Task* task = ready_.front();
    ready_.pop_front();
    Entry& entry = tasks_[task];
    entry.ready = false;
    entry.running = true;
    entry.woken = false;
    mu_.Unlock();
    turns_.fetch_add(1);
    const absl::Time again = task->RunTurn();
    mu_.Lock();
    // `entry` stays valid: Remove waits while the task is running.
    AfterTurn(task, entry, again);
    job_next = true;
  }
}

void DispatchPool::RunJob() {
  std::function<void()> job = std::move(jobs_.front());
  jobs_.pop_front();
  if (quick_jobs_ > 0) --quick_jobs_;
  mu_.Unlock();
  job();
  job = nullptr;  // what it holds goes before the lock is taken again
  mu_.Lock();
}

void DispatchPool::RunIdleJob() {
  std::function<void()> job = std::move(idle_jobs_.front());
  idle_jobs_.pop_front();
  mu_.Unlock();
  job();
  job = nullptr;  // what it holds goes before the lock is taken again
  mu_.Lock();
}

}  // namespace b24gate
