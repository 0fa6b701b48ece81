// Adaptive slow-down on unexpected server errors.
//
// fast_bitrix24 divides its concurrency by 3 on any failure and multiplies it
// by 1.3 on any success, which oscillates under a steady error rate. This
// controller is AIMD with a cool-down instead: an error halves the allowed
// concurrency and cuts the request rate to 70% — at most once per
// `cooldown`, so one failed batch of 50 commands counts once — and after a
// full error-free `cooldown` each success earns back a little (+1 in-flight
// request per `recover_every` successes, +5% rate), never above the
// configured ceiling and never below the floors. The state is exposed for
// metrics and the admin RPC.
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
  int recover_every = 10;
};

class Autothrottle {
 public:
  Autothrottle(AutothrottlePolicy policy, int max_concurrency);

  void OnError(absl::Time now);
  void OnSuccess(absl::Time now);
  // A new ceiling (runtime tuning); the current values are clamped to it.
  void SetMaxConcurrency(int max_concurrency);

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
