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
  Learn(state, time);
  state.operating = operating;
  state.reported = true;
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

void OperatingTracker::Learn(MethodState& state, const nlohmann::ordered_json& time) {
  double processing = 0;
  if (!ReadNumber(time, "processing", &processing) || processing < 0) return;
  absl::Duration sample = absl::Seconds(processing);
  // Up at once, down slowly: an underestimate overspends the window, an
  // overestimate only sends a little less in parallel.
  if (!state.estimated || sample >= state.estimate) {
    state.estimate = sample;
  } else {
    state.estimate = state.estimate * 0.8 + sample * 0.2;
  }
  state.estimated = true;
}

absl::Duration OperatingTracker::Estimate(const std::string& method) const {
  auto it = methods_.find(method);
  return it == methods_.end() ? absl::ZeroDuration() : it->second.estimate;
}

absl::Time OperatingTracker::FitsAt(const std::string& method, absl::Duration cost,
                                    absl::Time now) const {
  auto it = methods_.find(method);
  if (it == methods_.end()) return now;
  const MethodState& state = it->second;
  if (absl::Seconds(state.operating) + state.reserved + state.others_reserved + cost <=
      policy_.limit - policy_.margin) {
    return now;
  }
  if (state.in_flight + state.others_in_flight > 0) return absl::InfiniteFuture();  // their answers bring news
  // Nothing in flight: the reported use stands until the oldest basket
  // leaves the window; after that it is stale, and one request finds out.
  return std::max(now, state.reset_at);
}

void OperatingTracker::Reserve(const std::string& method, absl::Duration cost) {
  MethodState& state = methods_[method];
  state.reserved += cost;
  state.in_flight++;
}

void OperatingTracker::Release(const std::string& method, absl::Duration cost) {
  auto it = methods_.find(method);
  if (it == methods_.end()) return;
  MethodState& state = it->second;
  state.reserved = std::max(absl::ZeroDuration(), state.reserved - cost);
  state.in_flight = std::max(0, state.in_flight - 1);
}

absl::Duration OperatingTracker::Left(const std::string& method) const {
  auto it = methods_.find(method);
  absl::Duration used = it == methods_.end()
                            ? absl::ZeroDuration()
                            : absl::Seconds(it->second.operating) + it->second.reserved +
                                  it->second.others_reserved;
  return std::max(absl::ZeroDuration(), policy_.limit - policy_.margin - used);
}

absl::Duration OperatingTracker::Reserved(const std::string& method) const {
  auto it = methods_.find(method);
  return it == methods_.end() ? absl::ZeroDuration()
                              : it->second.reserved + it->second.others_reserved;
}

OperatingTracker::Shared OperatingTracker::Own(const std::string& method) const {
  Shared own;
  auto it = methods_.find(method);
  if (it == methods_.end()) return own;
  const MethodState& state = it->second;
  own.reported = state.reported;
  own.operating = state.operating;
  own.reset_at = state.reset_at;
  own.paused_until = state.paused_until;
  own.reserved = state.reserved;
  own.in_flight = state.in_flight;
  return own;
}

void OperatingTracker::Adopt(const std::string& method, const Shared& shared) {
  MethodState& state = methods_[method];
  if (shared.reported) {
    state.operating = shared.operating;
    state.reset_at = shared.reset_at;
    state.reported = true;
  }
  state.paused_until = std::max(state.paused_until, shared.paused_until);
  state.others_reserved = shared.reserved;
  state.others_in_flight = shared.in_flight;
}

void OperatingTracker::ForgetOthers() {
  for (auto& [method, state] : methods_) {
    state.others_reserved = absl::ZeroDuration();
    state.others_in_flight = 0;
  }
}

std::vector<std::string> OperatingTracker::Methods() const {
  std::vector<std::string> out;
  for (const auto& [method, state] : methods_) out.push_back(method);
  return out;
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
