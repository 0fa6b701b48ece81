#include "engine/throttle/backoff.h"

#include <algorithm>
#include <cmath>

namespace b24gate {

Backoff::Backoff(BackoffPolicy policy, std::function<double()> uniform01)
    : policy_(policy), uniform01_(std::move(uniform01)) {}

absl::Duration Backoff::Delay(int attempt) const {
  double factor = std::pow(policy_.multiplier, std::max(0, attempt - 1));
  absl::Duration ceiling = std::min(policy_.max, policy_.initial * factor);
  return ceiling / 2 + ceiling / 2 * uniform01_();
}

}  // namespace b24gate
