#include "engine/events/event_ledger.h"

#include <algorithm>

namespace b24gate {

void EventLedger::CountDelivery(const std::string& portal, const std::string& consumer,
                                const std::string& id, int attempt) {
  absl::MutexLock lock(&mu_);
  consumers_.insert({portal, consumer});
  Attempts& attempts = rows_[{portal, consumer}][id];
  if (attempts.count == 0) attempts.first = clock_->Now();
  attempts.count = attempt;
  Counts& counts = counts_[portal];
  ++counts.delivered;
  if (attempt > 1) ++counts.redelivered;
}

void EventLedger::Acknowledged(const std::string& portal, int64_t count) {
  absl::MutexLock lock(&mu_);
  counts_[portal].acknowledged += count;
}

void EventLedger::Cleared(const std::string& portal, const std::string& consumer,
                          const std::vector<std::string>& ids) {
  absl::MutexLock lock(&mu_);
  auto it = rows_.find({portal, consumer});
  if (it == rows_.end()) return;
  for (const std::string& id : ids) it->second.erase(id);
  if (it->second.empty()) rows_.erase(it);
}

void EventLedger::Dropped(const std::string& portal, int64_t count) {
  absl::MutexLock lock(&mu_);
  counts_[portal].dropped += count;
}

void EventLedger::Received(const std::string& portal) {
  absl::MutexLock lock(&mu_);
  ++counts_[portal].received_inbound;
}

void EventLedger::ReceivedOffline(const std::string& portal, int64_t count) {
  absl::MutexLock lock(&mu_);
  counts_[portal].received_offline += count;
}

void EventLedger::Refused(const std::string& reason) {
  absl::MutexLock lock(&mu_);
  ++refused_[reason];
}

std::map<std::string, int64_t> EventLedger::RefusedSnapshot() const {
  absl::MutexLock lock(&mu_);
  return refused_;
}

std::map<std::string, EventLedger::Counts> EventLedger::Snapshot() const {
  const absl::Time now = clock_->Now();
  absl::MutexLock lock(&mu_);
  std::map<std::string, Counts> out = counts_;
  for (auto& [portal, counts] : out) counts.oldest_unacknowledged = absl::ZeroDuration();
  for (const auto& [key, rows] : rows_) {
    Counts& counts = out[key.first];
    for (const auto& [id, attempts] : rows) {
      counts.oldest_unacknowledged = std::max(counts.oldest_unacknowledged, now - attempts.first);
    }
  }
  return out;
}

std::map<std::pair<std::string, std::string>, EventLedger::ConsumerLag> EventLedger::ConsumerLags() const {
  const absl::Time now = clock_->Now();
  absl::MutexLock lock(&mu_);
  std::map<Key, ConsumerLag> out;
  for (const Key& key : consumers_) out[key];
  for (const auto& [key, rows] : rows_) {
    ConsumerLag& lag = out[key];
    lag.unacknowledged = static_cast<int64_t>(rows.size());
    for (const auto& [id, attempts] : rows) {
      lag.oldest_unacknowledged = std::max(lag.oldest_unacknowledged, now - attempts.first);
    }
  }
  return out;
}

}  // namespace b24gate
