// The request slots one replica holds, taken from the shared bucket in Redis
// ahead of time by the sync thread and spent by the dispatcher in memory, so
// that sending never waits on Redis.
//
// A slot counts in the shared bucket from the moment Redis granted it; the
// portal counts it when it is sent. A slot held a while before it is spent
// can leave the portal's counter above the shared model by at most what the
// portal drains in that while (the model drained a request the portal had
// not seen yet, while the portal's counter sat at zero). So a slot is good
// for `ttl` after it was granted and no longer, and the shared bucket keeps
// that much of the burst unused: LeasedPolicy().
//
// How many slots to hold: what the dispatcher spent during the last `ttl`,
// at least one while it asks for slots, at most `max_held`. A replica that
// stops sending lets its slots expire unspent (counted in Redis, never sent:
// the only cost of holding them).
//
// Thread-safety: not thread-safe; the owner serialises calls.
#ifndef B24GATE_ENGINE_BUDGET_BUCKET_LEASE_H_
#define B24GATE_ENGINE_BUDGET_BUCKET_LEASE_H_

#include <deque>

#include "absl/time/time.h"
#include "engine/throttle/leaky_bucket.h"

namespace b24gate {

// `policy` with the lease margin (what the portal drains in `ttl`) added to
// its headroom, leaving at least one request usable.
BucketPolicy LeasedPolicy(const BucketPolicy& policy, absl::Duration ttl);

class BucketLease {
 public:
  // REQUIRES: ttl > 0, max_held >= 1.
  BucketLease(absl::Duration ttl, int max_held);

  // ---- The dispatcher.
  // Slots held and not expired at `now`.
  int Held(absl::Time now) const;
  // Spends the oldest held slot. REQUIRES: Held(now) > 0.
  void Spend(absl::Time now);
  // The dispatcher wanted a slot at `now` and there was none.
  void Asked(absl::Time now);
  // A 503: the portal's counter is fuller than the shared model says; the
  // held slots are given up.
  void Drop() { held_.clear(); }

  // ---- The sync thread.
  // How many slots to ask Redis for at `now`.
  int Wanted(absl::Time now) const;
  // Redis granted `slots` at `at` (when the round started: they count from
  // then).
  void Granted(int slots, absl::Time at);
  void set_max_held(int max_held);

 private:
  // Forgets expired slots and spends older than `ttl_`.
  void Expire(absl::Time now) const;

  const absl::Duration ttl_;
  int max_held_;
  // Both mutable: what has expired is forgotten on any look.
  mutable std::deque<absl::Time> held_;   // when each held slot expires, oldest first
  mutable std::deque<absl::Time> spent_;  // when each slot of the last ttl_ was spent
  absl::Time asked_at_ = absl::InfinitePast();
  absl::Time granted_at_ = absl::InfinitePast();
};

}  // namespace b24gate

#endif  // B24GATE_ENGINE_BUDGET_BUCKET_LEASE_H_
