#include "engine/cache/read_cache.h"

#include <utility>

#include "absl/strings/str_cat.h"
#include "engine/bitrix/method_traits.h"
#include "engine/cache/cache_key.h"
#include "engine/cache/reply_codec.h"

namespace b24gate {

ReadCache::ReadCache(CacheOptions options, std::unique_ptr<CacheStore> store)
    : options_(std::move(options)), store_(std::move(store)) {}

const CacheRule* ReadCache::RuleFor(const std::string& normalized_method) const {
  for (const CacheRule& rule : options_.rules) {
    if (MethodMatches(rule.pattern, normalized_method)) return &rule;
  }
  return nullptr;
}

std::string ReadCache::Scope(const std::string& portal, const std::string& entity) {
  // Length-prefixed: a portal name may hold any character.
  return absl::StrCat(portal.size(), ":", portal, ":", entity);
}

CacheLookup ReadCache::Find(const std::string& portal, const std::string& method,
                            const nlohmann::ordered_json& params, CacheMode mode) {
  CacheLookup lookup;
  if (mode == CacheMode::kBypass || !IsReadMethod(method)) return lookup;
  const std::string normalized = NormalizeMethod(method);
  const CacheRule* rule = RuleFor(normalized);
  if (rule == nullptr) return lookup;
  const std::string scope = Scope(portal, EntityOf(normalized));
  std::optional<int64_t> generation = store_->Generation(scope);
  if (!generation) return lookup;  // the store cannot tell what is current
  std::string key = absl::StrCat(scope, ":", *generation, ":", normalized, ":", CanonicalParams(params));
  if (mode == CacheMode::kUse) {
    if (std::optional<std::string> text = store_->Get(key)) {
      if (std::optional<CallReply> reply = DecodeReply(*text)) {
        absl::MutexLock lock(&mu_);
        counts_[portal].hits++;
        lookup.hit = std::move(reply);
        return lookup;
      }
    }
  }
  {
    absl::MutexLock lock(&mu_);
    counts_[portal].misses++;
  }
  lookup.ticket = CacheTicket{portal, std::move(key), rule->ttl};
  return lookup;
}

void ReadCache::Store(const CacheTicket& ticket, const absl::StatusOr<CallReply>& reply) {
  if (ticket.key.empty() || !reply.ok()) return;
  store_->Put(ticket.portal, ticket.key, EncodeReply(*reply), ticket.ttl);
}

void ReadCache::Invalidate(const std::string& portal, const std::string& method) {
  if (IsReadMethod(method)) return;
  store_->Bump(Scope(portal, EntityOf(NormalizeMethod(method))));
}

std::map<std::string, CacheCounts> ReadCache::Counts() {
  std::map<std::string, StoreCounts> stored = store_->Counts();
  absl::MutexLock lock(&mu_);
  std::map<std::string, CacheCounts> out = counts_;
  for (const auto& [portal, s] : stored) {
    out[portal].evictions = s.evictions;
    out[portal].entries = s.entries;
  }
  if (!store_->keeps_counts()) {
    for (auto& [portal, c] : out) c.entries = c.evictions = -1;
  }
  return out;
}

}  // namespace b24gate
