// How long a partly filled batch may wait for company before it is sent.
//
// Each HTTP request spends one unit of the portal's request budget (the
// leaky bucket) whether it carries one command or fifty. While the bucket is
// empty a request costs nothing that will not come back anyway, so a lone
// command goes at once and an idle gateway adds no latency. When the bucket is
// full the next request slot is one drain interval away in any case, so
// holding a partial batch that long costs nothing either, and lets the batch
// fill. In between, the hold grows with the bucket's level: the scarcer the
// budget, the fuller each request must travel. It grows as the square root
// of the level, so the first few requests out of an idle bucket already hold
// a noticeable part of the interval: callers that fell out of step with the
// rest (one answered early) merge back into the next full batch instead of
// spending the burst on small ones. This replaces a fixed linger, which spends
// the burst on small batches when many callers send one call at a time and
// then crawls at the drain rate.
//
// The dispatcher applies the hold only while answers are in flight, whose
// callers may send more; see Portal::TakeGroup.
//
// Thread-safety: a pure function.
#ifndef B24GATE_ENGINE_THROTTLE_COALESCING_H_
#define B24GATE_ENGINE_THROTTLE_COALESCING_H_

#include "absl/time/time.h"
#include "engine/throttle/leaky_bucket.h"

namespace b24gate {

// Until when a partial batch headed by a command queued at `enqueued` may
// wait for company: `enqueued` plus one drain interval times the square root
// of the share of the usable burst in use then. Fixed when the command is
// queued, so the dispatcher knows when to look again.
absl::Time CoalesceUntil(const LeakyBucket& bucket, absl::Time enqueued);
// The same from the bucket's `level` at `enqueued` and its policy.
absl::Time CoalesceUntil(double level, const BucketPolicy& policy, absl::Time enqueued);

// Whether the request budget is scarce at `level`: half the usable burst or
// more in use. Below that a request spent on a lone call drains back long
// before the portal would miss it, so waiting for company saves nothing
// unless company is expected.
bool BudgetScarce(double level, const BucketPolicy& policy);

}  // namespace b24gate

#endif  // B24GATE_ENGINE_THROTTLE_COALESCING_H_
