// The read cache's store in this process: a least-recently-used list bounded
// by a number of entries and a number of bytes (key plus value), each entry
// expiring at its own time.
//
// Thread-safety: thread-safe.
#ifndef B24GATE_ENGINE_CACHE_MEMORY_STORE_H_
#define B24GATE_ENGINE_CACHE_MEMORY_STORE_H_

#include <cstddef>
#include <list>
#include <map>
#include <string>

#include "absl/container/flat_hash_map.h"
#include "absl/synchronization/mutex.h"
#include "engine/cache/cache_store.h"
#include "engine/common/clock.h"

namespace b24gate {

class MemoryCacheStore : public CacheStore {
 public:
  // `clock` must outlive the store.
  MemoryCacheStore(size_t max_entries, size_t max_bytes, Clock* clock);

  std::optional<std::string> Get(const std::string& key) override;
  void Put(const std::string& portal, const std::string& key, std::string value,
           absl::Duration ttl) override;
  std::optional<int64_t> Generation(const std::string& scope) override;
  void Bump(const std::string& scope) override;
  std::map<std::string, StoreCounts> Counts() override;

 private:
  struct Entry {
    std::string key;
    std::string portal;
    std::string value;
    absl::Time expires_at;
    std::multimap<absl::Time, std::list<Entry>::iterator>::iterator by_expiry;
  };
  using Lru = std::list<Entry>;  // most recently used first

  size_t SizeOf(const Entry& e) const { return e.key.size() + e.value.size(); }
  void Erase(Lru::iterator it) ABSL_EXCLUSIVE_LOCKS_REQUIRED(mu_);
  void DropExpired(absl::Time now) ABSL_EXCLUSIVE_LOCKS_REQUIRED(mu_);

  const size_t max_entries_;
  const size_t max_bytes_;
  Clock* const clock_;

  mutable absl::Mutex mu_;
  Lru lru_ ABSL_GUARDED_BY(mu_);
  absl::flat_hash_map<std::string, Lru::iterator> index_ ABSL_GUARDED_BY(mu_);
  std::multimap<absl::Time, Lru::iterator> by_expiry_ ABSL_GUARDED_BY(mu_);
  size_t bytes_ ABSL_GUARDED_BY(mu_) = 0;
  std::map<std::string, StoreCounts> counts_ ABSL_GUARDED_BY(mu_);
  absl::flat_hash_map<std::string, int64_t> generations_ ABSL_GUARDED_BY(mu_);
};

}  // namespace b24gate

#endif  // B24GATE_ENGINE_CACHE_MEMORY_STORE_H_
