// How many batches of one list read may be in flight at once, so the read
// runs at the portal's ceiling and never into it.
//
// Three limits, from the portal's own model (PortalStats, PortalTuning):
//   - connections: the dispatcher's in-flight ceiling now (autothrottle);
//   - request budget: the bucket's free requests now (burst less headroom
//     less the level) plus what drains while one batch is processed, plus one
//     batch waiting in the queue so the next request leaves the moment the
//     bucket allows;
//   - operating time: the method's seconds left in its window (limit less
//     margin less what the portal reported) divided by one batch's cost, so
//     the batches in flight cannot push the method past its limit.
// At least one batch is always allowed: the dispatcher itself waits for the
// bucket and pauses a method near its limit, so one batch can never trip them.
//
// Thread-safety: pure function.
#ifndef B24GATE_ENGINE_LISTS_CHAIN_BUDGET_H_
#define B24GATE_ENGINE_LISTS_CHAIN_BUDGET_H_

#include <string>

#include "engine/portal/portal_options.h"
#include "engine/portal/portal_stats.h"

namespace b24gate {

// What one batch of the read is expected to cost, from the batches so far.
struct BatchCost {
  double wall_seconds = 1;       // from sending to the answer
  double operating_seconds = 1;  // charged to the method
};

int BatchesAllowed(const PortalStats& stats, const PortalTuning& tuning, const std::string& method,
                   const BatchCost& cost);

}  // namespace b24gate

#endif  // B24GATE_ENGINE_LISTS_CHAIN_BUDGET_H_
