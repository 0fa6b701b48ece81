// The read cache's store in Redis, shared by the gateway's replicas: an
// entry is a string key with Redis's expiry as its time to live, and a
// generation is a counter key without expiry.
//
// Redis bounds the memory: configure `maxmemory` with the `volatile-lru`
// policy, which evicts the least recently used keys that have an expiry (the
// entries) and never the generation counters; were a counter evicted, it
// would start again at 0 and entries of an earlier 0 could come back.
//
// Every failure (Redis unreachable or slow) reads as "absent" or "cannot
// tell", so the call goes to the portal; a bump that fails is lost, and the
// entries it should have dropped live until their time to live ends.
//
// Thread-safety: thread-safe (RedisClient is).
#ifndef B24GATE_ENGINE_CACHE_REDIS_STORE_H_
#define B24GATE_ENGINE_CACHE_REDIS_STORE_H_

#include <memory>
#include <string>

#include "engine/cache/cache_store.h"
#include "engine/redis/redis_client.h"

namespace b24gate {

class RedisCacheStore : public CacheStore {
 public:
  // Keys start with `key_prefix` ("b24gate:"): "PREFIXcache:..." for entries,
  // "PREFIXcache-generation:..." for the counters. `max_bytes`: larger
  // entries are not stored. `redis` may be shared with other users.
  RedisCacheStore(std::shared_ptr<RedisClient> redis, std::string key_prefix, size_t max_bytes);

  std::optional<std::string> Get(const std::string& key) override;
  void Put(const std::string& portal, const std::string& key, std::string value,
           absl::Duration ttl) override;
  std::optional<int64_t> Generation(const std::string& scope) override;
  void Bump(const std::string& scope) override;
  std::map<std::string, StoreCounts> Counts() override { return {}; }
  bool keeps_counts() const override { return false; }

 private:
  std::string EntryKey(const std::string& key) const;
  std::string GenerationKey(const std::string& scope) const;

  const std::shared_ptr<RedisClient> redis_;
  const std::string prefix_;
  const size_t max_bytes_;
};

}  // namespace b24gate

#endif  // B24GATE_ENGINE_CACHE_REDIS_STORE_H_
