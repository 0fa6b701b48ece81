// The online events the inbound endpoint accepted, held in this process
// until each consumer that wants them has acknowledged them. A consumer (a
// name per portal: the consumer group) is known from its first stream on;
// from then on every accepted event it names is queued for it, whether a
// stream of it is open or not, and each consumer gets every such event (two
// consumers of one portal each receive all of them).
//
// Delivery: in order of acceptance, at most Options::window unacknowledged
// at a time per stream; when a stream ends, what it did not acknowledge goes
// back to the front of the consumer's queue, in order, with attempt + 1.
//
// Memory: at most Options::max_queued events per consumer (beyond it new
// events are dropped and counted: dropped()); at most
// Options::max_consumers consumers per portal. Nothing survives a restart of
// the gateway (README "Events": offline events are the no-loss source).
//
// Thread-safety: thread-safe. Sink calls for one stream are made one at a
// time and in order, holding no lock of the hub (only the stream's own sink
// lock, which lets Stop() wait for them).
#ifndef B24GATE_ENGINE_EVENTS_ONLINE_HUB_H_
#define B24GATE_ENGINE_EVENTS_ONLINE_HUB_H_

#include <cstdint>
#include <deque>
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
#include "engine/events/event_subscription.h"

namespace b24gate {

class OnlineEventHub {
 public:
  struct Options {
    size_t max_queued = 10000;  // per consumer, delivered or not
    size_t window = 50;         // unacknowledged per stream
    size_t max_consumers = 64;  // per portal
  };

  // `ledger` must outlive the hub.
  OnlineEventHub(EventLedger* ledger, Options options) : ledger_(ledger), options_(options) {}

  // Queues `event` (its delivery_id and attempt are set here) for every
  // consumer of `portal` that named event.event. Returns how many consumers
  // took it.
  int Publish(const std::string& portal, QueuedEvent event);

  // Runs before a stream's first delivery (the binds of its events) and
  // calls back once; a failure ends the stream through its sink.
  using Prepare = std::function<void(std::function<void(absl::Status)> done)>;

  // A stream of `consumer` on `portal` wanting `events` (names, any case;
  // added to what the consumer wants). Start() runs `prepare`, then
  // delivers. A
  // newer stream of the same consumer replaces the older, which then gets
  // nothing more. RESOURCE_EXHAUSTED when the portal has max_consumers
  // others already.
  absl::StatusOr<std::shared_ptr<EventSubscription>> Subscribe(const std::string& portal,
                                                               const std::string& consumer,
                                                               const std::vector<std::string>& events,
                                                               EventSink* sink, Prepare prepare);

  int64_t dropped() const;

 private:
  class Stream;
  struct Consumer {
    std::set<std::string> events;   // upper case
    std::deque<QueuedEvent> ready;  // not delivered to the attached stream, oldest first
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
  // the front of its queue.
  static void Requeue(Consumer& c);

  EventLedger* const ledger_;
  const Options options_;
  mutable absl::Mutex mu_;
  std::map<Key, Consumer> consumers_ ABSL_GUARDED_BY(mu_);
  int64_t next_id_ ABSL_GUARDED_BY(mu_) = 1;
  int64_t dropped_ ABSL_GUARDED_BY(mu_) = 0;
};

}  // namespace b24gate

#endif  // B24GATE_ENGINE_EVENTS_ONLINE_HUB_H_
