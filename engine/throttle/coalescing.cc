#include "engine/throttle/coalescing.h"

#include <algorithm>

namespace b24gate {

absl::Time CoalesceUntil(const LeakyBucket& bucket, absl::Time enqueued, absl::Duration floor) {
  const BucketPolicy& policy = bucket.policy();
  double usable = std::max(1.0, policy.burst - policy.headroom);
  double fill = std::clamp(bucket.Level(enqueued) / usable, 0.0, 1.0);
  absl::Duration interval = absl::Seconds(1.0 / policy.drain_per_second);
  return enqueued + std::max(floor, interval * fill);
}

}  // namespace b24gate
