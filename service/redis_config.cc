#include "service/redis_config.h"

#include <cmath>

#include "absl/strings/numbers.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/strip.h"
#include "engine/redis/redis_url.h"

namespace b24gate {
namespace {

absl::Status CheckWhole(double v, double low, double high, const std::string& where) {
  if (!(v >= low && v <= high) || v != std::floor(v)) {
    return Bad(where, absl::StrCat("must be a whole number in ", low, "..", high));
  }
  return absl::OkStatus();
}

}  // namespace

absl::Status ParseRedisSection(const ConfigJson& j, const std::string& where, RedisConfig* out) {
  if (!j.is_object()) return Bad(where, "must be an object");
  B24GATE_RETURN_IF_ERROR(
      CheckKeys(j, where, {"url", "replicas", "key_prefix", "timeout_ms", "password_file"}));
  B24GATE_RETURN_IF_ERROR(ReadString(j, "url", where, &out->url));
  double replicas = out->replicas;
  B24GATE_RETURN_IF_ERROR(ReadNumber(j, "replicas", where, &replicas));
  B24GATE_RETURN_IF_ERROR(CheckWhole(replicas, 1, 1000, where + ".replicas"));
  out->replicas = static_cast<int>(replicas);
  B24GATE_RETURN_IF_ERROR(ReadString(j, "key_prefix", where, &out->key_prefix));
  double timeout_ms = absl::ToDoubleMilliseconds(out->timeout);
  B24GATE_RETURN_IF_ERROR(ReadNumber(j, "timeout_ms", where, &timeout_ms));
  B24GATE_RETURN_IF_ERROR(CheckWhole(timeout_ms, 1, 10000, where + ".timeout_ms"));
  out->timeout = absl::Milliseconds(timeout_ms);
  std::string password_file;
  B24GATE_RETURN_IF_ERROR(ReadString(j, "password_file", where, &password_file));
  if (!password_file.empty()) {
    absl::StatusOr<std::string> text = ReadFile(password_file, where + ".password_file");
    if (!text.ok()) return text.status();
    out->password = std::string(absl::StripAsciiWhitespace(*text));
  }
  return absl::OkStatus();
}

absl::Status FinishRedisConfig(const std::optional<std::string>& flag_url,
                               const std::optional<std::string>& flag_replicas,
                               const std::map<std::string, std::string>& env, RedisConfig* config) {
  auto get = [&](const char* name) -> std::optional<std::string> {
    auto it = env.find(name);
    if (it == env.end() || it->second.empty()) return std::nullopt;
    return it->second;
  };
  // Flag, else environment, else file.
  if (flag_url) {
    config->url = *flag_url;
  } else if (auto url = get("B24GATE_REDIS_URL")) {
    config->url = *url;
  }
  if (flag_replicas) {
    double n = 0;
    if (!absl::SimpleAtod(*flag_replicas, &n)) return Bad("--replicas", "must be a number");
    B24GATE_RETURN_IF_ERROR(CheckWhole(n, 1, 1000, "--replicas"));
    config->replicas = static_cast<int>(n);
  }
  if (auto password = get("B24GATE_REDIS_PASSWORD")) config->password = *password;
  if (!config->enabled()) return absl::OkStatus();
  absl::StatusOr<RedisAddress> address = ParseRedisUrl(config->url);
  if (!address.ok()) return Bad(flag_url ? "--redis" : "redis.url", address.status().message());
  return absl::OkStatus();
}

SharedBudgetOptions SharedBudgetOptionsOf(const RedisConfig& config) {
  SharedBudgetOptions o;
  o.redis.address = *ParseRedisUrl(config.url);
  o.redis.password = config.password;
  o.redis.command_timeout = config.timeout;
  o.redis.connect_timeout = config.timeout;
  o.key_prefix = config.key_prefix;
  o.replicas = config.replicas;
  return o;
}

}  // namespace b24gate
