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
// Threads: the read's answer and the timer arrive on threads every portal
// shares (HTTP completions, the poll timer), and PollNow on a gRPC callback
// thread; StoreOnce (a disk sync, a Redis script) and HasGroups (a Redis
// round trip) would hold them up for every portal, so they run as jobs of
// the `blocking` executor (the gateway's BlockingPool) instead. A pass is
// still one chain (at most one job or call of it at a time), so the order
// "durable, then clear exactly those ids" holds. An executor that refuses
// the job fails the pass (UNAVAILABLE): the rows stay marked for the next.
//
// Thread-safety: thread-safe. No lock of the source is held while a job,
// a call or a listener runs.
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
  // Runs `job` later on a thread that may block (BlockingPool::Submit);
  // false when it refuses the job.
  using Executor = std::function<bool(std::function<void()> job)>;

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

  // `store` must outlive the source and every job it handed `blocking`;
  // `caller` makes its Bitrix24 calls.
  OfflineSource(Options options, OnlineEventStore* store, Caller caller, Timer timer, Executor blocking,
                Listener listener);

  // A pass now, unless one is under way (then another follows it at once).
  void PollNow();
  // No pass starts after it returns, and no job goes to the executor (so
  // the executor may go once the jobs it has are done); a pass under way
  // ends after its call, and rows it read but had not stored stay marked
  // in the portal for the next pass (of a later start or another replica).
  void Stop();

 private:
  // Begins a pass unless one runs or the source stopped.
  void Begin();
  // On the executor: reads if the store has a group of the portal.
  void CheckGroups();
  void Read();
  void OnRead(absl::StatusOr<CallReply> reply);
  // On the executor: stores the batch, then clears exactly `ids`.
  void StoreAndClear(std::vector<QueuedEvent> events, nlohmann::ordered_json ids);
  // Hands `job` to the executor; ends the pass when it refuses.
  void OffThread(std::function<void()> job);
  // The pass is over: `more` (a full batch) or a PollNow meanwhile starts
  // the next at once, else the next waits for the timer.
  void End(bool more, const absl::Status& status);
  void OnTimer();

  const Options options_;
  OnlineEventStore* const store_;
  const Caller caller_;
  const Timer timer_;
  const Executor blocking_;
  const Listener listener_;

  absl::Mutex mu_;
  bool running_ ABSL_GUARDED_BY(mu_) = false;  // a pass under way
  bool again_ ABSL_GUARDED_BY(mu_) = false;    // PollNow during the pass
  bool armed_ ABSL_GUARDED_BY(mu_) = false;    // the timer is set
  bool stopped_ ABSL_GUARDED_BY(mu_) = false;
};

}  // namespace b24gate

#endif  // B24GATE_ENGINE_EVENTS_OFFLINE_SOURCE_H_
