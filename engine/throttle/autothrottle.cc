#include "engine/throttle/autothrottle.h"

#include <algorithm>

namespace b24gate {

Autothrottle::Autothrottle(AutothrottlePolicy policy, int max_concurrency)
    : policy_(policy), max_concurrency_(std::max(1, max_concurrency)), concurrency_(max_concurrency_) {}

void Autothrottle::OnError(absl::Time now) {
  if (!policy_.enabled) return;
  successes_ = 0;
  if (now - last_error_ < policy_.cooldown) return;  // same incident
  last_error_ = now;
  slowdowns_++;
  concurrency_ = std::max(1, concurrency_ / 2);
  rate_factor_ = std::max(policy_.min_rate_factor, rate_factor_ * 0.7);
}

void Autothrottle::OnSuccess(absl::Time now) {
  if (!policy_.enabled) return;
  if (concurrency_ == max_concurrency_ && rate_factor_ >= 1.0) return;
  if (now - last_error_ < policy_.cooldown) return;  // still recovering from an error
  if (++successes_ < policy_.recover_every) return;
  successes_ = 0;
  concurrency_ = std::min(max_concurrency_, concurrency_ * 2);
  rate_factor_ = std::min(1.0, rate_factor_ / 0.7);
  if (rate_factor_ > 0.999) rate_factor_ = 1.0;  // 0.7^n / 0.7^n, rounded
}

absl::Duration CooldownFor(absl::Duration configured, double drain_per_second) {
  if (drain_per_second <= 0) return configured;
  return std::min(configured, absl::Seconds(10 / drain_per_second));
}

void Autothrottle::SetMaxConcurrency(int max_concurrency) {
  max_concurrency_ = std::max(1, max_concurrency);
  concurrency_ = std::min(concurrency_, max_concurrency_);
  if (!policy_.enabled) concurrency_ = max_concurrency_;
}

}  // namespace b24gate
