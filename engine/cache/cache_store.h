// Where cached answers live: in this process (MemoryCacheStore) or in Redis,
// shared by the replicas (RedisCacheStore). The read cache names entries;
// the store keeps them for their time to live and says what it holds.
//
// Generations: a counter per scope (a portal's entity type) that is part of
// the name of every entry of that scope. Bump() makes every older entry of the
// scope unreachable at once, in memory and in Redis alike; they leave when
// they expire or are evicted.
//
// A store that cannot answer (Redis unreachable) answers "absent" and drops
// writes: a cache fault costs a call to the portal, never a caller's error.
//
// Thread-safety: implementations are safe for concurrent use.
#ifndef B24GATE_ENGINE_CACHE_CACHE_STORE_H_
#define B24GATE_ENGINE_CACHE_CACHE_STORE_H_

#include <cstdint>
#include <map>
#include <optional>
#include <string>

#include "absl/time/time.h"

namespace b24gate {

// What a store reports per portal.
struct StoreCounts {
  // Entries held now.
  int64_t entries = 0;
  // Entries dropped to make room (not those that expired).
  int64_t evictions = 0;
};

class CacheStore {
 public:
  virtual ~CacheStore() = default;
  // The value stored under `key`, unless absent or expired.
  virtual std::optional<std::string> Get(const std::string& key) = 0;
  // Keeps `value` under `key` for `ttl`; `portal` is for the counts.
  virtual void Put(const std::string& portal, const std::string& key, std::string value,
                   absl::Duration ttl) = 0;
  // The scope's current generation (0 at first); nullopt when the store
  // cannot tell, and then the cache must not be used for that read.
  virtual std::optional<int64_t> Generation(const std::string& scope) = 0;
  virtual void Bump(const std::string& scope) = 0;
  virtual std::map<std::string, StoreCounts> Counts() = 0;
  // False when the store cannot tell entries and evictions per portal
  // (Redis: its own INFO reports them).
  virtual bool keeps_counts() const { return true; }
};

}  // namespace b24gate

#endif  // B24GATE_ENGINE_CACHE_CACHE_STORE_H_
