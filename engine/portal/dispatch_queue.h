// A portal's queue, and the choice of what to send next.
//
// Work waits in one order: work sent again (retries, token waits) first,
// then new work in its client's fair place (engine/throttle/fair_share.h),
// ties in arrival order. Next() looks at the queue at a given `now`, with
// the portal's limits as numbers, and says what one HTTP request should
// carry, or until when nothing can go:
//   - the oldest work whose methods may run now (others wait for their
//     operating-time window or backoff without holding up the queue);
//   - a request slot (concurrency) and the request budget (bucket);
//   - company: calls that may ride with it in one `batch`, while their
//     predicted operating time still fits. A full batch or a repeat goes at
//     once. A partial one waits only when waiting can save a request: while
//     more callers are expected (calls in flight, answered callers due
//     back) or the request budget is scarce, it waits out the linger
//     (callers arriving together), and while more callers are expected also
//     the hold that grows as the budget runs low
//     (engine/throttle/coalescing.h), the callers just answered (until
//     they are due back), and calls in flight due back within the company
//     window (until they are answered, at most the window after the head
//     arrived): callers that send one call at a time come back together
//     with those answers, and a small batch sent before would split them
//     into groups that each pay a request a round. On an idle portal with
//     budget to spare it goes at once: a request spent then comes back
//     before it is missed, and nobody is coming to share it.
// Next() changes nothing; Take() then takes the chosen group out.
//
// Thread-safety: not thread-safe; the portal's lock guards it.
#ifndef B24GATE_ENGINE_PORTAL_DISPATCH_QUEUE_H_
#define B24GATE_ENGINE_PORTAL_DISPATCH_QUEUE_H_

#include <cstddef>
#include <deque>
#include <map>
#include <string>
#include <utility>
#include <vector>

#include "absl/status/status.h"
#include "absl/time/time.h"
#include "engine/budget/budget_store.h"
#include "engine/portal/work.h"
#include "engine/throttle/fair_share.h"

namespace b24gate {

// The portal's limits at the moment of the look, as Next() needs them.
struct DispatchLimits {
  int batch_size = 50;
  // A concurrency slot is free.
  bool slot_free = true;
  // When the request budget admits one more request (<= now: at once).
  absl::Time bucket_free_at = absl::InfinitePast();
  // Whether more callers are expected soon (InflightLedger::CompanyExpected).
  bool company_expected = false;
  // Whether the request budget is scarce (BudgetScarce in coalescing.h).
  bool budget_scarce = false;
  // How long a partial batch waits for company at most after its head
  // arrived: one drain interval of the bucket.
  absl::Duration company_window = absl::ZeroDuration();
  // When the first request in flight carrying calls of callers who send one
  // at a time is expected back (sent plus the predicted operating time of
  // its calls; InfiniteFuture: none, or no prediction; before the portal's
  // first answer one with no prediction is due at once: Portal::CallsDue).
  absl::Time calls_due = absl::InfiniteFuture();
  // Until when the callers answered last may take to send again
  // (InfinitePast: none awaited).
  absl::Time callers_due = absl::InfinitePast();
};

// What sending `w` would add to each method's operating time.
OperatingCosts CostOf(const Work& w, const OperatingBudget& operating);

class DispatchQueue {
 public:
  explicit DispatchQueue(FairSharePolicy policy) : fair_(std::move(policy)) {}

  // New work, in its client's fair place. Sets its client and place.
  void Push(WorkPtr w);
  // Work sent again: ahead of new work.
  void PushFront(WorkPtr w);

  // Work whose caller gave up (cancelled, deadline passed) or whose deadline
  // leaves less than `write_lead` for a write to finish, taken out with the
  // status to answer. `*next_check` is lowered to the first time another
  // will be.
  std::vector<std::pair<WorkPtr, absl::Status>> TakeAbandoned(absl::Time now,
                                                              absl::Duration write_lead,
                                                              absl::Time* next_check);

  struct Choice {
    std::vector<size_t> picked;  // queue positions, head first; empty: wait
    // When to look again if nothing else changes (picked empty).
    absl::Time wait_until = absl::InfiniteFuture();
  };
  Choice Next(absl::Time now, const DispatchLimits& limits, const OperatingBudget& operating) const;
  // Takes the chosen work out of the queue (head first) and gives each its
  // fair share's due. REQUIRES: `choice` from Next() with no change since.
  std::vector<WorkPtr> Take(const Choice& choice);
  // Everything queued (shutdown).
  std::deque<WorkPtr> TakeAll();

  size_t size() const { return queue_.size(); }
  // Commands queued per client class (every class listed).
  std::map<std::string, double> QueuedPerClient() const;
  const std::vector<std::string> Classes() const { return fair_.Classes(); }

 private:
  // When `w` may be sent at `now`, `booked` being already carried by the
  // request being formed: its backoff, its methods' pauses and room.
  absl::Time ReadyAt(const Work& w, const OperatingCosts& booked, absl::Time now,
                     const OperatingBudget& operating) const;
  // `first` and the ready calls that may ride with it, up to `batch_size`.
  std::vector<size_t> Companions(size_t first, int batch_size, absl::Time now,
                                 const OperatingBudget& operating) const;
  // Whether the work at `head` may share a batch now.
  static bool Shareable(const Work& head, absl::Time now, const OperatingBudget& operating);

  std::deque<WorkPtr> queue_;
  FairShare fair_;
};

}  // namespace b24gate

#endif  // B24GATE_ENGINE_PORTAL_DISPATCH_QUEUE_H_
