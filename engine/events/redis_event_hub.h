// The online events of every replica in Redis Streams (with --redis), so
// that every replica accepts posts and any replica serves any subscriber:
// one stream per portal (KEY_PREFIX events:{PORTAL}), a Redis consumer
// group per b24gate consumer group, a Redis consumer per Subscribe stream.
// Redis does the queueing; the hub only moves entries between it and the
// streams:
//
// - Store: XADD; OK only once Redis answered (the inbound endpoint answers
//   200 only then, 503 otherwise).
// - Reading: a stream's first read creates its group (XGROUP CREATE ... $,
//   so a group gets the events stored from its first stream on) and adds
//   its event names to the group's set (KEY events:{PORTAL}:names:GROUP).
//   Each read is one script: XAUTOCLAIM of entries left unacknowledged
//   longer than Options::visibility_timeout by any member, on any replica
//   (a dead one too), then XREADGROUP of new ones; entries of events the
//   group did not name (names or `*` patterns) are acknowledged there and
//   never delivered. At most Options::window unacknowledged per stream. The
//   attempt number is Redis's delivery count, so it survives a restart of
//   any replica. After a read whose reply was lost (it timed out, so the
//   script may have taken entries for the consumer), the next read first
//   claims back the consumer's pending entries the stream does not hold:
//   they go out at once, with the next attempt, rather than after the
//   visibility timeout (holding up their records' later events meanwhile).
// - Order per record, as ConsumerGroup keeps it in process: of a record's
//   events only the oldest unacknowledged one is out in the group at a
//   time; a later one read meanwhile is parked in Redis and goes out (to
//   whichever member reads next) when the one before is acknowledged.
// - Ack: one script (XACK, then the record's next event), sent by a
//   reader; counted acknowledged once Redis took it.
// - A stream that ends hands what it did not acknowledge to the group's
//   consumer "released" marked long idle, so the group's next read (any
//   member, any replica) claims it at once, and drops its Redis consumer.
// - Trimming, every Options::trim_interval per portal: entries every group
//   has acknowledged (or never wanted) go; beyond Options::max_len entries
//   or Options::max_age the oldest go anyway, and the unacknowledged
//   deliveries that took are counted (ledger Dropped, `on_drop`). The
//   entries left are counted (stream_entries()).
//
// - StoreOnce (the offline sources): one script adds the events whose
//   source ids are not among those taken in the last Options::remember_for
//   (KEY events:{PORTAL}:seen), so every replica may store the rows it read
//   and a row read twice is added once.
//
// Delivery ids are the Redis entry ids ("1733400000000-0").
//
// Threads: Options::readers threads, each with its own Redis connection,
// serve every stream of the replica (a read is due when the stream has room
// in its window and its poll interval has passed, at once after an
// acknowledgement or a post stored here); no thread per stream or portal.
// Store runs on its caller's thread on a connection of its own.
//
// Thread-safety: thread-safe. Sink calls for one stream are made by one
// reader at a time, with no lock held (Stop() waits for a call under way);
// neither Redis nor a sink is called under a lock of the hub.
#ifndef B24GATE_ENGINE_EVENTS_REDIS_EVENT_HUB_H_
#define B24GATE_ENGINE_EVENTS_REDIS_EVENT_HUB_H_

#include <cstdint>
#include <functional>
#include <map>
#include <memory>
#include <string>
#include <thread>
#include <vector>

#include "absl/base/thread_annotations.h"
#include "absl/synchronization/mutex.h"
#include "absl/time/time.h"
#include "engine/common/clock.h"
#include "engine/events/event_ledger.h"
#include "engine/events/online_event_store.h"
#include "engine/redis/redis_client.h"

namespace b24gate {

class RedisEventHub : public OnlineEventStore {
 public:
  struct Options {
    RedisOptions redis;
    std::string key_prefix = "b24gate:";
    size_t window = 50;  // unacknowledged per stream
    // An entry unacknowledged this long is delivered again, to any member.
    absl::Duration visibility_timeout = absl::Seconds(30);
    // How often an idle stream asks Redis for new entries.
    absl::Duration poll_interval = absl::Milliseconds(100);
    absl::Duration trim_interval = absl::Seconds(5);
    int64_t max_len = 1000000;  // entries per portal
    absl::Duration max_age = absl::Hours(24 * 7);
    int readers = 2;
    // How long StoreOnce remembers a source id: longer than a read of the
    // portal's queue and its clear take, so a row another replica read
    // before it was cleared is not added again.
    absl::Duration remember_for = absl::Hours(1);
  };
  // The bounds took `deliveries` unacknowledged deliveries of `portal`;
  // `why` is "size" or "age".
  using OnDrop = std::function<void(const std::string& portal, int64_t deliveries, const std::string& why)>;

  // `ledger` and `clock` must outlive the hub. Starts the readers.
  RedisEventHub(EventLedger* ledger, Clock* clock, Options options, OnDrop on_drop);
  // Stops the readers; streams stopped by then release their entries.
  ~RedisEventHub() override;

  absl::Status Store(const std::string& portal, QueuedEvent event) override;
  absl::StatusOr<int> StoreOnce(const std::string& portal, std::vector<QueuedEvent> events) override;
  absl::StatusOr<bool> HasGroups(const std::string& portal) override;
  absl::StatusOr<std::shared_ptr<EventSubscription>> Subscribe(const std::string& portal,
                                                               const std::string& consumer,
                                                               const std::vector<std::string>& events,
                                                               EventSink* sink, Prepare prepare) override;
  std::optional<int64_t> log_bytes() const override { return std::nullopt; }
  // Counted by each trim pass (every Options::trim_interval): what some
  // group has not acknowledged yet.
  std::map<std::string, int64_t> stream_entries() const override;

  // The keys of `portal`'s stream and of `group`'s event names.
  std::string StreamKey(const std::string& portal) const;
  std::string NamesKey(const std::string& portal, const std::string& group) const;
  // The source ids StoreOnce took for `portal`.
  std::string SeenKey(const std::string& portal) const;

 private:
  class Stream;
  struct Slot {
    absl::Time due = absl::InfiniteFuture();  // InfiniteFuture: not scheduled
    bool running = false;                      // a reader has it
    bool again = false;                        // woken while running
  };

  // Makes `stream`'s next read due now.
  void Wake(Stream* stream);
  void WakePortal(const std::string& portal);
  // A reader: runs due streams and trims until the hub stops.
  void Loop(RedisClient* redis);
  // REQUIRES: mu_ held. The stream due first, if due by now; marks it running.
  std::shared_ptr<Stream> TakeDue() ABSL_EXCLUSIVE_LOCKS_REQUIRED(mu_);
  // After a reader ran `stream`: `done` drops it, else it is due again.
  void Finished(const std::shared_ptr<Stream>& stream, bool done, bool busy);
  // Trims a portal whose turn has come, if any.
  void TrimDue(RedisClient* redis);
  void Trim(RedisClient* redis, const std::string& portal);

  EventLedger* const ledger_;
  Clock* const clock_;
  const Options options_;
  const OnDrop on_drop_;
  const std::string replica_;  // names this process's Redis consumers
  RedisClient store_;          // Store's connection

  mutable absl::Mutex mu_;
  std::map<Stream*, std::shared_ptr<Stream>> streams_ ABSL_GUARDED_BY(mu_);
  std::map<Stream*, Slot> slots_ ABSL_GUARDED_BY(mu_);
  std::map<std::string, absl::Time> trims_ ABSL_GUARDED_BY(mu_);  // portal -> next trim
  std::map<std::string, int64_t> entries_ ABSL_GUARDED_BY(mu_);   // portal -> after its last trim
  int64_t next_consumer_ ABSL_GUARDED_BY(mu_) = 1;
  bool stopping_ ABSL_GUARDED_BY(mu_) = false;
  int64_t wakes_ ABSL_GUARDED_BY(mu_) = 0;  // changes that should wake a reader
  std::vector<std::unique_ptr<RedisClient>> reader_redis_;
  std::vector<std::thread> readers_;
};

}  // namespace b24gate

#endif  // B24GATE_ENGINE_EVENTS_REDIS_EVENT_HUB_H_
