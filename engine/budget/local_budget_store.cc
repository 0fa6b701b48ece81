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
  if (absl::Time free = bucket_.NextFree(now); free > now) return free;
  return bucket_.Reserve(now);
}

std::unique_ptr<BudgetStore> MakeLocalBudgetStore(BucketPolicy bucket, OperatingPolicy operating) {
  return std::make_unique<LocalBudgetStore>(bucket, operating);
}

}  // namespace b24gate
