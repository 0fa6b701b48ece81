#include "engine/throttle/leaky_bucket.h"

#include <algorithm>

namespace b24gate {

LeakyBucket::LeakyBucket(BucketPolicy policy) : policy_(policy) {}

absl::Duration LeakyBucket::Interval() const {
  return absl::Seconds(1.0 / policy_.drain_per_second);
}

absl::Duration LeakyBucket::Tolerance() const {
  double usable = std::max(1.0, policy_.burst - policy_.headroom);
  return Interval() * (usable - 1);
}

absl::Time LeakyBucket::NextFree(absl::Time now) const {
  if (tat_ == absl::InfinitePast()) return now;
  return std::max(now, tat_ - Tolerance());
}

absl::Time LeakyBucket::Reserve(absl::Time now) {
  absl::Time at = NextFree(now);
  tat_ = std::max(tat_ == absl::InfinitePast() ? at : tat_, at) + Interval();
  return at;
}

void LeakyBucket::MarkFull(absl::Time now) {
  absl::Time full = now + Interval() * policy_.burst;
  if (tat_ == absl::InfinitePast() || tat_ < full) tat_ = full;
}

double LeakyBucket::Level(absl::Time now) const {
  if (tat_ == absl::InfinitePast() || tat_ <= now) return 0;
  return absl::FDivDuration(tat_ - now, Interval());
}

void LeakyBucket::SetLevel(double level, absl::Time now) {
  tat_ = level > 0 ? now + Interval() * level : absl::InfinitePast();
}

void LeakyBucket::SetPolicy(BucketPolicy policy, absl::Time now) {
  double level = Level(now);  // in the old policy's terms
  policy_ = policy;
  if (level > 0) tat_ = now + Interval() * level;
}

}  // namespace b24gate
