// One subscriber's stream of a portal's offline events, delivered at least
// once. Bitrix24 itself is the durable log: the subscription reads the
// portal's offline queue with `event.offline.get clear=0` and a process_id
// fixed by the consumer's name, hands the batch to its sink, and calls
// `event.offline.clear` for exactly the rows the subscriber acknowledged.
// A row is therefore deleted only after its acknowledgement; a row
// delivered and not acknowledged stays marked with the consumer's
// process_id, and the portal returns it again to the next `get` with that
// process_id, after a subscriber's reconnect or a gateway's restart alike.
//
// Order: one batch at a time, in queue order (ID ascending); the next batch
// is read only once every row of the last one is acknowledged and cleared,
// so the events of one record reach a subscriber that acknowledges them in
// order in the order the portal queued them.
//
// At start the events named in Options are bound as offline events
// (EventBinder). An empty queue is polled again after Options::poll_interval
// (the timer), or at once when PollNow() says the portal queued something
// (its ONOFFLINEEVENT notification).
//
// Thread-safety: thread-safe. Sink calls are made one at a time, holding no
// lock of the subscription except the one that lets Stop() wait for them;
// after Stop() returns the sink is never called again.
#ifndef B24GATE_ENGINE_EVENTS_OFFLINE_SUBSCRIPTION_H_
#define B24GATE_ENGINE_EVENTS_OFFLINE_SUBSCRIPTION_H_

#include <functional>
#include <memory>
#include <set>
#include <string>
#include <vector>

#include <nlohmann/json.hpp>

#include "absl/base/thread_annotations.h"
#include "absl/status/status.h"
#include "absl/synchronization/mutex.h"
#include "absl/time/time.h"
#include "engine/events/event_binder.h"
#include "engine/events/event_ledger.h"
#include "engine/events/event_subscription.h"
#include "engine/portal/call_types.h"

namespace b24gate {

// For a queue row: delivery_id is its ID, timestamp its TIMESTAMP_X, data
// its EVENT_DATA.
class OfflineSubscription : public EventSubscription,
                            public std::enable_shared_from_this<OfflineSubscription> {
 public:
  using Caller = EventBinder::Caller;
  // Runs `fire` after `delay` (PollTimer::After).
  using Timer = std::function<void(absl::Duration delay, std::function<void()> fire)>;
  using Sink = EventSink;

  struct Options {
    std::string portal;
    std::string consumer;             // REQUIRES: a valid name (ValidateName)
    std::vector<std::string> events;  // bound as offline events at start
    // Given to those binds: writes carrying the same auth_connector are not
    // queued for them. "" = none. REQUIRES: empty or a valid name.
    std::string auth_connector;
    // The inbound endpoint's handler URL for this portal ("" = none): when
    // set, ONOFFLINEEVENT is bound to it too, so the portal says when its
    // queue fills and PollNow() reads at once.
    std::string notify_handler;
    int batch_size = 50;
    absl::Duration poll_interval = absl::Seconds(1);
  };

  // For consumer names and auth_connector keys: OK, or INVALID_ARGUMENT
  // naming `where`; 1 to 64 of [A-Za-z0-9_.-].
  static absl::Status ValidateName(const std::string& name, const std::string& where);
  // The process_id the consumer's rows are marked with.
  static std::string ProcessId(const std::string& consumer) { return "b24gate." + consumer; }

  // `ledger` and `sink` must outlive the subscription or its Stop().
  OfflineSubscription(Options options, Caller caller, Timer timer, EventLedger* ledger, Sink* sink);

  // Binds the events, then reads the queue. Call once.
  void Start() override;
  // Acknowledged rows are cleared.
  absl::Status Ack(const std::vector<std::string>& delivery_ids, const std::string& where) override;
  // Rows acknowledged and not yet cleared are still cleared, the
  // unacknowledged stay for the consumer's next stream.
  void Stop() override;
  // The portal has queued events: an idle subscription (waiting out its
  // poll interval) reads now; a busy one reads when its batch is done.
  void PollNow();

 private:
  void Poll();
  // Polls if the subscription is waiting for its timer (once per wait).
  void PollIfWaiting();
  void OnBatch(absl::StatusOr<CallReply> reply);
  // Clears `ids` (acknowledged rows); one clear in flight at a time.
  void Clear(std::vector<std::string> ids);
  void OnCleared(std::vector<std::string> ids, absl::Status status);
  // Ends the subscription with `status` (sink End) unless it was stopped.
  void Fail(const absl::Status& status);
  void DeliverToSink(std::vector<QueuedEvent> events);

  const Options options_;
  const Caller caller_;
  const Timer timer_;
  EventLedger* const ledger_;

  // Held across every sink call, so Stop() can wait for one in progress.
  absl::Mutex sink_mu_ ABSL_ACQUIRED_BEFORE(mu_);
  Sink* sink_ ABSL_GUARDED_BY(sink_mu_);

  absl::Mutex mu_;
  bool stopped_ ABSL_GUARDED_BY(mu_) = false;
  std::set<std::string> unacked_ ABSL_GUARDED_BY(mu_);   // delivered, not acknowledged
  std::vector<std::string> to_clear_ ABSL_GUARDED_BY(mu_);  // acknowledged, not yet cleared
  bool clearing_ ABSL_GUARDED_BY(mu_) = false;
  bool waiting_ ABSL_GUARDED_BY(mu_) = false;  // an empty queue read; the timer is set
};

}  // namespace b24gate

#endif  // B24GATE_ENGINE_EVENTS_OFFLINE_SUBSCRIPTION_H_
