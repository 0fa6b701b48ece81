// Client-side model of a portal's request-rate limit (docs/bitrix24-protocol.md, "Limits").
//
// The portal keeps a counter per portal that grows by 1 per admitted request
// and drains continuously at `drain_per_second`; a request arriving while the
// counter is above `burst - 1` is refused with 503 QUERY_LIMIT_EXCEEDED. This
// class models it as the equivalent GCRA ("virtual scheduling"): a theoretical
// arrival time `tat_` that every admitted request pushes forward by one
// emission interval. Reserve() hands out send times and commits them, so any
// number of callers asking at once are spread out and never overshoot.
//
// `headroom` keeps that many requests of the burst unused, to absorb the
// jitter that compresses the spacing of requests on their way to the portal
// (JitterHeadroom measures it; the configured value is the most kept).
//
// Thread-safety: not thread-safe; the owner serialises calls.
#ifndef B24GATE_ENGINE_THROTTLE_LEAKY_BUCKET_H_
#define B24GATE_ENGINE_THROTTLE_LEAKY_BUCKET_H_

#include "absl/time/time.h"

namespace b24gate {

struct BucketPolicy {
  double burst = 50;             // X: requests the portal admits at once
  double drain_per_second = 2;   // Y: requests per second it drains
  double headroom = 1;           // requests of the burst kept in reserve
};

class LeakyBucket {
 public:
  explicit LeakyBucket(BucketPolicy policy);

  // The earliest time >= now at which one more request would be admitted.
  // Does not reserve.
  absl::Time NextFree(absl::Time now) const;

  // Reserves the earliest slot >= now and returns its time. The caller must
  // send no earlier than that.
  absl::Time Reserve(absl::Time now);

  // A 503 QUERY_LIMIT_EXCEEDED at `now` says the portal's counter is full
  // (someone else shares the budget): move the model there.
  void MarkFull(absl::Time now);

  // The modelled counter at `now` (0..burst), for metrics.
  double Level(absl::Time now) const;

  // Sets the modelled counter to `level` at `now`: a mirror of a counter
  // kept elsewhere (replicas sharing the budget through Redis).
  void SetLevel(double level, absl::Time now);

  // Changes the policy at `now` (runtime tuning, autothrottle). The
  // modelled counter is kept: the portal's counter does not change because
  // our pace does, and re-reading the old state with a slower drain rate would
  // think the bucket emptier than it is and overshoot.
  void SetPolicy(BucketPolicy policy, absl::Time now);
  const BucketPolicy& policy() const { return policy_; }

  // Keeps `headroom` requests of the burst unused from now on. The counter
  // is kept: it is the portal's, whatever we keep in reserve.
  void SetHeadroom(double headroom) { policy_.headroom = headroom; }

 private:
  absl::Duration Interval() const;   // 1 / drain rate
  absl::Duration Tolerance() const;  // how far tat_ may run ahead of now

  BucketPolicy policy_;
  absl::Time tat_ = absl::InfinitePast();
};

}  // namespace b24gate

#endif  // B24GATE_ENGINE_THROTTLE_LEAKY_BUCKET_H_
