// One replica's share of a portal's request budget while it cannot reach the
// shared bucket in Redis: 1/N of the burst and of the drain rate (N, the
// most replicas that may run at once), so that N replicas apart from each
// other still keep within the portal's budget together.
//
// The share starts full on falling back: what the others sent just before is
// not known. Requests sent on it while apart are not in the shared counter;
// on rejoining they are added to it (unreported()). For `grace` after
// rejoining the share still binds as well: the other replicas notice Redis
// is back only at their next attempt, and until they do they send on their
// own shares, which the shared counter does not see.
//
// Thread-safety: not thread-safe; the owner serialises calls.
#ifndef B24GATE_ENGINE_BUDGET_FALLBACK_SHARE_H_
#define B24GATE_ENGINE_BUDGET_FALLBACK_SHARE_H_

#include <cstdint>

#include "absl/time/time.h"
#include "engine/throttle/leaky_bucket.h"

namespace b24gate {

// 1/`replicas` of `whole` (burst, drain rate and headroom).
BucketPolicy ShareOf(const BucketPolicy& whole, int replicas);

class FallbackShare {
 public:
  // REQUIRES: replicas >= 1.
  FallbackShare(const BucketPolicy& whole, int replicas, absl::Duration grace);

  // Redis failed at `now`: the share binds from now on, starting full.
  // True when this is a switch (it was sharing).
  bool Apart(absl::Time now);
  // Redis answered at `now`, having added `added` of unreported() to the
  // shared counter. True when this is a switch (it was apart).
  bool Rejoin(absl::Time now, int64_t added);
  bool apart() const { return apart_; }
  // Whether sending must also fit the share at `now`: apart, or in the grace
  // after rejoining.
  bool Binds(absl::Time now) const { return apart_ || now < grace_until_; }

  // The earliest time >= now the share admits one more request.
  absl::Time NextFree(absl::Time now) const { return share_.NextFree(now); }
  // One request sent at `now` within the share. REQUIRES: NextFree(now) <= now.
  void Spend(absl::Time now);
  // Requests sent on the share while apart that the shared counter has not
  // been told of.
  int64_t unreported() const { return unreported_; }

  void MarkFull(absl::Time now) { share_.MarkFull(now); }
  void SetPolicy(const BucketPolicy& whole, absl::Time now);
  // The whole portal's counter as the share models it.
  double Level(absl::Time now) const { return share_.Level(now) * replicas_; }

 private:
  const int replicas_;
  const absl::Duration grace_;
  BucketPolicy whole_;
  LeakyBucket share_;
  bool apart_ = false;
  absl::Time grace_until_ = absl::InfinitePast();
  int64_t unreported_ = 0;
};

}  // namespace b24gate

#endif  // B24GATE_ENGINE_BUDGET_FALLBACK_SHARE_H_
