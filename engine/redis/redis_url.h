// Where a Redis server is: `redis://HOST:PORT[/DB]`, as given by --redis or
// the config file's `redis.url`.
//
// No user or password in the URL: the password is a secret and comes from a
// file or the environment (RedisOptions::password), so it never appears in a
// flag, a config file or a log line.
//
// Thread-safety: pure functions.
#ifndef B24GATE_ENGINE_REDIS_REDIS_URL_H_
#define B24GATE_ENGINE_REDIS_REDIS_URL_H_

#include <string>

#include "absl/status/statusor.h"
#include "absl/strings/string_view.h"

namespace b24gate {

struct RedisAddress {
  std::string host;  // name, IPv4, or IPv6 without brackets
  int port = 6379;
  int db = 0;
};

// INVALID_ARGUMENT saying what is wrong: another scheme, a user or password
// in the URL, a missing host, a port outside 1..65535, a DB that is not a
// number 0..1000, a query or fragment.
absl::StatusOr<RedisAddress> ParseRedisUrl(absl::string_view url);

// "redis://HOST:PORT/DB", for logs (holds no secret).
std::string RedisUrlOf(const RedisAddress& address);

}  // namespace b24gate

#endif  // B24GATE_ENGINE_REDIS_REDIS_URL_H_
