#include "engine/budget/local_budget_store.h"

namespace b24gate {
namespace {

class LocalBudgetStore : public BudgetStore {
 public:
  LocalBudgetStore(BucketPolicy bucket, OperatingPolicy operating)
      : requests_(bucket), operating_(operating) {}
  RequestBudget& requests() override { return requests_; }
  OperatingBudget& operating() override { return operating_; }

 private:
  LocalRequestBudget requests_;
  LocalOperatingBudget operating_;
};

}  // namespace

absl::Time LocalRequestBudget::Reserve(absl::Time now) {
  // Answers may have left the window since the last one came: a portal
  // idle for a window starts again at the configured headroom.
  Resize(now);
  if (absl::Time free = bucket_.NextFree(now); free > now) return free;
  if (bucket_.Level(now) <= 0) jitter_.BusyPeriodBegins(now);
  return bucket_.Reserve(now);
}

void LocalRequestBudget::SetPolicy(BucketPolicy policy, absl::Time now) {
  configured_ = policy;
  bucket_.SetPolicy(policy, now);
  Resize(now);
}

void LocalRequestBudget::ObserveStart(absl::Time slot, absl::Time start, absl::Time now) {
  jitter_.Observe(slot, start, now);
  Resize(now);
}

void LocalRequestBudget::Resize(absl::Time now) {
  bucket_.SetHeadroom(
      jitter_.Headroom(configured_.headroom, bucket_.policy().drain_per_second, now));
}

std::unique_ptr<BudgetStore> MakeLocalBudgetStore(BucketPolicy bucket, OperatingPolicy operating) {
  return std::make_unique<LocalBudgetStore>(bucket, operating);
}

}  // namespace b24gate
