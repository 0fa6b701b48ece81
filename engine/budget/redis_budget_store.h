// Portal budgets shared by gateway replicas through Redis, spent locally.
//
// The request bucket lives in Redis, on Redis's clock, so the replicas
// together never send faster than the portal admits. Each replica holds a
// lease of slots taken from it ahead of time (BucketLease): the dispatcher
// spends them in memory, and the gateway's sync thread (BudgetSyncer, one for
// all its portals) tops the lease up. A replica
// that dies holds nothing beyond the slots it already took (they drain as
// the portal's counter does). The replica mirrors the shared counter from
// the answers, for Level() and for when to look again.
//
// Operating time: each replica predicts costs and reserves them locally, as
// OperatingTracker does; the sync thread publishes its news (the portal's
// reports, pauses after a 429, its reservations in flight) within
// milliseconds of a change and at least every `sync_interval`, and reads
// everyone's. Reservations of a replica expire `reservation_ttl` after it
// last published them. The publish is not atomic with the local check: two
// replicas may both take the last room for a method within one round trip;
// the operating margin (60 s by default) covers that.
//
// Both travel in one round (engine/budget/sync_protocol.h). Only the sync
// thread talks to Redis, and never while holding the store's lock: the lock
// guards the in-memory state alone, so Redis latency or an outage changes
// only how fast the lease is refilled, never how long a dispatcher call
// takes. A stalled round of another portal delays this one's rounds by at
// most the client's timeouts (see BudgetSyncer).
//
// Redis unreachable or slow (a round takes longer than `timeout`): the store
// falls back to a local share of the portal (FallbackShare: 1/`replicas`,
// starting full, still spending the slots it holds), says so once through
// `on_switch`, and counts the failure. The sync thread keeps trying (at the
// client's reconnect backoff); when Redis answers again it adds what it sent
// apart to the shared counter, shares again, says so once, and keeps to its
// share as well for `resume_grace`. Callers never see an error from any of
// this. While apart, a request's predicted operating time counts
// `replicas` times against what is left of its method.
//
// Thread-safety: thread-safe. No method waits on Redis; on_switch is called
// from the sync thread without any lock held. The lock order is the store's
// mu_, then the syncer's.
#ifndef B24GATE_ENGINE_BUDGET_REDIS_BUDGET_STORE_H_
#define B24GATE_ENGINE_BUDGET_REDIS_BUDGET_STORE_H_

#include <functional>
#include <memory>
#include <optional>
#include <set>
#include <string>

#include "absl/synchronization/mutex.h"
#include "engine/budget/bucket_lease.h"
#include "engine/budget/budget_store.h"
#include "engine/budget/budget_syncer.h"
#include "engine/budget/fallback_share.h"
#include "engine/budget/sync_protocol.h"
#include "engine/common/clock.h"
#include "engine/redis/redis_client.h"

namespace b24gate {

struct SharedBudgetOptions {
  // Where Redis is, its password and its timeouts (`command_timeout` is the
  // `timeout` above).
  RedisOptions redis;
  // Prepended to every key, so several gateways (or environments) can share
  // one Redis.
  std::string key_prefix = "b24gate:";
  // N, the number of replicas: while Redis is away each uses 1/N of the
  // budget. Set it to the most replicas that may run at once.
  int replicas = 1;
  absl::Duration sync_interval = absl::Milliseconds(250);
  absl::Duration reservation_ttl = absl::Seconds(3);
  // How long a leased request slot stays good (see BucketLease): the shared
  // bucket keeps what the portal drains in this time unused. Long enough to
  // carry steady traffic over a Redis stall until the fallback share admits.
  absl::Duration lease_ttl = absl::Seconds(1);
  // After Redis returns, how long a replica keeps to its share as well (see
  // above): at least the longest reconnect backoff (redis.max_backoff) plus
  // sync_interval, so that every replica has shared again by then.
  absl::Duration resume_grace = absl::Seconds(5);
  // Told once on each switch: (portal, true, why) on falling back,
  // (portal, false, "") on sharing again. Never gets a secret.
  std::function<void(const std::string& portal, bool fallback, const std::string& why)> on_switch;
};

class RedisBudgetSharing : public BudgetSharing {
 public:
  // One connection and one sync thread for all the gateway's portals;
  // `clock` must outlive this and every store it makes.
  RedisBudgetSharing(SharedBudgetOptions options, Clock* clock);
  std::unique_ptr<BudgetStore> StoreFor(const std::string& portal, BucketPolicy bucket,
                                        OperatingPolicy operating, Clock* clock) override;
  const std::string& replica_id() const { return replica_id_; }

 private:
  const SharedBudgetOptions options_;
  std::shared_ptr<RedisClient> client_;
  std::shared_ptr<BudgetSyncer> syncer_;  // kept alive by the stores too
  const std::string replica_id_;  // random per process
};

class RedisBudgetStore : public BudgetStore, private BudgetSyncer::Task {
 public:
  // Runs its rounds on `syncer`.
  RedisBudgetStore(std::shared_ptr<RedisClient> client, std::shared_ptr<BudgetSyncer> syncer,
                   SharedBudgetOptions options, std::string portal, std::string replica_id,
                   BucketPolicy bucket, OperatingPolicy operating, Clock* clock);
  // Leaves the syncer (waiting for a round under way); this replica's
  // reservations expire in Redis.
  ~RedisBudgetStore() override;

  RequestBudget& requests() override;
  OperatingBudget& operating() override;
  BudgetStatus Status() const override;

 private:
  class RequestsFace;
  class OperatingFace;
  struct Round {
    SyncRequest request;
    std::set<std::string> reported;  // methods whose news it publishes
    absl::Time started;
    bool apart = false;
  };
  struct Switch {
    bool fallback;
    std::string why;
  };

  // When one more request may go at `now`: now when a slot is at hand (the
  // lease's, or the share's while apart). Otherwise says the dispatcher
  // asked, so the syncer refills. REQUIRES: mu_ held.
  absl::Time FreeAt(absl::Time now) ABSL_EXCLUSIVE_LOCKS_REQUIRED(mu_);
  // Spends the slot FreeAt(now) found. REQUIRES: mu_ held, FreeAt(now) <= now.
  void Spend(absl::Time now) ABSL_EXCLUSIVE_LOCKS_REQUIRED(mu_);
  void SetBucketPolicy(const BucketPolicy& policy, absl::Time now)
      ABSL_EXCLUSIVE_LOCKS_REQUIRED(mu_);
  // There is news for the next round. REQUIRES: mu_ held.
  void News() ABSL_EXCLUSIVE_LOCKS_REQUIRED(mu_) {
    news_ = true;
    syncer_->Wake(this);
  }

  // BudgetSyncer::Task, on the sync thread. REQUIRES: mu_ not held.
  absl::Time DueAt(absl::Time now) override ABSL_LOCKS_EXCLUDED(mu_);
  // One round with Redis, not under mu_. REQUIRES: mu_ not held.
  void RunRound() override ABSL_LOCKS_EXCLUDED(mu_);
  absl::Time NextRoundAt(absl::Time now) const ABSL_EXCLUSIVE_LOCKS_REQUIRED(mu_);
  // What to send: this replica's news and the slots it wants. Takes the
  // news out of reported_ and full_pending_. REQUIRES: mu_ held.
  Round NextRound(absl::Time now) ABSL_EXCLUSIVE_LOCKS_REQUIRED(mu_);
  // Takes in Redis's answer to `round`, its failure, or nullopt when it was
  // not sent (waiting to reconnect); says when sharing switched.
  // REQUIRES: mu_ held.
  std::optional<Switch> Apply(const Round& round,
                              const std::optional<absl::StatusOr<RedisReply>>& reply,
                              absl::Time now) ABSL_EXCLUSIVE_LOCKS_REQUIRED(mu_);
  void Adopt(const SyncAnswer& answer) ABSL_EXCLUSIVE_LOCKS_REQUIRED(mu_);

  const std::shared_ptr<RedisClient> client_;
  const std::shared_ptr<BudgetSyncer> syncer_;
  const SharedBudgetOptions options_;
  const std::string portal_;
  const std::string replica_id_;
  Clock* const clock_;

  mutable absl::Mutex mu_;
  BucketPolicy policy_ ABSL_GUARDED_BY(mu_);
  BucketLease lease_ ABSL_GUARDED_BY(mu_);
  LeakyBucket mirror_ ABSL_GUARDED_BY(mu_);  // the shared counter, as last read
  absl::Time bucket_free_at_ ABSL_GUARDED_BY(mu_) = absl::InfinitePast();  // per the last answer
  FallbackShare share_ ABSL_GUARDED_BY(mu_);
  OperatingTracker tracker_ ABSL_GUARDED_BY(mu_);
  absl::Duration window_ ABSL_GUARDED_BY(mu_);  // the operating-time window
  std::set<std::string> reported_ ABSL_GUARDED_BY(mu_);  // news not published yet
  bool full_pending_ ABSL_GUARDED_BY(mu_) = false;       // a 503 not published yet
  int64_t errors_ ABSL_GUARDED_BY(mu_) = 0;
  absl::Time last_round_ ABSL_GUARDED_BY(mu_) = absl::InfinitePast();
  bool news_ ABSL_GUARDED_BY(mu_) = false;  // operating news or a 503 to publish
  std::unique_ptr<RequestsFace> requests_;
  std::unique_ptr<OperatingFace> operating_;
};

}  // namespace b24gate

#endif  // B24GATE_ENGINE_BUDGET_REDIS_BUDGET_STORE_H_
