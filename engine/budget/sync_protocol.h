// The sync protocol of RedisBudgetStore: the one Lua script a replica's sync
// thread runs, and the pure encoding of what goes to it and what comes back.
// The script runs atomically in Redis and reads Redis's own clock (TIME), so
// replicas whose clocks differ still agree.
//
// Keys of one portal share the hash tag "{PORTAL}":
//   PREFIX{PORTAL}:bucket        hash: level, at (µs)     — the request counter
//   PREFIX{PORTAL}:ops           hash: method -> "operating reset_us paused_us"
//   PREFIX{PORTAL}:replicas      zset: replica id -> expiry (µs)
//   PREFIX{PORTAL}:res:REPLICA   hash: method -> "reserved_us in_flight"
//
// One round does, in this order:
//   - the bucket (GCRA as LeakyBucket, kept as the counter's level and the
//     time it was measured, drained at the caller's rate): adds `add`
//     (requests this replica sent while apart from Redis), raises the level
//     to `burst` when `full` (a 503 was seen), then grants up to `take`
//     slots while the level is at most usable - 1;
//   - operating time: publishes this replica's reports (a report replaces
//     the method's last one; pauses keep the later one) and its reservations
//     (replacing its previous ones; they expire after the reservation TTL
//     unless published again, so a replica that dies frees them by then);
//   - reads the reports and the other live replicas' reservations.
//
// ARGV: burst, drain_per_second, usable, take, add, full (0|1), replica id,
// reservation TTL ms, reservation key prefix ("PREFIX{PORTAL}:res:"),
// operating window ms, n, n x (method, operating or "-", reset_us,
// paused_us), m, m x (method, reserved_us, in_flight).
// Reply: granted, level after (string), µs until one more slot is free, then
// per method: method, "operating reset_us paused_us" or "", "reserved_us
// in_flight" of the other live replicas.
//
// Thread-safety: the functions are pure; SyncScript() is safe to call from
// any thread.
#ifndef B24GATE_ENGINE_BUDGET_SYNC_PROTOCOL_H_
#define B24GATE_ENGINE_BUDGET_SYNC_PROTOCOL_H_

#include <cstdint>
#include <string>
#include <vector>

#include "absl/status/statusor.h"
#include "absl/time/time.h"
#include "engine/redis/redis_client.h"
#include "engine/throttle/operating_tracker.h"

namespace b24gate {

const RedisScript& SyncScript();

// At most this many slots are asked for in one round.
inline constexpr int kMaxTake = 1000;

struct SyncRequest {
  std::string key_prefix;  // "PREFIX{PORTAL}:"
  std::string replica_id;
  // The bucket. `usable` is what the replicas may fill it to (burst less
  // headroom and the lease margin), at least 1.
  double burst = 0;
  double drain_per_second = 0;
  double usable = 1;
  int take = 0;     // 0..kMaxTake
  int64_t add = 0;  // >= 0
  bool full = false;
  // Operating time.
  absl::Duration reservation_ttl;
  absl::Duration window;
  // This replica's news: methods with a new report or pause (`reported`
  // false: a pause alone), and every method it has requests in flight for.
  std::vector<std::pair<std::string, OperatingTracker::Shared>> reports;
  std::vector<std::pair<std::string, OperatingTracker::Shared>> reservations;
};

struct SyncCall {
  std::vector<std::string> keys;
  std::vector<std::string> args;
};

SyncCall EncodeSync(const SyncRequest& request);

struct SyncAnswer {
  int granted = 0;      // 0..take
  double level = 0;     // finite, >= 0
  absl::Duration wait;  // >= 0
  // Every method someone reported or has in flight: the report (when
  // `reported`), the pause, and the other replicas' reservations
  // (reserved >= 0, in_flight >= 0).
  std::vector<std::pair<std::string, OperatingTracker::Shared>> methods;
};

// The script's reply to a request that asked for `take` slots. INTERNAL when
// the reply is not of the script's shape (a different script, a damaged
// key); a single method's unreadable report or reservations are left out.
absl::StatusOr<SyncAnswer> DecodeSync(const RedisReply& reply, int take);

}  // namespace b24gate

#endif  // B24GATE_ENGINE_BUDGET_SYNC_PROTOCOL_H_
