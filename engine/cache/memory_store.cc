#include "engine/cache/memory_store.h"

#include <utility>

namespace b24gate {
namespace {

// Scopes are named by the methods callers write to; past this many the
// generations start over, and every entry goes with them (an entry of a
// forgotten generation must never become reachable again).
constexpr size_t kMaxScopes = 10000;

}  // namespace

MemoryCacheStore::MemoryCacheStore(size_t max_entries, size_t max_bytes, Clock* clock)
    : max_entries_(max_entries), max_bytes_(max_bytes), clock_(clock) {}

void MemoryCacheStore::Erase(Lru::iterator it) {
  bytes_ -= SizeOf(*it);
  counts_[it->portal].entries--;
  by_expiry_.erase(it->by_expiry);
  index_.erase(it->key);
  lru_.erase(it);
}

void MemoryCacheStore::DropExpired(absl::Time now) {
  while (!by_expiry_.empty() && by_expiry_.begin()->first <= now) {
    Erase(by_expiry_.begin()->second);
  }
}

std::optional<std::string> MemoryCacheStore::Get(const std::string& key) {
  absl::MutexLock lock(&mu_);
  DropExpired(clock_->Now());
  auto found = index_.find(key);
  if (found == index_.end()) return std::nullopt;
  lru_.splice(lru_.begin(), lru_, found->second);
  return found->second->value;
}

void MemoryCacheStore::Put(const std::string& portal, const std::string& key, std::string value,
                           absl::Duration ttl) {
  if (key.size() + value.size() > max_bytes_ || max_entries_ == 0) return;
  absl::MutexLock lock(&mu_);
  absl::Time now = clock_->Now();
  DropExpired(now);
  if (auto found = index_.find(key); found != index_.end()) Erase(found->second);
  lru_.push_front(Entry{key, portal, std::move(value), now + ttl, {}});
  Lru::iterator it = lru_.begin();
  it->by_expiry = by_expiry_.emplace(it->expires_at, it);
  index_.emplace(key, it);
  bytes_ += SizeOf(*it);
  counts_[portal].entries++;
  while (lru_.size() > max_entries_ || bytes_ > max_bytes_) {
    Lru::iterator last = std::prev(lru_.end());
    counts_[last->portal].evictions++;
    Erase(last);
  }
}

std::optional<int64_t> MemoryCacheStore::Generation(const std::string& scope) {
  absl::MutexLock lock(&mu_);
  auto it = generations_.find(scope);
  return it == generations_.end() ? 0 : it->second;
}

void MemoryCacheStore::Bump(const std::string& scope) {
  absl::MutexLock lock(&mu_);
  if (generations_.size() >= kMaxScopes && !generations_.contains(scope)) {
    while (!lru_.empty()) Erase(lru_.begin());
    generations_.clear();
  }
  generations_[scope]++;
}

std::map<std::string, StoreCounts> MemoryCacheStore::Counts() {
  absl::MutexLock lock(&mu_);
  DropExpired(clock_->Now());
  return counts_;
}

}  // namespace b24gate
