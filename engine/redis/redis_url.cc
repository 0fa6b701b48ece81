#include "engine/redis/redis_url.h"

#include "absl/strings/match.h"
#include "absl/strings/numbers.h"
#include "absl/strings/str_cat.h"

namespace b24gate {
namespace {

absl::Status BadUrl(absl::string_view url, absl::string_view why) {
  return absl::InvalidArgumentError(
      absl::StrCat("redis URL \"", url, "\": ", why, " (expected redis://HOST:PORT[/DB])"));
}

}  // namespace

absl::StatusOr<RedisAddress> ParseRedisUrl(absl::string_view url) {
  constexpr absl::string_view kScheme = "redis://";
  if (!absl::StartsWith(url, kScheme)) return BadUrl(url, "the scheme must be redis://");
  absl::string_view rest = url.substr(kScheme.size());
  if (rest.find_first_of("?#") != absl::string_view::npos) {
    return BadUrl(url, "a query or fragment is not allowed");
  }
  if (rest.find('@') != absl::string_view::npos) {
    // Not echoed further: what precedes '@' may be a password.
    return absl::InvalidArgumentError(
        "redis URL: a user or password in the URL is not allowed; give the password in a file "
        "(redis.password_file) or B24GATE_REDIS_PASSWORD");
  }
  RedisAddress address;
  absl::string_view authority = rest;
  if (size_t slash = rest.find('/'); slash != absl::string_view::npos) {
    authority = rest.substr(0, slash);
    absl::string_view db = rest.substr(slash + 1);
    if (!db.empty() && (!absl::SimpleAtoi(db, &address.db) || address.db < 0 ||
                        address.db > 1000)) {
      return BadUrl(url, "the database must be a number 0..1000");
    }
  }
  absl::string_view port;
  if (absl::StartsWith(authority, "[")) {
    size_t close = authority.find(']');
    if (close == absl::string_view::npos) return BadUrl(url, "unclosed [ in the host");
    address.host = std::string(authority.substr(1, close - 1));
    absl::string_view after = authority.substr(close + 1);
    if (!after.empty()) {
      if (after[0] != ':') return BadUrl(url, "junk after the host");
      port = after.substr(1);
    }
  } else {
    size_t colon = authority.rfind(':');
    if (colon != absl::string_view::npos) {
      address.host = std::string(authority.substr(0, colon));
      port = authority.substr(colon + 1);
    } else {
      address.host = std::string(authority);
    }
  }
  if (address.host.empty()) return BadUrl(url, "the host is missing");
  if (!port.empty() &&
      (!absl::SimpleAtoi(port, &address.port) || address.port < 1 || address.port > 65535)) {
    return BadUrl(url, "the port must be a number 1..65535");
  }
  return address;
}

std::string RedisUrlOf(const RedisAddress& address) {
  bool v6 = address.host.find(':') != std::string::npos;
  return absl::StrCat("redis://", v6 ? "[" : "", address.host, v6 ? "]" : "", ":", address.port,
                      "/", address.db);
}

}  // namespace b24gate
