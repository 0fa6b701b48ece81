#include "tests/emulator/operating_limiter.h"

namespace b24emu {
namespace {

std::string Key(const std::string& credential, const std::string& method) {
  return credential + '\n' + method;
}

}  // namespace

OperatingLimiter::OperatingLimiter(const OperatingOptions& options, const Clock* clock)
    : options_(options), clock_(clock) {}

void OperatingLimiter::ExpireLocked(Baskets& baskets, absl::Time now) const {
  while (!baskets.empty() && baskets.front().opened + Window() <= now) baskets.pop_front();
}

OperatingState OperatingLimiter::StateLocked(const Baskets& baskets, absl::Time now) const {
  OperatingState state{absl::ZeroDuration(), now + Window()};
  if (!baskets.empty()) state.reset_at = baskets.front().opened + Window();
  for (const Basket& b : baskets) state.used += b.used;
  return state;
}

bool OperatingLimiter::Check(const std::string& credential, const std::string& method,
                             OperatingState* state) {
  const absl::Time now = clock_->Now();
  absl::MutexLock lock(&mu_);
  auto it = baskets_.find(Key(credential, method));
  if (it == baskets_.end()) {
    *state = StateLocked(Baskets(), now);
    return true;
  }
  ExpireLocked(it->second, now);
  *state = StateLocked(it->second, now);
  if (!options_.enforce) return true;
  auto blocked = blocked_until_.find(Key(credential, method));
  if (blocked != blocked_until_.end() && now < blocked->second) return false;
  return state->used < options_.limit;
}

OperatingState OperatingLimiter::Charge(const std::string& credential, const std::string& method,
                                        absl::Duration cost, absl::Time started) {
  const absl::Time now = clock_->Now();
  absl::MutexLock lock(&mu_);
  Baskets& baskets = baskets_[Key(credential, method)];
  ExpireLocked(baskets, now);
  if (baskets.empty() || started >= baskets.back().opened + options_.basket) {
    // The call's minute has no basket yet: it opens one at its start.
    baskets.push_back(Basket{started, cost});
  } else {
    baskets.back().used += cost;
  }
  ExpireLocked(baskets, now);
  OperatingState state = StateLocked(baskets, now);
  if (options_.block_whole_window && state.used >= options_.limit) {
    // Crossing starts the block; calls already running when it started
    // do not extend it.
    absl::Time& until = blocked_until_[Key(credential, method)];
    if (until <= now) until = now + Window();
  }
  return state;
}

OperatingState OperatingLimiter::Peek(const std::string& credential, const std::string& method) {
  const absl::Time now = clock_->Now();
  absl::MutexLock lock(&mu_);
  auto it = baskets_.find(Key(credential, method));
  if (it == baskets_.end()) return StateLocked(Baskets(), now);
  ExpireLocked(it->second, now);
  return StateLocked(it->second, now);
}

std::map<std::string, double> OperatingLimiter::TotalsByMethod() {
  const absl::Time now = clock_->Now();
  absl::MutexLock lock(&mu_);
  std::map<std::string, double> totals;
  for (auto& [key, baskets] : baskets_) {
    ExpireLocked(baskets, now);
    const std::string method = key.substr(key.find('\n') + 1);
    totals[method] += absl::ToDoubleSeconds(StateLocked(baskets, now).used);
  }
  return totals;
}

void OperatingLimiter::Reset() {
  absl::MutexLock lock(&mu_);
  baskets_.clear();
  blocked_until_.clear();
}

}  // namespace b24emu
