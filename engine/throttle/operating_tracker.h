// Per-method operating-time bookkeeping (docs/bitrix24-protocol.md, "Limits"): what the portal
// reports in each answer's `time` (`operating`, `operating_reset_at`), and
// whether a method must wait before its next call so it is never blocked.
//
// A method is paused when its reported `operating` comes within `margin` of
// the limit, until the `operating_reset_at` the portal reported (when the
// oldest one-minute basket leaves the window). A 429 OPERATION_TIME_LIMIT
// parks the method until that time too. Other methods are unaffected.
//
// Thread-safety: not thread-safe; the owner serialises calls.
#ifndef B24GATE_ENGINE_THROTTLE_OPERATING_TRACKER_H_
#define B24GATE_ENGINE_THROTTLE_OPERATING_TRACKER_H_

#include <map>
#include <string>

#include <nlohmann/json.hpp>

#include "absl/time/time.h"

namespace b24gate {

struct OperatingPolicy {
  absl::Duration limit = absl::Seconds(480);   // per method per window
  absl::Duration window = absl::Seconds(600);  // ten one-minute baskets
  // Pause a method when fewer than this many seconds remain: a call may
  // take up to the 60 s cut-off, and the call crossing the limit still runs.
  absl::Duration margin = absl::Seconds(60);
};

class OperatingTracker {
 public:
  explicit OperatingTracker(OperatingPolicy policy) : policy_(policy) {}

  // Records a `time` object the portal returned for `method` at `now`.
  void Observe(const std::string& method, const nlohmann::ordered_json& time, absl::Time now);
  // The method was refused with 429 at `now`; `time` may be null.
  void Blocked(const std::string& method, const nlohmann::ordered_json& time, absl::Time now);
  // The time before which `method` must not be called (<= now: go ahead).
  absl::Time ReadyAt(const std::string& method) const;
  // Last reported seconds used in the window, for metrics.
  double Operating(const std::string& method) const;
  const std::map<std::string, double> Snapshot() const;

  void SetPolicy(OperatingPolicy policy) { policy_ = policy; }

 private:
  struct MethodState {
    double operating = 0;
    absl::Time reset_at = absl::InfinitePast();
    absl::Time paused_until = absl::InfinitePast();
  };
  OperatingPolicy policy_;
  std::map<std::string, MethodState> methods_;
};

}  // namespace b24gate

#endif  // B24GATE_ENGINE_THROTTLE_OPERATING_TRACKER_H_
