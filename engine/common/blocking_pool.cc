#include "engine/common/blocking_pool.h"

#include <utility>

namespace b24gate {

BlockingPool::BlockingPool(Options options) : options_(options) {
  for (int i = 0; i < options_.threads; ++i) threads_.emplace_back([this] { Work(); });
}

BlockingPool::~BlockingPool() {
  {
    absl::MutexLock lock(&mu_);
    stopping_ = true;
  }
  for (std::thread& t : threads_) t.join();
}

bool BlockingPool::Submit(std::function<void()> job) {
  absl::MutexLock lock(&mu_);
  if (stopping_ || jobs_.size() >= options_.max_queued) return false;
  jobs_.push_back(std::move(job));
  return true;
}

size_t BlockingPool::queued() const {
  absl::MutexLock lock(&mu_);
  return jobs_.size();
}

void BlockingPool::Work() {
  for (;;) {
    std::function<void()> job;
    {
      absl::MutexLock lock(&mu_);
      auto ready = [this]() ABSL_EXCLUSIVE_LOCKS_REQUIRED(mu_) { return !jobs_.empty() || stopping_; };
      mu_.Await(absl::Condition(&ready));
      // Stopping still drains: the queue empties before a thread leaves.
      if (jobs_.empty()) return;
      job = std::move(jobs_.front());
      jobs_.pop_front();
    }
    job();
  }
}

}  // namespace b24gate
