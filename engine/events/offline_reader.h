// The offline queue of one (portal, consumer), read once for every stream
// of the consumer on this replica, and shared between those streams (its
// members) as one consumer group: ConsumerGroup decides who receives what,
// as it does for online events (each event to one member; a record's next
// event only once its previous one is acknowledged; what a member leaves,
// or does not acknowledge within Options::visibility_timeout, goes to the
// others with attempt + 1).
//
// The portal stays the durable log. The reader reads with
// `event.offline.get clear=0` and the consumer's one process_id
// (ProcessId), and calls `event.offline.clear` for exactly the rows a
// member acknowledged, so a row is deleted only after its acknowledgement
// and a crash between the two leaves it marked for the next read with that
// process_id (which returns it again).
//
// Batches: one at a time, shared between the members; the next is read
// once every row of the last is acknowledged and cleared (one call, a
// read or a clear, in flight at a time), so a read never returns a row the
// reader still holds, and a record's events stay in the portal's order
// across batches as ConsumerGroup keeps them within one. An empty queue is
// read again after Options::poll_interval, or at PollNow. Attempts are the
// ledger's (EventLedger::Delivered), so they count on across readers of
// the same consumer on this replica.
//
// Its calls go through the caller of its longest-joined member (the last
// one's after all have left, for the clears still due). A failed read or
// clear ends every member's stream with its status (the rows stay marked
// in the portal); the reader is then done, and Disposable.
//
// Thread-safety: thread-safe. It calls its members (Pump, End) and the
// caller holding no lock of its own; members call TakeOutbox from Pump.
#ifndef B24GATE_ENGINE_EVENTS_OFFLINE_READER_H_
#define B24GATE_ENGINE_EVENTS_OFFLINE_READER_H_

#include <cstddef>
#include <cstdint>
#include <functional>
#include <map>
#include <memory>
#include <optional>
#include <string>
#include <vector>

#include <nlohmann/json.hpp>

#include "absl/base/thread_annotations.h"
#include "absl/status/status.h"
#include "absl/synchronization/mutex.h"
#include "absl/time/time.h"
#include "engine/common/clock.h"
#include "engine/events/consumer_group.h"
#include "engine/events/event_binder.h"
#include "engine/events/event_ledger.h"
#include "engine/events/event_subscription.h"

namespace b24gate {

class OfflineReader : public std::enable_shared_from_this<OfflineReader> {
 public:
  using Caller = EventBinder::Caller;
  // Runs `fire` after `delay` (PollTimer::After).
  using Timer = std::function<void(absl::Duration delay, std::function<void()> fire)>;
  using MemberId = ConsumerGroup::MemberId;

  struct Options {
    std::string portal;
    std::string consumer;
    int batch_size = 50;
    absl::Duration poll_interval = absl::Seconds(5);
    size_t window = 50;  // unacknowledged per member
    absl::Duration visibility_timeout = absl::Minutes(5);
  };

  // What the reader hands events to (an OfflineSubscription).
  class Member {
   public:
    virtual ~Member() = default;
    // Its outbox has events: take them (TakeOutbox) and deliver them.
    virtual void Pump() = 0;
    // The reader failed: the member's stream ends with `status`.
    virtual void End(const absl::Status& status) = 0;
    // Set before the member calls Leave; a stopped member does not join.
    virtual bool Stopped() const = 0;
  };

  // The process_id a consumer's rows are marked with.
  static std::string ProcessId(const std::string& consumer) { return "b24gate." + consumer; }

  // `ledger` and `clock` must outlive the reader.
  OfflineReader(Options options, EventLedger* ledger, Clock* clock, Timer timer);

  // A new member id; the member counts as attached until its Leave.
  MemberId Attach();
  // The member (its binds done) receives events from now on, and the
  // reader may call through `caller`. No-op for a stopped member; a failed
  // reader ends it at once.
  void Join(MemberId id, std::weak_ptr<Member> member, Caller caller);
  // What the member held goes to the others. Call once per Attach.
  void Leave(MemberId id);
  // INVALID_ARGUMENT naming `where`[i] for an id the member neither holds
  // nor lost to the visibility timeout; then nothing is taken.
  absl::Status Ack(MemberId id, const std::vector<std::string>& delivery_ids, const std::string& where);
  // The events handed to the member and not yet taken, oldest first.
  std::vector<QueuedEvent> TakeOutbox(MemberId id);
  // The portal queued something: a reader waiting for its timer reads now.
  void PollNow();

  // Failed, or no member attached and no call in flight: a new stream of
  // the consumer may take a new reader.
  bool Disposable() const;
  size_t attached() const;

 private:
  struct Call {
    std::string method;
    nlohmann::ordered_json params;
    Caller caller;
    std::vector<std::string> clearing;  // the rows a clear deletes
  };
  // What to do once the lock is released.
  struct Work {
    std::vector<std::shared_ptr<Member>> pump;
    std::optional<Call> call;
  };

  // REQUIRES: mu_ held. The call to make next, if any (then busy_): the
  // acknowledged rows' clear, else the next batch's read when it is due.
  std::optional<Call> NextCallLocked() ABSL_EXCLUSIVE_LOCKS_REQUIRED(mu_);
  // REQUIRES: mu_ held. Hands out what may go out now into the outboxes.
  void AssignLocked(Work* work) ABSL_EXCLUSIVE_LOCKS_REQUIRED(mu_);
  // REQUIRES: mu_ held. Sets the timer for the earliest delivery deadline.
  void ArmVisibilityLocked() ABSL_EXCLUSIVE_LOCKS_REQUIRED(mu_);
  void Do(Work work);
  void Run(Call call);
  void OnRead(absl::StatusOr<CallReply> reply);
  void OnCleared(std::vector<std::string> ids, const absl::Status& status);
  void OnPollTimer();
  void OnVisibilityTimer();
  void Fail(const absl::Status& status);

  const Options options_;
  EventLedger* const ledger_;
  Clock* const clock_;
  const Timer timer_;

  mutable absl::Mutex mu_;
  ConsumerGroup group_ ABSL_GUARDED_BY(mu_);
  MemberId next_member_ ABSL_GUARDED_BY(mu_) = 1;
  size_t attached_ ABSL_GUARDED_BY(mu_) = 0;
  std::map<MemberId, std::weak_ptr<Member>> members_ ABSL_GUARDED_BY(mu_);  // joined
  std::map<MemberId, Caller> callers_ ABSL_GUARDED_BY(mu_);                 // joined
  Caller last_caller_ ABSL_GUARDED_BY(mu_);  // of the last member to leave
  // Handed to a member and not yet taken; by seq.
  std::map<MemberId, std::map<int64_t, QueuedEvent>> outbox_ ABSL_GUARDED_BY(mu_);
  std::map<std::string, int64_t> rows_ ABSL_GUARDED_BY(mu_);  // row ID -> seq, unacknowledged
  std::vector<std::string> to_clear_ ABSL_GUARDED_BY(mu_);    // acknowledged, clear not sent
  int64_t next_seq_ ABSL_GUARDED_BY(mu_) = 1;
  bool busy_ ABSL_GUARDED_BY(mu_) = false;         // a read or clear in flight
  bool waiting_ ABSL_GUARDED_BY(mu_) = false;      // a read found the queue empty
  bool poll_armed_ ABSL_GUARDED_BY(mu_) = false;   // the poll timer is set
  absl::Time armed_at_ ABSL_GUARDED_BY(mu_) = absl::InfiniteFuture();  // visibility timer
  absl::Status failed_ ABSL_GUARDED_BY(mu_);
};

}  // namespace b24gate

#endif  // B24GATE_ENGINE_EVENTS_OFFLINE_READER_H_
