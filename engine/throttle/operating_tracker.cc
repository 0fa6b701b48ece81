#include "engine/throttle/operating_tracker.h"

#include <algorithm>

namespace b24gate {
namespace {

bool ReadNumber(const nlohmann::ordered_json& time, const char* key, double* out) {
  if (!time.is_object()) return false;
  auto it = time.find(key);
  if (it == time.end() || !it->is_number()) return false;
  *out = it->get<double>();
  return true;
}

}  // namespace

void OperatingTracker::Observe(const std::string& method, const nlohmann::ordered_json& time,
                               absl::Time now) {
  double operating = 0;
  if (!ReadNumber(time, "operating", &operating)) return;
  MethodState& state = methods_[method];
  state.operating = operating;
  double reset_at = 0;
  // Without operating_reset_at (older portals) the oldest basket leaves at
  // worst one window from now.
  state.reset_at = ReadNumber(time, "operating_reset_at", &reset_at)
                       ? absl::FromUnixMicros(static_cast<int64_t>(reset_at * 1e6))
                       : now + policy_.window;
  if (absl::Seconds(operating) >= policy_.limit - policy_.margin) {
    state.paused_until = std::max(state.paused_until, state.reset_at);
  }
}

void OperatingTracker::Blocked(const std::string& method, const nlohmann::ordered_json& time,
                               absl::Time now) {
  MethodState& state = methods_[method];
  double reset_at = 0;
  absl::Time until = ReadNumber(time, "operating_reset_at", &reset_at)
                         ? absl::FromUnixMicros(static_cast<int64_t>(reset_at * 1e6))
                         : std::max(state.reset_at, now + policy_.window / 10);
  if (until <= now) until = now + policy_.window / 10;
  state.paused_until = std::max(state.paused_until, until);
}

absl::Time OperatingTracker::ReadyAt(const std::string& method) const {
  auto it = methods_.find(method);
  return it == methods_.end() ? absl::InfinitePast() : it->second.paused_until;
}

double OperatingTracker::Operating(const std::string& method) const {
  auto it = methods_.find(method);
  return it == methods_.end() ? 0 : it->second.operating;
}

const std::map<std::string, double> OperatingTracker::Snapshot() const {
  std::map<std::string, double> out;
  for (const auto& [method, state] : methods_) out[method] = state.operating;
  return out;
}

}  // namespace b24gate
