// Portal budgets shared by gateway replicas through Redis.
//
// The request bucket lives in Redis: every request a replica sends first
// takes a slot with one atomic script (BucketScript) on Redis's clock, so the
// replicas together never send faster than the portal admits, and a replica
// that dies holds nothing beyond the slots it already took (they drain as the
// portal's counter does). Each replica keeps a mirror of the counter from
// the script's answers, so looking (NextFree, Level) costs no round trip.
//
// Operating time: each replica still predicts costs and reserves them
// locally, as OperatingTracker does; a sync thread publishes its news (the
// portal's reports, pauses after a 429, its reservations in flight) within
// milliseconds of a change and at least every `sync_interval`, and reads
// everyone's (SyncScript). Reservations of a replica expire
// `reservation_ttl` after it last published them. The publish is not atomic
// with the local check: two replicas may both take the last room for a
// method within one round trip; the operating margin (60 s by default)
// covers that.
//
// Redis unreachable or slow (a command takes longer than `timeout`): the
// store falls back to a local share of the portal, 1/`replicas` of its burst
// and drain rate, starting full (what the others sent just before is not
// known), says so once through `on_switch`, and counts the failure. The sync
// thread keeps trying (at the client's reconnect backoff); when Redis answers
// again the store marks the shared bucket full (the replicas' sends while
// apart are not in it) and shares again, saying so once. For `resume_grace`
// after that it still keeps to its share as well: the other replicas notice
// Redis is back only at their next reconnect attempt, and until they do they
// send on their own shares, which the shared counter does not see. Callers
// never see an error from any of this. While apart, a request's predicted operating
// time counts `replicas` times against what is left of its method.
//
// Thread-safety: thread-safe. The portal calls it under its own lock; only
// Reserve and MarkFull wait on Redis there (at most `timeout`, and not at all
// while fallen back).
#ifndef B24GATE_ENGINE_BUDGET_REDIS_BUDGET_STORE_H_
#define B24GATE_ENGINE_BUDGET_REDIS_BUDGET_STORE_H_

#include <functional>
#include <memory>
#include <set>
#include <string>
#include <thread>

#include "absl/synchronization/mutex.h"
#include "engine/budget/budget_store.h"
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
  // One connection for all the gateway's portals; `clock` must outlive this.
  RedisBudgetSharing(SharedBudgetOptions options, Clock* clock);
  std::unique_ptr<BudgetStore> StoreFor(const std::string& portal, BucketPolicy bucket,
                                        OperatingPolicy operating, Clock* clock) override;
  const std::string& replica_id() const { return replica_id_; }

 private:
  const SharedBudgetOptions options_;
  std::shared_ptr<RedisClient> client_;
  const std::string replica_id_;  // random per process
};

class RedisBudgetStore : public BudgetStore {
 public:
  RedisBudgetStore(std::shared_ptr<RedisClient> client, SharedBudgetOptions options,
                   std::string portal, std::string replica_id, BucketPolicy bucket,
                   OperatingPolicy operating, Clock* clock);
  // Stops the sync thread; this replica's reservations expire in Redis.
  ~RedisBudgetStore() override;

  RequestBudget& requests() override;
  OperatingBudget& operating() override;
  BudgetStatus Status() const override;

 private:
  class RequestsFace;
  class OperatingFace;

  // The bucket script; UNAVAILABLE/INTERNAL as RedisClient. Sets the mirror.
  // REQUIRES: mu_ held.
  absl::StatusOr<absl::Duration> RunBucket(const char* op, absl::Time now)
      ABSL_EXCLUSIVE_LOCKS_REQUIRED(mu_);
  void FallBack(const absl::Status& why, absl::Time now) ABSL_EXCLUSIVE_LOCKS_REQUIRED(mu_);
  BucketPolicy ShareOf(const BucketPolicy& policy) const;
  // The sync thread: publish, read, adopt; resume sharing when Redis is back.
  void SyncLoop();
  void SyncOnce() ABSL_EXCLUSIVE_LOCKS_REQUIRED(mu_);
  std::string Key(const std::string& name) const;

  const std::shared_ptr<RedisClient> client_;
  const SharedBudgetOptions options_;
  const std::string portal_;
  const std::string replica_id_;
  Clock* const clock_;

  mutable absl::Mutex mu_;
  BucketPolicy policy_ ABSL_GUARDED_BY(mu_);
  LeakyBucket mirror_ ABSL_GUARDED_BY(mu_);  // the shared counter, as last read
  LeakyBucket share_ ABSL_GUARDED_BY(mu_);   // 1/N of it, while fallen back
  OperatingTracker tracker_ ABSL_GUARDED_BY(mu_);
  absl::Duration window_ ABSL_GUARDED_BY(mu_);  // the operating-time window
  std::set<std::string> reported_ ABSL_GUARDED_BY(mu_);  // reports not published yet
  bool fallback_ ABSL_GUARDED_BY(mu_) = false;
  // Until then, after Redis came back, the share binds too.
  absl::Time grace_until_ ABSL_GUARDED_BY(mu_) = absl::InfinitePast();
  int64_t errors_ ABSL_GUARDED_BY(mu_) = 0;
  bool kicked_ ABSL_GUARDED_BY(mu_) = false;
  bool stopping_ ABSL_GUARDED_BY(mu_) = false;
  std::unique_ptr<RequestsFace> requests_;
  std::unique_ptr<OperatingFace> operating_;
  std::thread sync_;
};

}  // namespace b24gate

#endif  // B24GATE_ENGINE_BUDGET_REDIS_BUDGET_STORE_H_
