// Where events wait for the portal's consumer groups, and what a Subscribe
// stream reads from. The gateway keeps two, with the same semantics: one for
// the online events the inbound endpoint accepted, one for the rows its
// offline sources (OfflineSource) read from the portals' offline queues, so
// a group of one source never receives the other's events. Two kinds: the
// on-disk events log of one gateway process (OnlineEventHub, the default)
// and Redis Streams shared by every replica (RedisEventHub, with --redis),
// so the sources and EventService need not know which one runs.
//
// Thread-safety: implementations are thread-safe.
#ifndef B24GATE_ENGINE_EVENTS_ONLINE_EVENT_STORE_H_
#define B24GATE_ENGINE_EVENTS_ONLINE_EVENT_STORE_H_

#include <cstdint>
#include <functional>
#include <map>
#include <memory>
#include <optional>
#include <string>
#include <vector>

#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "engine/events/event_subscription.h"

namespace b24gate {

class OnlineEventStore {
 public:
  virtual ~OnlineEventStore() = default;

  // Keeps `event` (its delivery_id and attempt are set by the store) for the
  // consumers of `portal` that named event.event. Returns once it is durable
  // (then no restart loses it); an error when it could not be stored, so the
  // poster is not told it was.
  virtual absl::Status Store(const std::string& portal, QueuedEvent event) = 0;

  // Keeps each of `events` (read from a source that may hand the same one
  // again, e.g. after a crash before its offline row was cleared) unless
  // the store took one with the same source_id recently (REQUIRES: every
  // source_id set): a repeat is not delivered twice to any group. Returns,
  // once they are durable, how many were new; an error when they could not
  // be stored (then the caller keeps them at the source).
  virtual absl::StatusOr<int> StoreOnce(const std::string& portal, std::vector<QueuedEvent> events) = 0;

  // Whether `portal` has a consumer group that the store keeps events for
  // (durably: one made before a restart counts).
  virtual absl::StatusOr<bool> HasGroups(const std::string& portal) = 0;

  // Runs before a stream's first delivery (the binds of its events) and
  // calls back once; a failure ends the stream through its sink.
  using Prepare = std::function<void(std::function<void(absl::Status)> done)>;

  // A stream of consumer group `consumer` on `portal` wanting `events`
  // (names, any case; added to what the group wants). Start() runs
  // `prepare`, then delivers.
  virtual absl::StatusOr<std::shared_ptr<EventSubscription>> Subscribe(
      const std::string& portal, const std::string& consumer, const std::vector<std::string>& events,
      EventSink* sink, Prepare prepare) = 0;

  // Bytes the store keeps on this process's disk; nullopt when it keeps
  // none (Redis).
  virtual std::optional<int64_t> log_bytes() const = 0;
  // Entries per portal the store keeps in Redis, as last counted; empty
  // for a store on disk (its size is log_bytes()).
  virtual std::map<std::string, int64_t> stream_entries() const = 0;
};

}  // namespace b24gate

#endif  // B24GATE_ENGINE_EVENTS_ONLINE_EVENT_STORE_H_
