// The config file's "cache" section: the read cache's rules and bounds.
//
//   "cache": {
//     "rules": [ {"methods": "crm.*.list", "ttl_seconds": 300},
//                {"methods": ["crm.deal.get", "crm.lead.get"], "ttl_seconds": 60} ],
//     "max_entries": 10000,   // in-memory store: entries (default 10000)
//     "max_bytes": 67108864   // in-memory store: bytes; larger entries are never kept
//   }
//
// Thread-safety: pure function.
#ifndef B24GATE_SERVICE_CACHE_CONFIG_H_
#define B24GATE_SERVICE_CACHE_CONFIG_H_

#include <string>

#include "absl/status/statusor.h"
#include "engine/cache/cache_options.h"
#include "service/config_reading.h"

namespace b24gate {

// INVALID_ARGUMENT naming the setting (e.g. "config.cache.rules[1].ttl_seconds").
absl::StatusOr<CacheOptions> ParseCacheConfig(const ConfigJson& section, const std::string& where);

}  // namespace b24gate

#endif  // B24GATE_SERVICE_CACHE_CONFIG_H_
