// Where a portal's limits are kept: the request budget (the leaky bucket) and
// the per-method operating-time state (reported use, pauses after a 429,
// reservations of predicted cost).
//
// One gateway alone keeps them in its own memory (LocalBudgetStore, the
// default). Several replicas in front of one portal must share them, because
// the portal counts one budget for everyone: RedisBudgetStore keeps them in
// Redis. The dispatcher (engine/portal) sees only these interfaces, which
// mirror LeakyBucket and OperatingTracker, and calls them under its own lock:
// so no method does I/O or waits on anything but the store's own short lock
// (the Redis store talks to Redis from a thread of its own).
//
// Thread-safety: the dispatcher serialises its calls to one store; a store may
// run a thread of its own, and Status() may be called from any thread.
#ifndef B24GATE_ENGINE_BUDGET_BUDGET_STORE_H_
#define B24GATE_ENGINE_BUDGET_BUDGET_STORE_H_

#include <cstdint>
#include <map>
#include <memory>
#include <string>

#include <nlohmann/json.hpp>

#include "absl/time/time.h"
#include "engine/common/clock.h"
#include "engine/throttle/leaky_bucket.h"
#include "engine/throttle/operating_tracker.h"

namespace b24gate {

// The portal's request budget. See LeakyBucket for the model.
class RequestBudget {
 public:
  virtual ~RequestBudget() = default;
  // The earliest time >= now at which one more request would be admitted,
  // as far as this replica knows (others may take it first). Cheap: no I/O.
  virtual absl::Time NextFree(absl::Time now) const = 0;
  // Takes one request slot at `now` if one is free and returns `now`; when
  // none is (another replica took it, or a shared store's refill has not
  // arrived yet), takes nothing and returns when to try again.
  virtual absl::Time Reserve(absl::Time now) = 0;
  // A 503 QUERY_LIMIT_EXCEEDED at `now`: the portal's counter is full.
  virtual void MarkFull(absl::Time now) = 0;
  // The modelled counter of the whole portal at `now`, for metrics.
  virtual double Level(absl::Time now) const = 0;
  // Runtime tuning and the autothrottle; see LeakyBucket::SetPolicy.
  virtual void SetPolicy(BucketPolicy policy, absl::Time now) = 0;
  virtual BucketPolicy policy() const = 0;
  // An answer's `time.start` (the portal's clock) for a request whose slot
  // was taken at `slot` (ours): the delays' jitter sizes the headroom (see
  // JitterHeadroom). The shared store keeps its configured headroom: its
  // replicas' requests leave from several machines, each with delays of its
  // own, and its lease margin already sits on top.
  virtual void ObserveStart(absl::Time /*slot*/, absl::Time /*start*/, absl::Time /*now*/) {}
  // The requests of the burst kept unused now (at most policy().headroom).
  virtual double Headroom() const { return policy().headroom; }
  // The jitter the headroom is sized by (zero until measured).
  virtual absl::Duration Jitter(absl::Time /*now*/) const { return absl::ZeroDuration(); }
};

// Per-method operating time. See OperatingTracker for the model; the methods
// are its methods.
class OperatingBudget {
 public:
  virtual ~OperatingBudget() = default;
  virtual void Observe(const std::string& method, const nlohmann::ordered_json& time,
                       absl::Time now) = 0;
  virtual void Blocked(const std::string& method, const nlohmann::ordered_json& time,
                       absl::Time now) = 0;
  virtual absl::Time ReadyAt(const std::string& method) const = 0;
  virtual double Operating(const std::string& method) const = 0;
  virtual const std::map<std::string, double> Snapshot() const = 0;
  virtual void SetPolicy(OperatingPolicy policy) = 0;
  virtual absl::Duration Estimate(const std::string& method) const = 0;
  virtual absl::Time FitsAt(const std::string& method, absl::Duration cost,
                            absl::Time now) const = 0;
  virtual void Reserve(const std::string& method, absl::Duration cost) = 0;
  virtual void Release(const std::string& method, absl::Duration cost) = 0;
  virtual absl::Duration Left(const std::string& method) const = 0;
  virtual absl::Duration Reserved(const std::string& method) const = 0;
};

// How sharing goes, for metrics and AdminService.
struct BudgetStatus {
  bool fallback = false;     // shared store unreachable: using a local share
  int64_t redis_errors = 0;  // failed calls to the shared store
};

class BudgetStore {
 public:
  virtual ~BudgetStore() = default;
  virtual RequestBudget& requests() = 0;
  virtual OperatingBudget& operating() = 0;
  virtual BudgetStatus Status() const { return {}; }
};

// Makes the store of each portal of one gateway. Held by PortalOptions
// (null: each portal keeps its limits in memory).
class BudgetSharing {
 public:
  virtual ~BudgetSharing() = default;
  // `clock` must outlive the store.
  virtual std::unique_ptr<BudgetStore> StoreFor(const std::string& portal, BucketPolicy bucket,
                                                OperatingPolicy operating, Clock* clock) = 0;
};

// The in-process store: today's LeakyBucket and OperatingTracker.
std::unique_ptr<BudgetStore> MakeLocalBudgetStore(BucketPolicy bucket, OperatingPolicy operating);

}  // namespace b24gate

#endif  // B24GATE_ENGINE_BUDGET_BUDGET_STORE_H_
