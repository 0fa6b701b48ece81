// The consumer lag of the online events kept in Redis Streams (with
// --redis), read from Redis itself, so it covers every replica: per portal
// stream (KEY_PREFIX events:{PORTAL}, redis_event_hub.h) and consumer group,
// the entries pending in the group (delivered to a member on any replica,
// or parked behind their record's previous event, and not acknowledged;
// XPENDING) and the age of the oldest of them since it was stored (its
// entry id's time). Entries no member has read yet are not counted.
//
// One connection of its own; each call is a few commands (SCAN for every
// portal, then one script per portal), made on the caller's thread.
//
// Thread-safety: thread-safe (RedisClient serialises the commands).
#ifndef B24GATE_ENGINE_EVENTS_REDIS_EVENT_LAG_H_
#define B24GATE_ENGINE_EVENTS_REDIS_EVENT_LAG_H_

#include <map>
#include <string>
#include <utility>

#include "absl/status/statusor.h"
#include "engine/common/clock.h"
#include "engine/events/event_ledger.h"
#include "engine/redis/redis_client.h"

namespace b24gate {

class RedisEventLag {
 public:
  // `clock` must outlive this object; `key_prefix` as RedisEventHub's.
  RedisEventLag(RedisOptions redis, std::string key_prefix, Clock* clock);

  // Per (portal, group): `portal`'s groups, or with "" every portal's that
  // has a stream in Redis. UNAVAILABLE or INTERNAL from Redis.
  absl::StatusOr<std::map<std::pair<std::string, std::string>, EventLedger::ConsumerLag>> Lags(
      const std::string& portal);

 private:
  // The portals with a stream.
  absl::StatusOr<std::vector<std::string>> Portals();
  absl::Status AddPortal(const std::string& portal,
                         std::map<std::pair<std::string, std::string>, EventLedger::ConsumerLag>* out);

  const std::string prefix_;
  Clock* const clock_;
  RedisClient redis_;
};

}  // namespace b24gate

#endif  // B24GATE_ENGINE_EVENTS_REDIS_EVENT_LAG_H_
