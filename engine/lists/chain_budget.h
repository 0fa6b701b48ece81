// How many batches of one list read may be in flight at once, so the read
// runs at the portal's ceiling and never into it.
//
// Three limits, from the portal's own model (Portal::Budget):
//   - connections: the dispatcher's in-flight ceiling now (autothrottle);
//   - request budget: the bucket's free requests now plus what drains while
//     one batch is processed, plus one batch waiting in the queue so the next
//     request leaves the moment the bucket allows;
//   - operating time: the method's seconds still free in its window (limit
//     less margin less reported use; the reservations of the requests in
//     flight count as this read's, which they mostly are) divided by one
//     batch's cost, so the batches in flight cannot push the method past its
//     limit. Counting the reservations as spent instead would take each batch
//     in flight off twice and starve a long read near the end of its window.
// At least one batch is always allowed: the dispatcher itself waits for the
// bucket and pauses a method near its limit, so one batch can never trip them.
//
// Thread-safety: pure function.
#ifndef B24GATE_ENGINE_LISTS_CHAIN_BUDGET_H_
#define B24GATE_ENGINE_LISTS_CHAIN_BUDGET_H_

#include "engine/portal/call_types.h"

namespace b24gate {

// What one batch of the read is expected to cost, from the batches so far.
struct BatchCost {
  double wall_seconds = 1;       // the portal's work on it, not its wait in the queue
  double operating_seconds = 1;  // charged to the method
};

int BatchesAllowed(const PortalBudget& budget, const BatchCost& cost);

// Whether the bucket, not the connections, sets the pace of a read of
// `pages` keyset pages (50 to a request) of `page_seconds` each: the
// requests beyond those free now take longer to drain than the pages take
// on the connections. Then requests are what the read pays for, and every
// command of every request should be a page it needs.
bool BucketBinds(const PortalBudget& budget, double pages, double page_seconds);

}  // namespace b24gate

#endif  // B24GATE_ENGINE_LISTS_CHAIN_BUDGET_H_
