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
  if (answered > 0) awaiting_.emplace_back(now, answered);
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
  returns_.push_back(now - awaiting_.front().first);
  if (returns_.size() > kLatencies) returns_.pop_front();
  if (--awaiting_.front().second == 0) awaiting_.pop_front();
}

absl::Time InflightLedger::CallersDueBack(absl::Duration least, absl::Duration window) const {
  if (awaiting_.empty()) return absl::InfinitePast();
  if (returns_.empty()) return awaiting_.back().first + window;
  const absl::Duration slowest = *std::max_element(returns_.begin(), returns_.end());
  return awaiting_.back().first + std::clamp(slowest, least, window);
}

bool InflightLedger::CompanyExpected(absl::Time now, absl::Duration window) {
  // Answered callers who have not sent again within the window are not
  // coming back (or not soon).
  while (!awaiting_.empty() && awaiting_.front().first + window < now) awaiting_.pop_front();
  return calls_ > 0 || !awaiting_.empty();
}

void InflightLedger::Answered(absl::Duration latency) {
  latencies_.push_back(latency);
  if (latencies_.size() > kLatencies) latencies_.pop_front();
}

absl::Duration InflightLedger::TypicalLatency() const { return Median(latencies_); }

}  // namespace b24gate
