// Retry delays: exponential with full jitter, capped. Randomness comes in as
// a parameter so tests are deterministic.
//
// Thread-safety: immutable after construction.
#ifndef B24GATE_ENGINE_THROTTLE_BACKOFF_H_
#define B24GATE_ENGINE_THROTTLE_BACKOFF_H_

#include <functional>

#include "absl/time/time.h"

namespace b24gate {

struct BackoffPolicy {
  absl::Duration initial = absl::Milliseconds(200);
  absl::Duration max = absl::Seconds(10);
  double multiplier = 2.0;
};

class Backoff {
 public:
  // `uniform01` returns values in [0, 1).
  Backoff(BackoffPolicy policy, std::function<double()> uniform01);
  // The delay before retry number `attempt` (1 = first retry): uniform in
  // [ceiling/2, ceiling] where ceiling = min(max, initial * multiplier^(attempt-1)).
  // Half-jitter keeps a floor so a storm of retries cannot all fire at once.
  absl::Duration Delay(int attempt) const;

 private:
  BackoffPolicy policy_;
  std::function<double()> uniform01_;
};

}  // namespace b24gate

#endif  // B24GATE_ENGINE_THROTTLE_BACKOFF_H_
