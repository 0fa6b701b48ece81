#include "engine/throttle/jitter_headroom.h"

#include <algorithm>
#include <cmath>

namespace b24gate {
namespace {

int64_t SecondOf(absl::Time t) {
  return static_cast<int64_t>(std::floor(absl::ToDoubleSeconds(t - absl::UnixEpoch())));
}

}  // namespace

void JitterHeadroom::Observe(absl::Time slot, absl::Time start, absl::Time now) {
  const absl::Duration delay = start - slot;
  const int64_t index = SecondOf(now);
  const int64_t oldest = index - absl::ToInt64Seconds(policy_.fastest_window) + 1;
  while (!seconds_.empty() && seconds_.front().index < oldest) seconds_.pop_front();
  // Our clock may step back (the real one is wall time): a second that is
  // not the newest joins the newest, never reorders the window.
  if (seconds_.empty() || seconds_.back().index < index) {
    seconds_.push_back(Second{index, 0, delay, delay});
  }
  Second& s = seconds_.back();
  s.answers++;
  s.least = std::min(s.least, delay);
  s.most = std::max(s.most, delay);
  if (slot >= busy_since_) busy_most_ = std::max(busy_most_, delay);
}

void JitterHeadroom::BusyPeriodBegins(absl::Time slot) {
  busy_since_ = slot;
  busy_most_ = -absl::InfiniteDuration();
}

std::optional<absl::Duration> JitterHeadroom::Spread(absl::Time now) const {
  const int64_t second = SecondOf(now);
  const int64_t recent = second - absl::ToInt64Seconds(policy_.window) + 1;
  const int64_t fastest = second - absl::ToInt64Seconds(policy_.fastest_window) + 1;
  int answers = 0;
  absl::Duration least = absl::InfiniteDuration();
  absl::Duration most = busy_most_;
  for (const Second& s : seconds_) {
    if (s.index >= fastest) least = std::min(least, s.least);
    if (s.index < recent) continue;
    answers += s.answers;
    most = std::max(most, s.most);
  }
  if (answers < policy_.min_answers) return std::nullopt;
  return std::max(absl::ZeroDuration(), most - least);
}

double JitterHeadroom::Headroom(double configured, double drain_per_second,
                                absl::Time now) const {
  const std::optional<absl::Duration> spread = Spread(now);
  if (!spread) return configured;
  const double jitter = std::max(policy_.safety * absl::ToDoubleSeconds(*spread),
                                 absl::ToDoubleSeconds(policy_.floor));
  return std::min(configured, jitter * drain_per_second);
}

}  // namespace b24gate
