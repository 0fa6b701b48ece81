// The online events the inbound endpoint accepted, kept in an on-disk log
// (EventLog) until each consumer that wants them has acknowledged them. A
// consumer (a name per portal: the consumer group) is known from its first
// stream on; from then on every accepted event it names is kept for it,
// whether a stream of it is open or not, and each consumer gets every such
// event (two consumers of one portal each receive all of them).
//
// Durability: the event, each consumer's first stream (with the events it
// names) and each acknowledgement are records of the log, appended under
// the hub's lock (a queue push; the writer thread does the I/O). After a
// restart, SIGKILL included, Open reads them back: what a consumer had not
// acknowledged is delivered again, what it had is not. Publish's ticket
// tells the inbound endpoint when the event is on disk (it answers 200
// only then); acknowledgements count in the ledger once they are on disk.
//
// Delivery: in order of acceptance, at most Options::window unacknowledged
// at a time per stream; when a stream ends, what it did not acknowledge goes
// back to the consumer's queue, in order, with attempt + 1. Delivery ids are
// "online-SEQ", SEQ the event's number in the log, the same after a restart.
//
// Bounds: the log's (EventLog::Options max_bytes, max_age); events it drops
// are taken from the consumers and counted (ledger, `on_drop`). At most
// Options::max_consumers consumers per portal.
//
// Thread-safety: thread-safe. Sink calls for one stream are made one at a
// time and in order, holding no lock of the hub (only the stream's own sink
// lock, which lets Stop() wait for them).
#ifndef B24GATE_ENGINE_EVENTS_ONLINE_HUB_H_
#define B24GATE_ENGINE_EVENTS_ONLINE_HUB_H_

#include <cstdint>
#include <functional>
#include <map>
#include <memory>
#include <set>
#include <string>
#include <utility>
#include <vector>

#include "absl/base/thread_annotations.h"
#include "absl/status/statusor.h"
#include "absl/synchronization/mutex.h"
#include "engine/events/event_ledger.h"
#include "engine/events/event_log.h"
#include "engine/events/event_subscription.h"
#include "engine/events/online_event_store.h"

namespace b24gate {

class OnlineEventHub : public OnlineEventStore, private EventLog::Owner {
 public:
  struct Options {
    size_t window = 50;         // unacknowledged per stream
    size_t max_consumers = 64;  // per portal
  };

  // Opens the log in `log_options.dir` and restores what it holds.
  // `ledger` and `clock` must outlive the hub; `on_drop` as in EventLog.
  static absl::StatusOr<std::unique_ptr<OnlineEventHub>> Open(EventLedger* ledger, Clock* clock,
                                                              EventLog::Options log_options,
                                                              Options options,
                                                              EventLog::OnDrop on_drop);

  struct Published {
    int taken = 0;       // consumers that took it
    int64_t ticket = 0;  // its log record; 0 when nobody took it
  };
  // Keeps `event` (its delivery_id and attempt are set here) for every
  // consumer of `portal` that named event.event.
  Published Publish(const std::string& portal, QueuedEvent event);
  // Blocks until Publish's record `ticket` is on disk (OK at once for 0).
  absl::Status WaitStored(int64_t ticket);

  // OnlineEventStore: Publish, then WaitStored.
  absl::Status Store(const std::string& portal, QueuedEvent event) override;

  // A stream of `consumer` on `portal` wanting `events` (names, any case;
  // added to what the consumer wants). Start() runs `prepare`, then
  // delivers. A
  // newer stream of the same consumer replaces the older, which then gets
  // nothing more. RESOURCE_EXHAUSTED when the portal has max_consumers
  // others already.
  absl::StatusOr<std::shared_ptr<EventSubscription>> Subscribe(const std::string& portal,
                                                               const std::string& consumer,
                                                               const std::vector<std::string>& events,
                                                               EventSink* sink, Prepare prepare) override;

  int64_t log_bytes() const override { return log_->bytes(); }

 private:
  class Stream;
  struct Consumer {
    std::set<std::string> events;            // upper case
    std::map<int64_t, QueuedEvent> ready;    // not delivered to the attached stream; by number
    std::map<int64_t, QueuedEvent> in_flight;  // delivered, not acknowledged; by number
    Stream* stream = nullptr;                  // the attached one
    std::weak_ptr<Stream> stream_ref;          // the same, to pump it outside the lock
  };
  using Key = std::pair<std::string, std::string>;  // (portal, consumer)

  // Hands the stream what its window allows. REQUIRES: the stream's sink
  // lock held (so deliveries to it keep their order).
  void Pump(Stream* stream);
  absl::Status Ack(Stream* stream, const std::vector<std::string>& ids, const std::string& where);
  void Detach(Stream* stream);
  // REQUIRES: mu_ held. Moves what `c`'s stream holds unacknowledged back to
  // its queue.
  static void Requeue(Consumer& c);

  OnlineEventHub(EventLedger* ledger, Clock* clock, Options options)
      : ledger_(ledger), clock_(clock), options_(options) {}
  // A record read back from the log at Open.
  void Restore(const nlohmann::ordered_json& record);
  // REQUIRES: mu_ held. The record that says `key` names its events.
  static nlohmann::ordered_json GroupRecord(const Key& key, const Consumer& c);

  // EventLog::Owner.
  std::vector<nlohmann::ordered_json> Snapshot() override;
  int64_t OldestNeeded() override;
  int64_t DropThrough(int64_t seq) override;

  EventLedger* const ledger_;
  Clock* const clock_;
  const Options options_;
  mutable absl::Mutex mu_;
  std::map<Key, Consumer> consumers_ ABSL_GUARDED_BY(mu_);
  int64_t next_id_ ABSL_GUARDED_BY(mu_) = 1;
  // Last: its writer thread, which calls the Owner methods, stops first.
  std::unique_ptr<EventLog> log_;
};

}  // namespace b24gate

#endif  // B24GATE_ENGINE_EVENTS_ONLINE_HUB_H_
