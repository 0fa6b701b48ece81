// The online events the inbound endpoint accepted, kept in an on-disk log
// (EventLog) until each consumer group that wants them has acknowledged
// them. A consumer group (a name per portal) is known from its first stream
// on; from then on every accepted event it names (names or patterns,
// event_pattern.h) is kept for it, whether a stream of it is open or not,
// and each group gets every such event (two groups of one portal each
// receive all of them).
//
// Members: every open stream of a group is a member, and the members share
// the group's events as ConsumerGroup decides (each event to one member, a
// record's next event only once its previous one is acknowledged, what a
// member leaves or does not acknowledge within Options::visibility_timeout
// to the others, attempt + 1). Delivery ids are "PREFIX-SEQ" (PREFIX
// Options::id_prefix, "online" or "offline"), SEQ the event's number in the
// log, the same for every group and after a restart.
//
// Repeats: an event stored with a source_id (StoreOnce) is skipped when the
// hub took one with the same source_id among the portal's last
// Options::remembered such events; those ids are in the event records and
// restated at each segment's start, so a restart remembers them too.
//
// Durability: the event, each group's first stream (with the events it
// names), each delivery and each acknowledgement are records of the log,
// appended under the hub's lock (a queue push; the writer thread does the
// I/O). After a restart, SIGKILL included, Open reads them back: what a
// group had not acknowledged is delivered again, with the attempts counted
// on, and what it had is not. Publish's ticket tells the inbound endpoint
// when the event is on disk (it answers 200 only then); acknowledgements
// count in the ledger once they are on disk.
//
// Bounds: the log's (EventLog::Options max_bytes, max_age); events it drops
// are taken from the groups and counted (ledger, `on_drop`). At most
// Options::max_consumers groups per portal and max_members streams per
// group.
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
#include "engine/events/consumer_group.h"
#include "engine/events/event_ledger.h"
#include "engine/events/event_log.h"
#include "engine/events/event_subscription.h"
#include "engine/events/online_event_store.h"

namespace b24gate {

class OnlineEventHub : public OnlineEventStore, private EventLog::Owner {
 public:
  struct Options {
    size_t window = 50;         // unacknowledged per stream
    size_t max_consumers = 64;  // groups per portal
    // A delivery not acknowledged in this time goes to another member (or
    // the same, when it is the only one with room) again.
    absl::Duration visibility_timeout = absl::Minutes(5);
    size_t max_members = 64;  // streams per group
    std::string id_prefix = "online";
    // Source ids remembered per portal (StoreOnce's repeats).
    size_t remembered = 1000;
  };

  // Runs `fire` after `delay` on the clock (PollTimer::After); a `fire`
  // that runs after the hub is gone does nothing.
  using Timer = std::function<void(absl::Duration delay, std::function<void()> fire)>;

  // Opens the log in `log_options.dir` and restores what it holds.
  // `ledger` and `clock` must outlive the hub; `timer` wakes it at the
  // visibility timeouts; `on_drop` as in EventLog.
  static absl::StatusOr<std::unique_ptr<OnlineEventHub>> Open(EventLedger* ledger, Clock* clock,
                                                              Timer timer,
                                                              EventLog::Options log_options,
                                                              Options options,
                                                              EventLog::OnDrop on_drop);
  ~OnlineEventHub() override;

  struct Published {
    int taken = 0;        // groups that took it
    int64_t ticket = 0;   // its log record; 0 when nobody took it
    bool repeat = false;  // its source_id was taken before: skipped
  };
  // Keeps `event` (its delivery_id and attempt are set here) for every
  // group of `portal` with a name or pattern that matches event.event.
  Published Publish(const std::string& portal, QueuedEvent event);
  // Blocks until Publish's record `ticket` is on disk (OK at once for 0).
  absl::Status WaitStored(int64_t ticket);

  // OnlineEventStore: Publish, then WaitStored.
  absl::Status Store(const std::string& portal, QueuedEvent event) override;
  // Publishes each under one lock, pumps the streams once, then WaitStored
  // for the last.
  absl::StatusOr<int> StoreOnce(const std::string& portal, std::vector<QueuedEvent> events) override;
  absl::StatusOr<bool> HasGroups(const std::string& portal) override;

  // A stream of group `consumer` on `portal` wanting `events` (names or
  // patterns, any case; added to what the group wants). Start() runs
  // `prepare`, then joins the group's members. RESOURCE_EXHAUSTED when the
  // portal has max_consumers other groups, or the group max_members
  // streams, already.
  absl::StatusOr<std::shared_ptr<EventSubscription>> Subscribe(const std::string& portal,
                                                               const std::string& consumer,
                                                               const std::vector<std::string>& events,
                                                               EventSink* sink, Prepare prepare) override;

  std::optional<int64_t> log_bytes() const override { return log_->bytes(); }
  std::map<std::string, int64_t> stream_entries() const override { return {}; }

 private:
  class Stream;
  using StreamRefs = std::vector<std::shared_ptr<Stream>>;
  using MemberId = ConsumerGroup::MemberId;
  struct Group {
    explicit Group(ConsumerGroup::Options options) : members(options) {}
    std::set<std::string> events;  // names and patterns, upper case
    ConsumerGroup members;
    // Handed to a started member and not yet given to its sink; by seq.
    std::map<MemberId, std::map<int64_t, QueuedEvent>> outbox;
    std::map<MemberId, std::weak_ptr<Stream>> streams;  // the started ones
  };
  using Key = std::pair<std::string, std::string>;  // (portal, consumer)
  // A portal's last source ids taken, oldest first, and the same as a set.
  struct Seen {
    std::deque<std::string> order;
    std::set<std::string> ids;
  };
  // Lets a timer callback that outlives the hub do nothing.
  struct TimerGuard {
    absl::Mutex mu;
    OnlineEventHub* hub ABSL_GUARDED_BY(mu) = nullptr;
  };

  OnlineEventHub(EventLedger* ledger, Clock* clock, Timer timer, Options options);

  // The stream's prepare succeeded: it becomes a member. Returns the
  // streams to pump.
  StreamRefs Join(Stream* stream);
  // Hands the stream its outbox. REQUIRES: the stream's sink lock held (so
  // deliveries to it keep their order).
  void Pump(Stream* stream);
  absl::Status Ack(Stream* stream, const std::vector<std::string>& ids, const std::string& where);
  void Detach(Stream* stream);
  void OnTimer();
  // REQUIRES: mu_ held. Hands out what `group` may deliver now (outboxes,
  // the log's delivery record, the ledger) and adds the streams that got
  // something to `to_pump`.
  void Dispatch(const Key& key, Group& group, StreamRefs* to_pump) ABSL_EXCLUSIVE_LOCKS_REQUIRED(mu_);
  // REQUIRES: mu_ held. Publish's work; the streams that got something are
  // added to `to_pump`, for the caller to pump once the lock is released.
  Published PublishLocked(const std::string& portal, QueuedEvent event, StreamRefs* to_pump)
      ABSL_EXCLUSIVE_LOCKS_REQUIRED(mu_);
  // REQUIRES: mu_ held. Sets the timer for the earliest delivery deadline.
  void ArmTimer() ABSL_EXCLUSIVE_LOCKS_REQUIRED(mu_);
  Group* FindGroup(const Key& key) ABSL_EXCLUSIVE_LOCKS_REQUIRED(mu_);
  static void PumpAll(const StreamRefs& streams);

  // A record read back from the log at Open.
  void Restore(const nlohmann::ordered_json& record);
  // The record that says `key` names its events.
  static nlohmann::ordered_json GroupRecord(const Key& key, const Group& group);
  // REQUIRES: mu_ held. Remembers `id` as taken for `portal`.
  void RememberLocked(const std::string& portal, const std::string& id) ABSL_EXCLUSIVE_LOCKS_REQUIRED(mu_);
  // The delivery id of event `seq`, and back.
  std::string IdOf(int64_t seq) const;
  bool ParseId(const std::string& id, int64_t* seq) const;

  // EventLog::Owner.
  std::vector<nlohmann::ordered_json> Snapshot() override;
  int64_t OldestNeeded() override;
  int64_t DropThrough(int64_t seq) override;

  EventLedger* const ledger_;
  Clock* const clock_;
  const Timer timer_;
  const Options options_;
  const std::shared_ptr<TimerGuard> guard_ = std::make_shared<TimerGuard>();
  mutable absl::Mutex mu_;
  std::map<Key, Group> groups_ ABSL_GUARDED_BY(mu_);
  std::map<std::string, Seen> seen_ ABSL_GUARDED_BY(mu_);  // by portal
  int64_t next_id_ ABSL_GUARDED_BY(mu_) = 1;
  MemberId next_member_ ABSL_GUARDED_BY(mu_) = 1;
  absl::Time armed_at_ ABSL_GUARDED_BY(mu_) = absl::InfiniteFuture();  // the timer set
  // Last: its writer thread, which calls the Owner methods, stops first.
  std::unique_ptr<EventLog> log_;
};

}  // namespace b24gate

#endif  // B24GATE_ENGINE_EVENTS_ONLINE_HUB_H_
