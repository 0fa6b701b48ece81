// Gives each event of a subscription its record's current fields, read
// after the event arrived: an EventSink that stands between a subscription
// and the stream's sink. The records of the events waiting are read
// together, one `crm.deal.get`-style command per distinct record, through
// the Reader (the gateway's CallBatch: batch requests of up to 50 commands
// through the portal's throttle), so a full batch of events costs one
// request, not one per event.
//
// Coalescing: one read in flight per subscription. Events delivered while
// it runs wait, and go together in the next read; deliveries reach the
// sink in the order the subscription made them, so per-record order holds.
//
// Records: CRM leads, deals, contacts and companies (ONCRM<ENTITY>ADD,
// UPDATE, DELETE) and tasks (ONTASKADD, UPDATE, DELETE). A delete event,
// or a read that finds nothing, marks the record deleted; a read that fails
// otherwise marks it unreadable with the reason. Neither ends the stream:
// the event is delivered all the same. Other events pass unread.
//
// Thread-safety: thread-safe. Sink calls are made one at a time, holding no
// lock of the enricher except the one that lets Stop() wait for them; after
// Stop() returns the sink is never called again.
#ifndef B24GATE_ENGINE_EVENTS_EVENT_ENRICHER_H_
#define B24GATE_ENGINE_EVENTS_EVENT_ENRICHER_H_

#include <functional>
#include <memory>
#include <optional>
#include <string>
#include <utility>
#include <vector>

#include "absl/base/thread_annotations.h"
#include "absl/status/statusor.h"
#include "absl/synchronization/mutex.h"
#include "engine/events/event_subscription.h"
#include "engine/portal/call_types.h"

namespace b24gate {

class EventEnricher : public EventSink, public std::enable_shared_from_this<EventEnricher> {
 public:
  // Runs `commands` (keys unique) and calls `done` once with one outcome per
  // command, in their order; a failure of the whole read gives every
  // command its status.
  using Outcomes = std::vector<absl::StatusOr<CallReply>>;
  using Reader = std::function<void(std::vector<BatchCommandSpec> commands,
                                    std::function<void(Outcomes)> done)>;

  // How an event's record is read.
  struct RecordRead {
    std::string method;       // e.g. crm.deal.get
    std::string id_param;     // the parameter that takes the record's id
    std::string result_key;   // the fields are under it in the result; "" = the result
    bool deleted = false;     // a delete event: nothing to read
  };
  // Null for an event whose record the enricher does not read.
  static std::optional<RecordRead> ReadFor(const std::string& event);

  // `sink` must outlive the enricher or its Stop().
  EventEnricher(Reader reader, EventSink* sink) : reader_(std::move(reader)), sink_(sink) {}

  // EventSink: what the subscription delivers is read, then passed on.
  void Deliver(std::vector<QueuedEvent> events) override;
  // Passed on at once: the events still being read stay unacknowledged.
  void End(const absl::Status& status) override;

  // No more sink calls after it returns; a read in flight is let go.
  void Stop();

  // `inner`, whose sink is `enricher`, as one subscription: Stop() stops
  // both, the subscription first.
  static std::shared_ptr<EventSubscription> Enriched(std::shared_ptr<EventSubscription> inner,
                                                     std::shared_ptr<EventEnricher> enricher);

 private:
  // Reads the records of `events`, hands them on, then does the same with
  // the events that came meanwhile. REQUIRES: this caller set reading_.
  void Read(std::vector<QueuedEvent> events);
  void PassOn(std::vector<QueuedEvent> events);
  // The events that came during a read, or false (and reading_ cleared)
  // when none did.
  bool TakeWaiting(std::vector<QueuedEvent>* events);

  const Reader reader_;

  absl::Mutex sink_mu_ ABSL_ACQUIRED_BEFORE(mu_);
  EventSink* sink_ ABSL_GUARDED_BY(sink_mu_);

  absl::Mutex mu_;
  bool stopped_ ABSL_GUARDED_BY(mu_) = false;
  bool reading_ ABSL_GUARDED_BY(mu_) = false;
  std::vector<QueuedEvent> waiting_ ABSL_GUARDED_BY(mu_);
};

}  // namespace b24gate

#endif  // B24GATE_ENGINE_EVENTS_EVENT_ENRICHER_H_
