#include "engine/budget/fallback_share.h"

#include <algorithm>

namespace b24gate {

BucketPolicy ShareOf(const BucketPolicy& whole, int replicas) {
  BucketPolicy share = whole;
  const double n = std::max(1, replicas);
  share.burst = whole.burst / n;
  share.drain_per_second = whole.drain_per_second / n;
  share.headroom = whole.headroom / n;
  return share;
}

FallbackShare::FallbackShare(const BucketPolicy& whole, int replicas, absl::Duration grace)
    : replicas_(std::max(1, replicas)),
      grace_(grace),
      whole_(whole),
      share_(ShareOf(whole, replicas_)) {}

bool FallbackShare::Apart(absl::Time now) {
  if (apart_) return false;
  apart_ = true;
  // What the others sent just before is unknown: start from a full share.
  share_ = LeakyBucket(ShareOf(whole_, replicas_));
  share_.MarkFull(now);
  return true;
}

bool FallbackShare::Rejoin(absl::Time now, int64_t added) {
  unreported_ = std::max<int64_t>(0, unreported_ - added);
  if (!apart_) return false;
  apart_ = false;
  grace_until_ = now + grace_;
  return true;
}

void FallbackShare::Spend(absl::Time now) {
  share_.Reserve(now);
  if (apart_) unreported_++;
}

void FallbackShare::SetPolicy(const BucketPolicy& whole, absl::Time now) {
  whole_ = whole;
  share_.SetPolicy(ShareOf(whole, replicas_), now);
}

}  // namespace b24gate
