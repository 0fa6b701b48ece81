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

void InflightLedger::CallArrived() {
  if (awaiting_.empty()) return;
  if (--awaiting_.front().second == 0) awaiting_.pop_front();
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

absl::Duration InflightLedger::TypicalLatency() const {
  if (latencies_.empty()) return absl::ZeroDuration();
  std::vector<absl::Duration> sorted(latencies_.begin(), latencies_.end());
  auto middle = sorted.begin() + sorted.size() / 2;
  std::nth_element(sorted.begin(), middle, sorted.end());
  return *middle;
}

}  // namespace b24gate
