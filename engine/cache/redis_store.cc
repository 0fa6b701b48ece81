#include "engine/cache/redis_store.h"

#include <algorithm>
#include <utility>

#include "absl/strings/str_cat.h"

namespace b24gate {
RedisCacheStore::RedisCacheStore(std::shared_ptr<RedisClient> redis, std::string key_prefix,
                                 size_t max_bytes)
    : redis_(std::move(redis)), prefix_(std::move(key_prefix)), max_bytes_(max_bytes) {}

std::string RedisCacheStore::EntryKey(const std::string& key) const {
  return absl::StrCat(prefix_, "cache:", key);
}

std::string RedisCacheStore::GenerationKey(const std::string& scope) const {
  return absl::StrCat(prefix_, "cache-generation:", scope);
}

std::optional<std::string> RedisCacheStore::Get(const std::string& key) {
  absl::StatusOr<RedisReply> reply = redis_->Command({"GET", EntryKey(key)});
  if (!reply.ok() || reply->type != RedisReply::Type::kString) return std::nullopt;
  return std::move(reply->str);
}

void RedisCacheStore::Put(const std::string& /*portal*/, const std::string& key, std::string value,
                          absl::Duration ttl) {
  if (key.size() + value.size() > max_bytes_) return;
  int64_t ms = std::max<int64_t>(1, absl::ToInt64Milliseconds(ttl));
  (void)redis_->Command({"SET", EntryKey(key), std::move(value), "PX", absl::StrCat(ms)});
}

std::optional<int64_t> RedisCacheStore::Generation(const std::string& scope) {
  absl::StatusOr<RedisReply> reply = redis_->Command({"GET", GenerationKey(scope)});
  if (!reply.ok()) return std::nullopt;
  if (reply->is_nil()) return 0;
  return reply->AsInt(0);
}

void RedisCacheStore::Bump(const std::string& scope) {
  (void)redis_->Command({"INCR", GenerationKey(scope)});
}

}  // namespace b24gate
