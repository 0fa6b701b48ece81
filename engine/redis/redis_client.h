// A small synchronous Redis client over hiredis (Debian's libhiredis-dev),
// for state that several gateway replicas share: the portals' request budget
// and operating time, OAuth tokens, the read cache.
//
// One connection, opened on first use. Every command has a timeout
// (`command_timeout`): shared state must never hold up a request for long,
// and a caller that gets UNAVAILABLE falls back to something local. After any
// connection failure or timeout the connection is dropped (a late reply
// would otherwise answer the next command) and commands fail fast with
// UNAVAILABLE until the reconnect backoff has passed; then the next command
// reconnects (exponential backoff between `min_backoff` and `max_backoff`,
// reset by a success). AUTH (when a password is set) and SELECT (when the
// URL names a database) run on every new connection.
//
// Scripts run with EVALSHA; a server that does not know the script yet (it
// restarted, or was flushed) answers NOSCRIPT, and the client loads it with
// SCRIPT LOAD and runs it again, once.
//
// The password is never logged nor put in a status message.
//
// Thread-safety: thread-safe. Commands from several threads are serialised
// on the one connection; a command blocks its caller for at most about
// `connect_timeout` + `command_timeout`.
#ifndef B24GATE_ENGINE_REDIS_REDIS_CLIENT_H_
#define B24GATE_ENGINE_REDIS_REDIS_CLIENT_H_

#include <cstdint>
#include <string>
#include <vector>

#include "absl/status/statusor.h"
#include "absl/synchronization/mutex.h"
#include "absl/time/time.h"
#include "engine/common/clock.h"
#include "engine/redis/redis_url.h"

struct redisContext;

namespace b24gate {

struct RedisOptions {
  RedisAddress address;
  // AUTH password; empty for none. A secret: read from a file or the
  // environment, never logged.
  std::string password;
  absl::Duration connect_timeout = absl::Milliseconds(250);
  absl::Duration command_timeout = absl::Milliseconds(100);
  // Wait before reconnecting after a failure: doubles from min to max.
  absl::Duration min_backoff = absl::Milliseconds(100);
  absl::Duration max_backoff = absl::Seconds(2);
};

// One reply, typed. Error replies are not replies: they come back as a
// status (see RedisClient::Command).
struct RedisReply {
  enum class Type { kNil, kInteger, kString, kStatus, kArray };
  Type type = Type::kNil;
  int64_t integer = 0;                // kInteger
  std::string str;                    // kString, kStatus ("OK", "PONG")
  std::vector<RedisReply> elements;   // kArray

  bool is_nil() const { return type == Type::kNil; }
  // The integer of a kInteger reply, or a kString that holds one; `fallback`
  // otherwise.
  int64_t AsInt(int64_t fallback = 0) const;
};

// A Lua script and its SHA1, for EVALSHA.
class RedisScript {
 public:
  explicit RedisScript(std::string source);
  const std::string& source() const { return source_; }
  const std::string& sha1() const { return sha1_; }

 private:
  std::string source_;
  std::string sha1_;  // lower-case hex
};

class RedisClient {
 public:
  // `clock` times the reconnect backoff and must outlive the client.
  RedisClient(RedisOptions options, Clock* clock);
  ~RedisClient();

  RedisClient(const RedisClient&) = delete;
  RedisClient& operator=(const RedisClient&) = delete;

  // Runs one command, e.g. {"SET", key, value, "PX", "5000"}.
  // UNAVAILABLE: no connection (refused, timed out, waiting out the backoff)
  // or the command timed out; the command may or may not have run.
  // INTERNAL: Redis answered with an error; the message is Redis's.
  absl::StatusOr<RedisReply> Command(const std::vector<std::string>& args);

  // EVALSHA of `script` with `keys` and `args`, loading the script first when
  // the server does not have it. Errors as Command().
  absl::StatusOr<RedisReply> Eval(const RedisScript& script, const std::vector<std::string>& keys,
                                  const std::vector<std::string>& args);

  // True while connected and the last command succeeded.
  bool healthy() const;
  // True while a command would fail at once, waiting out the reconnect
  // backoff (so callers that poll need not count those as failures).
  bool WaitingToReconnect() const;
  const RedisAddress& address() const { return options_.address; }

 private:
  // Connects (with AUTH and SELECT) unless connected. REQUIRES: mu_ held.
  absl::Status EnsureConnected() ABSL_EXCLUSIVE_LOCKS_REQUIRED(mu_);
  absl::StatusOr<RedisReply> RunLocked(const std::vector<std::string>& args)
      ABSL_EXCLUSIVE_LOCKS_REQUIRED(mu_);
  // Drops the connection and schedules the next attempt.
  void Broken() ABSL_EXCLUSIVE_LOCKS_REQUIRED(mu_);

  const RedisOptions options_;
  Clock* const clock_;
  mutable absl::Mutex mu_;
  redisContext* context_ ABSL_GUARDED_BY(mu_) = nullptr;
  absl::Time retry_at_ ABSL_GUARDED_BY(mu_) = absl::InfinitePast();
  absl::Duration backoff_ ABSL_GUARDED_BY(mu_);
  std::string last_failure_ ABSL_GUARDED_BY(mu_);
};

}  // namespace b24gate

#endif  // B24GATE_ENGINE_REDIS_REDIS_CLIENT_H_
