// A share of a BlockingPool for one kind of job, bounded on its own: at
// most `max_in_flight` of its jobs wait or run at a time, so that one
// caller (an admin read of Redis, say) cannot fill the pool's queue and
// hold up the others' blocking work (the offline sources' stores).
//
// Thread-safety: thread-safe.
#ifndef B24GATE_ENGINE_COMMON_BLOCKING_LANE_H_
#define B24GATE_ENGINE_COMMON_BLOCKING_LANE_H_

#include <functional>
#include <memory>

#include "absl/base/thread_annotations.h"
#include "absl/synchronization/mutex.h"
#include "engine/common/blocking_pool.h"

namespace b24gate {

class BlockingLane {
 public:
  // `pool` must outlive the lane's jobs. REQUIRES: max_in_flight >= 1.
  BlockingLane(BlockingPool* pool, int max_in_flight);

  // Queues `job` on the pool. Returns false (and drops both) when
  // max_in_flight jobs of the lane wait or run already, or the pool
  // refused it. `then` (optional) runs on the same thread after `job`, once
  // the job no longer counts against the lane: what answers the caller
  // (an RPC's Finish) goes there, so a caller that has its answer and
  // submits again never finds its own finished job still holding a place.
  bool Submit(std::function<void()> job, std::function<void()> then = nullptr);

  // Jobs of the lane waiting or running (for tests).
  int in_flight() const;

 private:
  // Shared with the jobs, which count themselves out when they end.
  struct Count {
    mutable absl::Mutex mu;
    int in_flight ABSL_GUARDED_BY(mu) = 0;
  };

  BlockingPool* const pool_;
  const int max_in_flight_;
  const std::shared_ptr<Count> count_ = std::make_shared<Count>();
};

}  // namespace b24gate

#endif  // B24GATE_ENGINE_COMMON_BLOCKING_LANE_H_
