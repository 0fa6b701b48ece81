#include "engine/throttle/coalescing.h"

#include <algorithm>
#include <cmath>

namespace b24gate {

absl::Time CoalesceUntil(const LeakyBucket& bucket, absl::Time enqueued) {
  return CoalesceUntil(bucket.Level(enqueued), bucket.policy(), enqueued);
}

namespace {

double Usable(const BucketPolicy& policy) {
  return std::max(1.0, policy.burst - policy.headroom);
}

}  // namespace

absl::Time CoalesceUntil(double level, const BucketPolicy& policy, absl::Time enqueued) {
  double usable = Usable(policy);
  double fill = std::sqrt(std::clamp(level / usable, 0.0, 1.0));
  absl::Duration interval = absl::Seconds(1.0 / policy.drain_per_second);
  return enqueued + interval * fill;
}

bool BudgetScarce(double level, const BucketPolicy& policy) {
  return level >= Usable(policy) / 2;
}

}  // namespace b24gate
