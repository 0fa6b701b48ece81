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
  if (j.contains("replicas")) {
    if (!j["replicas"].is_number()) return Bad(where + ".replicas", "must be a number");
    B24GATE_RETURN_IF_ERROR(ReadReplicas(j["replicas"], where + ".replicas", out));
  }
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

absl::Status ReadReplicas(const ConfigJson& value, const std::string& where, RedisConfig* config) {
  double n = 0;
  if (value.is_number()) {
    n = value.get<double>();
  } else if (!value.is_string() || !absl::SimpleAtod(value.get<std::string>(), &n)) {
    return Bad(where, "must be a number");
  }
  B24GATE_RETURN_IF_ERROR(CheckWhole(n, 1, 1000, where));
  config->replicas = static_cast<int>(n);
  return absl::OkStatus();
}

absl::Status ValidateRedisConfig(const RedisConfig& config, const std::string& url_from) {
  if (!config.enabled()) return absl::OkStatus();
  absl::StatusOr<RedisAddress> address = ParseRedisUrl(config.url);
  if (!address.ok()) return Bad(url_from, address.status().message());
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
