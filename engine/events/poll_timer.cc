#include "engine/events/poll_timer.h"

#include <utility>

namespace b24gate {

PollTimer::PollTimer(Clock* clock) : clock_(clock), thread_([this] { Loop(); }) {}

PollTimer::~PollTimer() {
  {
    absl::MutexLock lock(&mu_);
    stopping_ = true;
  }
  thread_.join();
}

PollTimer::Entry PollTimer::After(absl::Duration delay, std::function<void()> fire) {
  absl::MutexLock lock(&mu_);
  const Entry entry{clock_->Now() + delay, arrivals_++};
  due_.emplace(entry, std::move(fire));
  return entry;
}

bool PollTimer::Cancel(const Entry& entry) {
  std::function<void()> dropped;
  {
    absl::MutexLock lock(&mu_);
    auto it = due_.find(entry);
    if (it == due_.end()) return false;
    dropped = std::move(it->second);
    due_.erase(it);
  }
  // `dropped` (and what it holds) goes here, after the lock.
  return true;
}

int PollTimer::pending() const {
  absl::MutexLock lock(&mu_);
  return static_cast<int>(due_.size());
}

void PollTimer::Loop() {
  absl::MutexLock lock(&mu_);
  while (!stopping_) {
    if (!due_.empty() && due_.begin()->first.first <= clock_->Now()) {
      std::function<void()> fire = std::move(due_.begin()->second);
      due_.erase(due_.begin());
      mu_.Unlock();
      fire();
      fire = nullptr;  // what it holds goes before the lock is taken again
      mu_.Lock();
      continue;
    }
    // Wakes for a new entry (it may be due sooner), the first due time, or
    // the stop; the condition is re-read whenever the lock is released.
    const size_t entries = due_.size();
    const absl::Time next = due_.empty() ? absl::InfiniteFuture() : due_.begin()->first.first;
    auto changed = [this, entries]() ABSL_NO_THREAD_SAFETY_ANALYSIS {
      return stopping_ || due_.size() != entries;
    };
    clock_->AwaitWithDeadline(&mu_, absl::Condition(&changed), next);
  }
}

}  // namespace b24gate
