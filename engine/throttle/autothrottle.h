// Adaptive slow-down on unexpected server errors.
//
// fast_bitrix24 divides its concurrency by 3 on any failure and multiplies it
// by 1.3 on any success, which oscillates under a steady error rate. This
// controller slows down multiplicatively with a cool-down instead: an error
// halves the allowed concurrency and cuts the request rate to 70% — at most
// once per `cooldown`, so one failed batch of 50 commands counts once — and
// after a full error-free `cooldown` every `recover_every` successes undo one
// slow-down (concurrency doubled, rate / 0.7), never above the configured
// ceiling and never below the floors. Recovery is as quick as the slow-down:
// once answers are healthy again, a few successes bring the full speed back
// (an additive climb would leave the gateway crawling for minutes after a
// short incident). The cool-down is scaled to the portal's pace
// (CooldownFor): ten drain intervals, at most the configured value. The
// state is exposed for metrics and the admin RPC.
//
// Thread-safety: not thread-safe; the owner serialises calls.
#ifndef B24GATE_ENGINE_THROTTLE_AUTOTHROTTLE_H_
#define B24GATE_ENGINE_THROTTLE_AUTOTHROTTLE_H_

#include <cstdint>

#include "absl/time/time.h"

namespace b24gate {

struct AutothrottlePolicy {
  bool enabled = true;
  absl::Duration cooldown = absl::Seconds(5);
  double min_rate_factor = 0.25;
  int recover_every = 5;
};

// `cooldown` scaled to the portal's pace: ten drain intervals of `drain_per_second`,
// never longer than `configured` (5 s at the standard plan's 2 per second).
absl::Duration CooldownFor(absl::Duration configured, double drain_per_second);

class Autothrottle {
 public:
  Autothrottle(AutothrottlePolicy policy, int max_concurrency);

  void OnError(absl::Time now);
  void OnSuccess(absl::Time now);
  // A new ceiling (runtime tuning); the current values are clamped to it.
  void SetMaxConcurrency(int max_concurrency);
  void SetCooldown(absl::Duration cooldown) { policy_.cooldown = cooldown; }
  absl::Duration cooldown() const { return policy_.cooldown; }

  int concurrency() const { return concurrency_; }
  double rate_factor() const { return rate_factor_; }
  int64_t slowdowns() const { return slowdowns_; }

 private:
  AutothrottlePolicy policy_;
  int max_concurrency_;
  int concurrency_;
  double rate_factor_ = 1.0;
  int successes_ = 0;
  int64_t slowdowns_ = 0;
  absl::Time last_error_ = absl::InfinitePast();
};

}  // namespace b24gate

#endif  // B24GATE_ENGINE_THROTTLE_AUTOTHROTTLE_H_
