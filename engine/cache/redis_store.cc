#include "engine/cache/redis_store.h"

#include <algorithm>
#include <utility>

#include "absl/strings/str_cat.h"

namespace b24gate {
namespace {

std::string EntryKey(const std::string& key) { return absl::StrCat("b24gate:cache:", key); }
std::string GenerationKey(const std::string& scope) {
  return absl::StrCat("b24gate:cache-generation:", scope);
}

}  // namespace

RedisCacheStore::RedisCacheStore(std::unique_ptr<RedisClient> redis, size_t max_bytes)
    : redis_(std::move(redis)), max_bytes_(max_bytes) {}

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
