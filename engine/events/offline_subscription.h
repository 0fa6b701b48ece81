// One subscriber's stream of a portal's offline events, delivered at least
// once: a member of its consumer's OfflineReader, which reads the portal's
// offline queue once for all the consumer's streams on this replica and
// shares the events between them (each to one stream, a record's events
// one after another, what a stream leaves or does not acknowledge in time
// to the others). The portal is the durable log: a row is cleared only
// after its acknowledgement, and what is not acknowledged stays marked with
// the consumer's process_id for its next read (OfflineReader).
//
// At start the events named in Options are bound as offline events
// (EventBinder), then the stream joins the reader.
//
// Thread-safety: thread-safe. Sink calls are made one at a time, holding no
// lock of the subscription except the one that lets Stop() wait for them;
// after Stop() returns the sink is never called again.
#ifndef B24GATE_ENGINE_EVENTS_OFFLINE_SUBSCRIPTION_H_
#define B24GATE_ENGINE_EVENTS_OFFLINE_SUBSCRIPTION_H_

#include <atomic>
#include <memory>
#include <string>
#include <vector>

#include "absl/base/thread_annotations.h"
#include "absl/status/status.h"
#include "absl/synchronization/mutex.h"
#include "engine/events/event_binder.h"
#include "engine/events/event_subscription.h"
#include "engine/events/offline_readers.h"

namespace b24gate {

// For a queue row: delivery_id is its ID, timestamp its TIMESTAMP_X, data
// its EVENT_DATA.
class OfflineSubscription : public EventSubscription,
                            public OfflineReader::Member,
                            public std::enable_shared_from_this<OfflineSubscription> {
 public:
  using Caller = EventBinder::Caller;
  using Sink = EventSink;

  struct Options {
    std::string portal;
    std::string consumer;             // REQUIRES: a valid name (ValidateConsumerName)
    std::vector<std::string> events;  // bound as offline events at start
    // Given to those binds: writes carrying the same auth_connector are not
    // queued for them. "" = none. REQUIRES: empty or a valid name.
    std::string auth_connector;
    // The inbound endpoint's handler URL for this portal ("" = none): when
    // set, ONOFFLINEEVENT is bound to it too, so the portal says when its
    // queue fills and the reader reads at once (OfflineReaders::PollNow).
    std::string notify_handler;
  };

  // `attached`: from OfflineReaders::Attach for the options' portal and
  // consumer. `caller` makes this stream's binds, and the reader's calls
  // while it is the longest-joined member. `sink` must outlive the
  // subscription or its Stop().
  OfflineSubscription(Options options, Caller caller, OfflineReaders::Attached attached, Sink* sink);
  ~OfflineSubscription() override { Leave(); }

  // Binds the events, then joins the reader. Call once.
  void Start() override;
  // Acknowledged rows are cleared.
  absl::Status Ack(const std::vector<std::string>& delivery_ids, const std::string& where) override;
  // What it held unacknowledged goes to the consumer's other streams (or
  // waits for its next one); what it acknowledged is still cleared.
  void Stop() override;

  // OfflineReader::Member.
  void Pump() override;
  void End(const absl::Status& status) override;
  bool Stopped() const override { return stopped_.load(); }

 private:
  // Leaves the reader once.
  void Leave();

  const Options options_;
  const Caller caller_;
  const std::shared_ptr<OfflineReader> reader_;
  const OfflineReader::MemberId member_;
  std::atomic<bool> stopped_{false};
  std::atomic<bool> left_{false};

  // Held across every sink call, so Stop() can wait for one in progress.
  absl::Mutex sink_mu_;
  Sink* sink_ ABSL_GUARDED_BY(sink_mu_);
};

}  // namespace b24gate

#endif  // B24GATE_ENGINE_EVENTS_OFFLINE_SUBSCRIPTION_H_
