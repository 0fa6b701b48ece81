#include "engine/common/blocking_lane.h"

#include <utility>

namespace b24gate {

BlockingLane::BlockingLane(BlockingPool* pool, int max_in_flight) : pool_(pool), max_in_flight_(max_in_flight) {}

bool BlockingLane::Submit(std::function<void()> job, std::function<void()> then) {
  {
    absl::MutexLock lock(&count_->mu);
    if (count_->in_flight >= max_in_flight_) return false;
    ++count_->in_flight;
  }
  bool taken = pool_->Submit([count = count_, job = std::move(job), then = std::move(then)] {
    job();
    {
      absl::MutexLock lock(&count->mu);
      --count->in_flight;
    }
    if (then) then();
  });
  if (!taken) {
    absl::MutexLock lock(&count_->mu);
    --count_->in_flight;
  }
  return taken;
}

int BlockingLane::in_flight() const {
  absl::MutexLock lock(&count_->mu);
  return count_->in_flight;
}

}  // namespace b24gate
