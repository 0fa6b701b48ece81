#include "engine/auth/redis_token_sharing.h"

#include <algorithm>
#include <random>

#include <nlohmann/json.hpp>

#include "absl/strings/str_cat.h"

namespace b24gate {
namespace {

// Deletes the lock only when it still holds this holder's value.
const RedisScript& UnlockScript() {
  static const RedisScript* script = new RedisScript(
      "if redis.call('GET', KEYS[1]) == ARGV[1] then return redis.call('DEL', KEYS[1]) end "
      "return 0");
  return *script;
}

std::string RandomValue() {
  std::random_device device;
  return absl::StrCat(device(), "-", device(), "-", device(), "-", device());
}

std::string Name(const std::string& portal, const std::string& client_id) {
  // Length-prefixed: a portal name may hold any character.
  return absl::StrCat(portal.size(), ":", portal, ":", client_id);
}

}  // namespace

RedisTokenSharing::RedisTokenSharing(std::shared_ptr<RedisClient> redis,
                                     const std::string& key_prefix, const std::string& portal,
                                     const std::string& client_id)
    : redis_(std::move(redis)),
      tokens_key_(absl::StrCat(key_prefix, "oauth:", Name(portal, client_id))),
      lock_key_(absl::StrCat(key_prefix, "oauth-lock:", Name(portal, client_id))) {}

absl::StatusOr<std::optional<SharedTokens>> RedisTokenSharing::Load() {
  absl::StatusOr<RedisReply> reply = redis_->Command({"GET", tokens_key_});
  if (!reply.ok()) return reply.status();
  if (reply->is_nil()) return std::optional<SharedTokens>();
  nlohmann::json j = nlohmann::json::parse(reply->str, nullptr, /*allow_exceptions=*/false);
  if (!j.is_object() || !j.contains("refresh_token") || !j["refresh_token"].is_string()) {
    // Not ours, or damaged: as if nothing were shared (the local token wins).
    return std::optional<SharedTokens>();
  }
  SharedTokens t;
  t.access_token = j.value("access_token", "");
  t.refresh_token = j.value("refresh_token", "");
  t.base_url = j.value("base_url", "");
  t.version = j.value("version", int64_t{0});
  return std::optional<SharedTokens>(std::move(t));
}

absl::StatusOr<bool> RedisTokenSharing::Lock(absl::Duration ttl) {
  std::string value = RandomValue();
  int64_t ms = std::max<int64_t>(1, absl::ToInt64Milliseconds(ttl));
  absl::StatusOr<RedisReply> reply =
      redis_->Command({"SET", lock_key_, value, "NX", "PX", absl::StrCat(ms)});
  if (!reply.ok()) return reply.status();
  if (reply->is_nil()) return false;
  absl::MutexLock lock(&mu_);
  lock_value_ = std::move(value);
  return true;
}

void RedisTokenSharing::Unlock() {
  std::string value;
  {
    absl::MutexLock lock(&mu_);
    value.swap(lock_value_);
  }
  if (value.empty()) return;
  // Should this fail, the lock frees itself when its time is up.
  (void)redis_->Eval(UnlockScript(), {lock_key_}, {value});
}

absl::Status RedisTokenSharing::Store(const SharedTokens& tokens) {
  nlohmann::json j = {{"access_token", tokens.access_token},
                      {"refresh_token", tokens.refresh_token},
                      {"base_url", tokens.base_url},
                      {"version", tokens.version}};
  absl::StatusOr<RedisReply> reply = redis_->Command({"SET", tokens_key_, j.dump()});
  return reply.ok() ? absl::OkStatus() : reply.status();
}

}  // namespace b24gate
