// Redis, where gateway replicas share state: the config file's "redis"
// section, the --redis / --replicas flags and the password's environment
// variable (service/settings.h says which is which). Without a URL there is no Redis and each gateway keeps its
// portals' limits in memory (one replica).
//
//   "redis": { "url": "redis://HOST:PORT[/DB]", "replicas": 3,
//              "key_prefix": "b24gate:", "timeout_ms": 100,
//              "password_file": "/run/secrets/redis-password" }
//
// The password comes only from `password_file` or B24GATE_REDIS_PASSWORD,
// never from a flag or the file itself, and is never printed.
#ifndef B24GATE_SERVICE_REDIS_CONFIG_H_
#define B24GATE_SERVICE_REDIS_CONFIG_H_

#include <string>

#include "absl/status/status.h"
#include "absl/time/time.h"
#include "engine/budget/redis_budget_store.h"
#include "service/config_reading.h"

namespace b24gate {

struct RedisConfig {
  // redis://HOST:PORT[/DB]; empty = no Redis.
  std::string url;
  // How many replicas may run at once: while Redis is unreachable each uses
  // 1/replicas of every portal's budget.
  int replicas = 1;
  // Prepended to every key.
  std::string key_prefix = "b24gate:";
  // Longest wait for one Redis command (and for connecting).
  absl::Duration timeout = absl::Milliseconds(100);
  // AUTH password (a secret); empty = none.
  std::string password;

  bool enabled() const { return !url.empty(); }
};

// Reads the "redis" object `j` into `out`. INVALID_ARGUMENT naming the key.
absl::Status ParseRedisSection(const ConfigJson& j, const std::string& where, RedisConfig* out);

// The number of replicas, from the file's number or a flag's text, into
// `config`: a whole number in 1..1000, else INVALID_ARGUMENT naming `where`.
absl::Status ReadReplicas(const ConfigJson& value, const std::string& where, RedisConfig* config);

// Checks the whole once every source has been applied: the URL parses (its
// errors name `url_from`, e.g. "--redis"). Never prints the password.
absl::Status ValidateRedisConfig(const RedisConfig& config, const std::string& url_from);

// What the engine needs to share portal budgets. REQUIRES: config.enabled()
// and ValidateRedisConfig passed.
SharedBudgetOptions SharedBudgetOptionsOf(const RedisConfig& config);

}  // namespace b24gate

#endif  // B24GATE_SERVICE_REDIS_CONFIG_H_
