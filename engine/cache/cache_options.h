// Settings of the read cache (config section "cache") and the per-request
// cache mode. Off unless at least one rule is configured.
#ifndef B24GATE_ENGINE_CACHE_CACHE_OPTIONS_H_
#define B24GATE_ENGINE_CACHE_CACHE_OPTIONS_H_

#include <cstddef>
#include <string>
#include <vector>

#include "absl/time/time.h"

namespace b24gate {

// Reads of methods matching `pattern` are kept for `ttl`. `*` in the pattern
// matches any run of characters, dots included ("crm.*.list"); matching is
// case-insensitive on the normalised method name. The first matching rule
// wins.
struct CacheRule {
  std::string pattern;
  absl::Duration ttl;
};

struct CacheOptions {
  std::vector<CacheRule> rules;
  // Bounds of the in-memory store (least recently used entries go first).
  // With Redis, Redis's own memory policy bounds the store; an entry larger
  // than max_bytes is never stored in either.
  size_t max_entries = 10000;
  size_t max_bytes = 64 << 20;
  bool enabled() const { return !rules.empty(); }
};

// What one request asks of the cache.
enum class CacheMode {
  kUse,      // answer from the cache when it can, keep the portal's answer
  kBypass,   // neither read nor write the cache
  kRefresh,  // ask the portal and replace the cached answer
};

}  // namespace b24gate

#endif  // B24GATE_ENGINE_CACHE_CACHE_OPTIONS_H_
