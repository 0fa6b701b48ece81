#include "engine/lists/chain_budget.h"

#include <algorithm>
#include <cmath>

#include "engine/lists/keyset_pages.h"

namespace b24gate {

int BatchesAllowed(const PortalBudget& budget, const BatchCost& cost) {
  double slots = std::max(budget.max_in_flight, 1);
  double by_bucket =
      std::floor(budget.requests_free_now + budget.drain_per_second * std::max(cost.wall_seconds, 0.0)) + 1;
  // operating_left already has the requests in flight reserved, this read's
  // among them: what fits in all is left plus reserved. When nothing is left
  // (left never goes below zero) the reservations may already pass the room:
  // no more than one then.
  double room = budget.operating_left > absl::ZeroDuration()
                    ? absl::ToDoubleSeconds(budget.operating_left + budget.operating_reserved)
                    : 0;
  double by_operating = std::floor(room / std::max(cost.operating_seconds, 1e-3));
  double allowed = std::min({slots, by_bucket, by_operating});
  return static_cast<int>(std::clamp(allowed, 1.0, slots));
}

bool BucketBinds(const PortalBudget& budget, double pages, double page_seconds) {
  if (budget.drain_per_second <= 0 || page_seconds <= 0) return false;
  double requests = pages / kMaxPages;
  double bucket = std::max(0.0, requests - budget.requests_free_now) / budget.drain_per_second;
  double connections = pages * page_seconds / std::max(budget.max_in_flight, 1);
  return bucket > connections;
}

}  // namespace b24gate
