#include "tests/emulator/leaky_bucket.h"

#include <algorithm>

namespace b24emu {
namespace {

// Drain arithmetic in floating point (e.g. 200/s × 0.005 s) may land a hair
// off an exact boundary; a nano-request of slack keeps boundaries exact.
constexpr double kEpsilon = 1e-9;

}  // namespace

LeakyBucket::LeakyBucket(const LeakyBucketOptions& options, const Clock* clock)
    : options_(options), clock_(clock), updated_(clock->Now()) {}

double LeakyBucket::DrainedLocked(absl::Time now) const {
  const double elapsed = std::max(0.0, absl::ToDoubleSeconds(now - updated_));
  return std::max(0.0, level_ - elapsed * options_.drain_per_second);
}

bool LeakyBucket::TryAdmit(absl::Time arrival) {
  absl::MutexLock lock(&mu_);
  // Read after a later arrival was judged: judged at that later instant.
  const absl::Time at = std::max(arrival, updated_);
  const double level = DrainedLocked(at);
  if (options_.enforce && level > options_.burst - 1 + kEpsilon) {
    // Refused requests do not count; keep the drained level for later.
    level_ = level;
    updated_ = at;
    return false;
  }
  level_ = level + 1;
  updated_ = at;
  peak_ = std::max(peak_, level_);
  return true;
}

double LeakyBucket::Level() const {
  const absl::Time now = clock_->Now();
  absl::MutexLock lock(&mu_);
  return DrainedLocked(now);
}

double LeakyBucket::PeakLevel() const {
  absl::MutexLock lock(&mu_);
  return peak_;
}

void LeakyBucket::Reset() {
  const absl::Time now = clock_->Now();
  absl::MutexLock lock(&mu_);
  level_ = 0;
  peak_ = 0;
  updated_ = now;
}

}  // namespace b24emu
