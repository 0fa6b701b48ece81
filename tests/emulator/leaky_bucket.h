// The portal-wide request-rate limit (docs/bitrix24-protocol.md, "Limits"): a counter that drains
// continuously at `drain_per_second`; each admitted request adds 1. A request
// is refused (503 QUERY_LIMIT_EXCEEDED) when admitting it would lift the
// counter above `burst`, i.e. when the counter is above burst-1 on arrival.
// From an empty bucket exactly `burst` requests pass at once; then one more
// passes every 1/drain_per_second. Refused requests add nothing.
//
// A request is judged at its arrival ("a request arriving when the counter is
// above X", the docs), not when a busy thread read it, as a portal's check
// runs inside the request, at the instant its `time.start` reports. Requests
// read out of arrival order by different threads: one that arrived before the
// last judged is judged at that later instant (the counter never goes back).
// Judged later, it finds the counter more drained, never fuller, so counted
// at the real arrivals the counter passes burst - 1 by at most what drains
// over the reordering's span.
//
// With `enforce` false every request is admitted but the level is still
// tracked, so stats show whether a client would have been throttled.
//
// Thread-safety: safe for concurrent use.
#ifndef B24EMU_LEAKY_BUCKET_H_
#define B24EMU_LEAKY_BUCKET_H_

#include "absl/base/thread_annotations.h"
#include "absl/synchronization/mutex.h"
#include "absl/time/time.h"
#include "tests/emulator/clock.h"

namespace b24emu {

struct LeakyBucketOptions {
  double burst = 50;             // X of the docs (standard plan)
  double drain_per_second = 2;   // Y of the docs, already divided by the time scale
  bool enforce = true;           // false: --no-limits
};

class LeakyBucket {
 public:
  // `clock` must outlive the bucket.
  LeakyBucket(const LeakyBucketOptions& options, const Clock* clock);

  // Admits one request that arrived at `arrival` (adding 1) and returns
  // true, or returns false and leaves the counter unchanged.
  bool TryAdmit(absl::Time arrival);
  // One arriving now.
  bool TryAdmit() { return TryAdmit(clock_->Now()); }

  // The counter drained to now.
  double Level() const;
  // The highest level reached since construction or Reset().
  double PeakLevel() const;
  // Empties the bucket and forgets the peak.
  void Reset();

 private:
  double DrainedLocked(absl::Time now) const ABSL_EXCLUSIVE_LOCKS_REQUIRED(mu_);

  const LeakyBucketOptions options_;
  const Clock* const clock_;
  mutable absl::Mutex mu_;
  double level_ ABSL_GUARDED_BY(mu_) = 0;
  absl::Time updated_ ABSL_GUARDED_BY(mu_);
  double peak_ ABSL_GUARDED_BY(mu_) = 0;
};

}  // namespace b24emu

#endif  // B24EMU_LEAKY_BUCKET_H_
