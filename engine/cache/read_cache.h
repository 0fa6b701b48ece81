// The read cache: which calls may be answered from it, under which name, and
// which writes drop what (README "Read cache").
//
// Only reads (method_traits' IsReadMethod) of methods matching a rule are
// kept, only when they succeeded, for the rule's time to live. An entry is
// named by portal + method + canonical parameters (cache_key.h) + the
// generation of the method's entity type; a write through the gateway bumps
// that generation, so every cached read of the type is dropped at once, in
// memory and in Redis alike.
//
// Thread-safety: thread-safe. Find, Store and Invalidate may do I/O (Redis);
// with Redis they block for at most the client's timeout.
#ifndef B24GATE_ENGINE_CACHE_READ_CACHE_H_
#define B24GATE_ENGINE_CACHE_READ_CACHE_H_

#include <cstdint>
#include <map>
#include <memory>
#include <optional>
#include <string>

#include <nlohmann/json.hpp>

#include "absl/status/statusor.h"
#include "absl/synchronization/mutex.h"
#include "engine/bitrix/bitrix_response.h"
#include "engine/cache/cache_options.h"
#include "engine/cache/cache_store.h"

namespace b24gate {

// Where to keep a call's answer; an empty key: do not keep it.
struct CacheTicket {
  std::string portal;
  std::string key;
  absl::Duration ttl;
};

struct CacheLookup {
  std::optional<CallReply> hit;
  CacheTicket ticket;  // for a miss
};

// Per portal, since start.
struct CacheCounts {
  int64_t hits = 0;
  int64_t misses = 0;  // cacheable reads answered by the portal, refreshes included
  // -1: the store cannot tell (Redis).
  int64_t evictions = 0;
  int64_t entries = 0;
};

class ReadCache {
 public:
  // REQUIRES: options.enabled().
  ReadCache(CacheOptions options, std::unique_ptr<CacheStore> store);

  // For a call of `method` (as the caller wrote it) with `params`: the cached
  // answer, or where to keep the portal's answer. Calls that are not
  // cacheable (writes, methods no rule matches, kBypass) get neither.
  CacheLookup Find(const std::string& portal, const std::string& method,
                   const nlohmann::ordered_json& params, CacheMode mode);
  // Keeps a successful answer; errors are never kept.
  void Store(const CacheTicket& ticket, const absl::StatusOr<CallReply>& reply);
  // A call of `method` went through: when it is a write, every cached read of
  // its entity type on `portal` is dropped. Reads do nothing.
  void Invalidate(const std::string& portal, const std::string& method);

  std::map<std::string, CacheCounts> Counts();

 private:
  // The rule matching `normalized_method`, or null.
  const CacheRule* RuleFor(const std::string& normalized_method) const;
  static std::string Scope(const std::string& portal, const std::string& entity);

  const CacheOptions options_;
  const std::unique_ptr<CacheStore> store_;

  absl::Mutex mu_;
  std::map<std::string, CacheCounts> counts_ ABSL_GUARDED_BY(mu_);
};

}  // namespace b24gate

#endif  // B24GATE_ENGINE_CACHE_READ_CACHE_H_
