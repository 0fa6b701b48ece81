#include "tests/emulator/idempotency_store.h"

#include <utility>

namespace b24emu {

bool ValidIdempotencyKey(absl::string_view key) {
  if (key.empty() || key.size() > 255) return false;
  for (char c : key) {
    if (c < ' ' || c > '~') return false;
  }
  return true;
}

IdempotencyStore::Lookup IdempotencyStore::Find(const std::string& scope,
                                                const std::string& fingerprint) {
  const absl::Time now = clock_->Now();
  absl::MutexLock lock(&mu_);
  Lookup lookup;
  auto it = entries_.find(scope);
  if (it == entries_.end()) return lookup;
  if (now >= it->second.expires) {
    entries_.erase(it);
    return lookup;
  }
  if (now < it->second.finished) {
    lookup.overlap = true;
    return lookup;
  }
  if (it->second.fingerprint != fingerprint) {
    lookup.verdict = Lookup::Verdict::kReused;
    return lookup;
  }
  lookup.verdict = Lookup::Verdict::kReplay;
  lookup.answer = it->second.answer;
  return lookup;
}

void IdempotencyStore::Keep(const std::string& scope, const std::string& fingerprint,
                            Answer answer, absl::Time finished) {
  const absl::Time now = clock_->Now();
  absl::MutexLock lock(&mu_);
  // Expired keys leave in bulk now and then, so memory follows the keys of
  // the last ttl, not of the process's life.
  if (++kept_since_sweep_ >= 1024) Sweep(now);
  auto it = entries_.find(scope);
  if (it != entries_.end() && now < it->second.expires) return;
  entries_.insert_or_assign(
      scope, Entry{fingerprint, std::move(answer), finished, finished + ttl_});
}

int64_t IdempotencyStore::size() const {
  absl::MutexLock lock(&mu_);
  return static_cast<int64_t>(entries_.size());
}

void IdempotencyStore::Sweep(absl::Time now) {
  kept_since_sweep_ = 0;
  absl::erase_if(entries_, [now](const auto& entry) { return now >= entry.second.expires; });
}

}  // namespace b24emu
