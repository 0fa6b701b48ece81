#include "engine/auth/redis_token_sharing.h"

#include <algorithm>
#include <random>

#include <nlohmann/json.hpp>

#include "absl/strings/str_cat.h"

namespace b24gate {
namespace {

// Takes the lock, or counts it as taken when it already holds this holder's
// value: an earlier attempt whose reply timed out may have set it.
const RedisScript& LockScript() {
  static const RedisScript* script = new RedisScript(
      "local held = redis.call('GET', KEYS[1]) "
      "if held == ARGV[1] then redis.call('PEXPIRE', KEYS[1], ARGV[2]) return 1 end "
      "if held then return 0 end "
      "redis.call('SET', KEYS[1], ARGV[1], 'PX', ARGV[2]) return 1");
  return *script;
}

// Deletes the lock only when it still holds this holder's value.
const RedisScript& UnlockScript() {
  static const RedisScript* script = new RedisScript(
      "if redis.call('GET', KEYS[1]) == ARGV[1] then return redis.call('DEL', KEYS[1]) end "
      "return 0");
  return *script;
}

// Writes ARGV[1] unless the key holds a version (ARGV[2]) as high or higher;
// something unreadable there is overwritten (Load() ignores it too).
const RedisScript& StoreScript() {
  static const RedisScript* script = new RedisScript(
      "local held = redis.call('GET', KEYS[1]) "
      "if held then "
      "  local ok, t = pcall(cjson.decode, held) "
      "  if ok and type(t) == 'table' and type(t.version) == 'number' "
      "     and t.version >= tonumber(ARGV[2]) then return 0 end "
      "end "
      "redis.call('SET', KEYS[1], ARGV[1]) return 1");
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
  std::string value;
  {
    // The value of an attempt that may have taken the lock is kept until
    // known, so that the next attempt finds it held by itself.
    absl::MutexLock lock(&mu_);
    if (lock_value_.empty()) lock_value_ = RandomValue();
    value = lock_value_;
  }
  int64_t ms = std::max<int64_t>(1, absl::ToInt64Milliseconds(ttl));
  absl::StatusOr<RedisReply> reply = redis_->Eval(LockScript(), {lock_key_}, {value, absl::StrCat(ms)});
  if (!reply.ok()) return reply.status();
  if (reply->AsInt() == 1) return true;
  absl::MutexLock lock(&mu_);
  if (lock_value_ == value) lock_value_.clear();
  return false;
}

absl::Status RedisTokenSharing::Unlock() {
  std::string value;
  {
    absl::MutexLock lock(&mu_);
    value = lock_value_;
  }
  if (value.empty()) return absl::OkStatus();
  absl::StatusOr<RedisReply> reply = redis_->Eval(UnlockScript(), {lock_key_}, {value});
  // Failed: the value stays, for another Unlock() (or the lock frees itself
  // when its time is up).
  if (!reply.ok()) return reply.status();
  absl::MutexLock lock(&mu_);
  if (lock_value_ == value) lock_value_.clear();
  return absl::OkStatus();
}

absl::StatusOr<bool> RedisTokenSharing::Store(const SharedTokens& tokens) {
  nlohmann::json j = {{"access_token", tokens.access_token},
                      {"refresh_token", tokens.refresh_token},
                      {"base_url", tokens.base_url},
                      {"version", tokens.version}};
  absl::StatusOr<RedisReply> reply =
      redis_->Eval(StoreScript(), {tokens_key_}, {j.dump(), absl::StrCat(tokens.version)});
  if (!reply.ok()) return reply.status();
  return reply->AsInt() == 1;
}

}  // namespace b24gate
