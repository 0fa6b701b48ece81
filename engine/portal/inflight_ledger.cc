#include "engine/portal/inflight_ledger.h"

#include <algorithm>
#include <vector>

namespace b24gate {

void InflightLedger::Started(int calls) {
  ++requests_;
  calls_ += calls;
}

void InflightLedger::Settled(int calls, int answered, absl::Time now) {
  calls_ -= calls;
  if (answered > 0) awaiting_.push_back(Group{now, answered, answered});
}

void InflightLedger::Ended() { --requests_; }

namespace {

absl::Duration Median(const std::deque<absl::Duration>& values) {
  if (values.empty()) return absl::ZeroDuration();
  std::vector<absl::Duration> sorted(values.begin(), values.end());
  auto middle = sorted.begin() + static_cast<std::ptrdiff_t>(sorted.size() / 2);
  std::nth_element(sorted.begin(), middle, sorted.end());
  return *middle;
}

}  // namespace

void InflightLedger::CallArrived(absl::Time now) {
  if (awaiting_.empty()) return;
  Group& group = awaiting_.front();
  if (--group.left > 0) return;
  returns_.push_back(Return{group.size, now - group.answered});
  if (returns_.size() > kReturns) returns_.pop_front();
  awaiting_.pop_front();
}

absl::Duration InflightLedger::ExpectedReturn(int size, absl::Duration unknown) const {
  if (returns_.empty()) return unknown;
  // A group as large as one seen takes as long as the slowest of those;
  // a larger one longer in proportion. Twice that: return times on a busy
  // machine vary from one round to the next, and waiting too short splits
  // the group into two requests (and keeps it split), while waiting too
  // long costs only when callers do not come back, and then at most the
  // company window.
  constexpr double kSlack = 2;
  absl::Duration expected;
  for (const Return& r : returns_) {
    expected = std::max(expected, r.took * std::max(1.0, static_cast<double>(size) / r.size));
  }
  return expected * kSlack;
}

absl::Time InflightLedger::CallersDueBack(absl::Duration least, absl::Duration window) const {
  absl::Time due = absl::InfinitePast();
  for (const Group& group : awaiting_) {
    const absl::Duration expected = std::max(ExpectedReturn(group.size, window), least);
    due = std::max(due, group.answered + std::min(expected, window));
  }
  return due;
}

bool InflightLedger::CompanyExpected(absl::Time now, absl::Duration window) {
  // Answered callers who have not sent again within the window are not
  // coming back (or not soon).
  while (!awaiting_.empty() && awaiting_.front().answered + window < now) awaiting_.pop_front();
  return calls_ > 0 || !awaiting_.empty();
}

void InflightLedger::Answered(absl::Duration latency) {
  latencies_.push_back(latency);
  if (latencies_.size() > kLatencies) latencies_.pop_front();
}

absl::Duration InflightLedger::TypicalLatency() const { return Median(latencies_); }

}  // namespace b24gate
