// One portal's offline queue as a source of the gateway's offline event
// store, as the inbound endpoint is for online events: the reader moves the
// portal's rows into the store, and the store's consumer groups deliver
// them (each group every row it names, the streams of a group sharing
// them). One per portal per replica, whatever the number of consumers.
//
// A pass: `event.offline.get clear=0` with Options::process_id (the same
// for every replica and restart: the portal gives the rows it marked to
// that id again, and to nobody else, so a row marked by a replica that died
// is read by the next pass of any replica); then StoreOnce, which returns
// once the rows are durable and skips rows the store took before (by their
// ID: a pass that died before its clear, here or on another replica, is
// read again); only then `event.offline.clear` for exactly those ids. A
// full batch is followed at once by the next pass; an empty one, or a
// failure (the rows stay marked for the next pass), rests for
// Options::poll_interval, unless PollNow (ONOFFLINEEVENT) comes first.
//
// The portal keeps the rows for nobody for free, the store does not: a pass
// reads only while the store has a consumer group of the portal
// (HasGroups, durable), and rests otherwise.
//
// Thread-safety: thread-safe. One call (a read or a clear) is in flight at
// a time; StoreOnce and HasGroups run on the thread that completes the read
// (or fires the timer) and may block it for a disk sync or a Redis round
// trip; no lock of the source is held meanwhile.
#ifndef B24GATE_ENGINE_EVENTS_OFFLINE_SOURCE_H_
#define B24GATE_ENGINE_EVENTS_OFFLINE_SOURCE_H_

#include <functional>
#include <memory>
#include <string>
#include <vector>

#include "absl/base/thread_annotations.h"
#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "absl/synchronization/mutex.h"
#include "absl/time/time.h"
#include "engine/events/event_binder.h"
#include "engine/events/online_event_store.h"

namespace b24gate {

class OfflineSource : public std::enable_shared_from_this<OfflineSource> {
 public:
  using Caller = EventBinder::Caller;
  // Runs `fire` after `delay` (PollTimer::After).
  using Timer = std::function<void(absl::Duration delay, std::function<void()> fire)>;

  struct Options {
    std::string portal;
    std::string process_id = "b24gate";
    int batch_size = 50;
    absl::Duration poll_interval = absl::Seconds(5);
  };

  // What a pass did, for the ledger and the log.
  struct Listener {
    std::function<void(int fresh)> stored;  // rows new to the store
    std::function<void(const absl::Status&)> failed;
  };

  // `store` must outlive the source; `caller` makes its Bitrix24 calls.
  OfflineSource(Options options, OnlineEventStore* store, Caller caller, Timer timer, Listener listener);

  // A pass now, unless one is under way (then another follows it at once).
  void PollNow();
  // No pass starts after it returns; one under way ends after its call.
  void Stop();

 private:
  // Begins a pass unless one runs or the source stopped.
  void Begin();
  void Read();
  void OnRead(absl::StatusOr<CallReply> reply);
  // The pass is over: `more` (a full batch) or a PollNow meanwhile starts
  // the next at once, else the next waits for the timer.
  void End(bool more, const absl::Status& status);
  void OnTimer();

  const Options options_;
  OnlineEventStore* const store_;
  const Caller caller_;
  const Timer timer_;
  const Listener listener_;

  absl::Mutex mu_;
  bool running_ ABSL_GUARDED_BY(mu_) = false;  // a pass under way
  bool again_ ABSL_GUARDED_BY(mu_) = false;    // PollNow during the pass
  bool armed_ ABSL_GUARDED_BY(mu_) = false;    // the timer is set
  bool stopped_ ABSL_GUARDED_BY(mu_) = false;
};

}  // namespace b24gate

#endif  // B24GATE_ENGINE_EVENTS_OFFLINE_SOURCE_H_
