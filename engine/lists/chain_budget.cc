#include "engine/lists/chain_budget.h"

#include <algorithm>
#include <cmath>

#include "absl/time/time.h"
#include "engine/bitrix/method_traits.h"

namespace b24gate {

int BatchesAllowed(const PortalStats& stats, const PortalTuning& tuning, const std::string& method,
                   const BatchCost& cost) {
  int slots = tuning.max_concurrency;
  if (stats.concurrency_limit >= 1) slots = std::min(slots, static_cast<int>(stats.concurrency_limit));
  slots = std::max(slots, 1);

  const BucketPolicy& bucket = tuning.bucket;
  double free_now = std::max(0.0, bucket.burst - bucket.headroom - stats.bucket_level);
  double rate = bucket.drain_per_second * (stats.rate_factor > 0 ? stats.rate_factor : 1);
  double by_bucket = std::floor(free_now + rate * std::max(cost.wall_seconds, 0.0)) + 1;

  // Some portals charge a batch's time to `batch` itself: count the larger.
  double used = 0;
  for (const std::string& m : {method, NormalizeMethod(method), std::string("batch")}) {
    auto it = stats.operating.find(m);
    if (it != stats.operating.end()) used = std::max(used, it->second);
  }
  double left = absl::ToDoubleSeconds(tuning.operating.limit - tuning.operating.margin) - used;
  double by_operating = std::floor(left / std::max(cost.operating_seconds, 1e-3));

  double allowed = std::min({static_cast<double>(slots), by_bucket, by_operating});
  return static_cast<int>(std::clamp(allowed, 1.0, static_cast<double>(slots)));
}

}  // namespace b24gate
