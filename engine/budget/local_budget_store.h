// The budget of a portal kept in this process: a LeakyBucket and an
// OperatingTracker behind the BudgetStore interfaces. The default, and what
// each replica falls back on (with a share of the budget) while the shared
// store is unreachable.
//
// Thread-safety: not thread-safe; the owner serialises calls.
#ifndef B24GATE_ENGINE_BUDGET_LOCAL_BUDGET_STORE_H_
#define B24GATE_ENGINE_BUDGET_LOCAL_BUDGET_STORE_H_

#include "engine/budget/budget_store.h"
#include "engine/throttle/jitter_headroom.h"

namespace b24gate {

// The bucket keeps the headroom the measured jitter needs (JitterHeadroom),
// at most the configured one; policy() is the configured policy.
class LocalRequestBudget : public RequestBudget {
 public:
  explicit LocalRequestBudget(BucketPolicy policy, JitterPolicy jitter = {})
      : configured_(policy), bucket_(policy), jitter_(jitter) {}
  absl::Time NextFree(absl::Time now) const override { return bucket_.NextFree(now); }
  absl::Time Reserve(absl::Time now) override;
  void MarkFull(absl::Time now) override { bucket_.MarkFull(now); }
  double Level(absl::Time now) const override { return bucket_.Level(now); }
  void SetPolicy(BucketPolicy policy, absl::Time now) override;
  BucketPolicy policy() const override { return configured_; }
  void ObserveStart(absl::Time slot, absl::Time start, absl::Time now) override;
  double Headroom() const override { return bucket_.policy().headroom; }
  absl::Duration Jitter(absl::Time now) const override {
    return jitter_.Spread(now).value_or(absl::ZeroDuration());
  }
  LeakyBucket& bucket() { return bucket_; }

 private:
  // Gives the bucket the headroom the jitter of the window ending at `now`
  // needs.
  void Resize(absl::Time now);

  BucketPolicy configured_;
  LeakyBucket bucket_;  // its policy's headroom is the one in force
  JitterHeadroom jitter_;
};

// Forwards to an OperatingTracker; the Redis store adds publishing on top.
class LocalOperatingBudget : public OperatingBudget {
 public:
  explicit LocalOperatingBudget(OperatingPolicy policy) : tracker_(policy) {}
  void Observe(const std::string& method, const nlohmann::ordered_json& time,
               absl::Time now) override {
    tracker_.Observe(method, time, now);
  }
  void Blocked(const std::string& method, const nlohmann::ordered_json& time,
               absl::Time now) override {
    tracker_.Blocked(method, time, now);
  }
  absl::Time ReadyAt(const std::string& method) const override { return tracker_.ReadyAt(method); }
  double Operating(const std::string& method) const override { return tracker_.Operating(method); }
  const std::map<std::string, double> Snapshot() const override { return tracker_.Snapshot(); }
  void SetPolicy(OperatingPolicy policy) override { tracker_.SetPolicy(policy); }
  absl::Duration Estimate(const std::string& method) const override {
    return tracker_.Estimate(method);
  }
  absl::Time FitsAt(const std::string& method, absl::Duration cost,
                    absl::Time now) const override {
    return tracker_.FitsAt(method, cost, now);
  }
  void Reserve(const std::string& method, absl::Duration cost) override {
    tracker_.Reserve(method, cost);
  }
  void Release(const std::string& method, absl::Duration cost) override {
    tracker_.Release(method, cost);
  }
  absl::Duration Left(const std::string& method) const override { return tracker_.Left(method); }
  absl::Duration Reserved(const std::string& method) const override {
    return tracker_.Reserved(method);
  }

 protected:
  OperatingTracker tracker_;
};

}  // namespace b24gate

#endif  // B24GATE_ENGINE_BUDGET_LOCAL_BUDGET_STORE_H_
