// The Lua scripts of RedisBudgetStore. Each runs atomically in Redis and reads
// Redis's own clock (TIME), so replicas whose clocks differ still agree.
//
// Keys of one portal share the hash tag "{PORTAL}":
//   PREFIX{PORTAL}:bucket        hash: level, at (µs)     — the request counter
//   PREFIX{PORTAL}:ops           hash: method -> "operating reset_us paused_us"
//   PREFIX{PORTAL}:replicas      zset: replica id -> expiry (µs)
//   PREFIX{PORTAL}:res:REPLICA   hash: method -> "reserved_us in_flight"
#ifndef B24GATE_ENGINE_BUDGET_BUDGET_SCRIPTS_H_
#define B24GATE_ENGINE_BUDGET_BUDGET_SCRIPTS_H_

#include "engine/redis/redis_client.h"

namespace b24gate {

// The request bucket (GCRA, as LeakyBucket, kept as the counter's level and
// the time it was measured, drained at the caller's rate).
//   KEYS[1] bucket; ARGV: burst, drain_per_second, headroom, op
//   op "take": admit one request if the counter is at most usable - 1
//   op "full": a 503 was seen; the counter is at least `burst`
// Returns {admitted 0|1, level after (string), µs until one is free}.
const RedisScript& BucketScript();

// Publishes one replica's operating-time news and reads everyone's.
//   KEYS[1] ops, KEYS[2] replicas, KEYS[3] this replica's reservations
//   ARGV[1] replica id, ARGV[2] reservation TTL ms, ARGV[3] prefix of the
//   reservation keys ("PREFIX{PORTAL}:res:"), ARGV[4] operating window ms,
//   ARGV[5] n, then n x (method, operating, reset_us, paused_us),
//   then m, then m x (method, reserved_us, in_flight).
// A report replaces the method's last one; pauses keep the later one. The
// replica's reservations replace its previous ones and expire after the TTL
// unless published again (a replica that dies frees them by then).
// Returns a flat list of (method, "operating reset_us paused_us" or "",
// "reserved_us in_flight" of the other live replicas).
const RedisScript& SyncScript();

}  // namespace b24gate

#endif  // B24GATE_ENGINE_BUDGET_BUDGET_SCRIPTS_H_
