// One consumer group's unacknowledged events and the members (streams) that
// share them: the decisions of who receives what, as plain state and `now`,
// with no I/O, no clock and no lock of its own, so any store of events (the
// on-disk log's OnlineEventHub, a Redis store) keeps the same semantics:
//
// - Sharing: each event goes to one member. A ready event goes to the member
//   with room in its window (at most Options::window held) that is least
//   loaded (held plus lost, see below), the one served longest ago among
//   equals; so members split a burst about evenly and a stuck member is
//   passed over while another has room.
// - Order per record: of a record's events (same record_id; "" = no
//   record, never held back) only the oldest unacknowledged one may be out
//   at a time. The next goes out once it is acknowledged, so a record's
//   events are processed in the order the group received them, by however
//   many members.
// - Leaving: what a member held goes back, first in line, to the others.
// - Visibility timeout: a delivery not acknowledged within
//   Options::visibility_timeout goes back too (Expire), while its member
//   stays; it is then "lost" by that member: counted in its load, and its
//   late acknowledgement still counts if nobody holds the event again, is
//   ignored if another member does or did (the event is theirs now). A
//   member remembers its last 4 x window lost events; an acknowledgement of
//   an older one is refused like any unknown id.
// - Attempts: every delivery of an event, to whichever member, counts; the
//   owner replays those made before a restart with CountDelivery.
//
// Events are numbered by the owner (`seq`, ascending in the order the group
// receives them), members by the owner's ids.
//
// Thread-safety: thread-compatible; the owner serialises calls.
#ifndef B24GATE_ENGINE_EVENTS_CONSUMER_GROUP_H_
#define B24GATE_ENGINE_EVENTS_CONSUMER_GROUP_H_

#include <cstddef>
#include <cstdint>
#include <deque>
#include <map>
#include <set>
#include <string>
#include <unordered_map>
#include <utility>
#include <vector>

#include "absl/time/time.h"
#include "engine/events/event_subscription.h"

namespace b24gate {

class ConsumerGroup {
 public:
  using MemberId = int64_t;

  struct Options {
    size_t window = 50;  // unacknowledged per member
    absl::Duration visibility_timeout = absl::Minutes(5);
  };

  struct Delivery {
    MemberId member = 0;
    int64_t seq = 0;
    QueuedEvent event;  // attempt set
  };

  enum class AckResult {
    kAcknowledged,  // the event is done for the group
    kIgnored,       // a late acknowledgement of an event another member has now
    kUnknown,       // not a delivery this member holds or lost
  };

  explicit ConsumerGroup(Options options) : options_(options) {}

  // Keeps `event` as `seq`. REQUIRES: seq above every seq added before.
  void Add(int64_t seq, QueuedEvent event);
  // Counts a delivery of `seq` made before a restart (no-op for an unknown
  // seq): its next attempt is one higher.
  void CountDelivery(int64_t seq);

  // REQUIRES: `member` not joined.
  void Join(MemberId member);
  // What `member` held goes back to the group. No-op when not joined.
  void Leave(MemberId member);
  bool HasMember(MemberId member) const { return members_.count(member) > 0; }
  size_t member_count() const { return members_.size(); }

  // Hands out every event that may go out now, in seq order, to members
  // with room; each delivery's deadline is now + visibility_timeout.
  std::vector<Delivery> Assign(absl::Time now);
  // What Ack(member, seq) would answer, changing nothing.
  AckResult CheckAck(MemberId member, int64_t seq) const;
  AckResult Ack(MemberId member, int64_t seq);
  // Deliveries past their deadline go back to the group (Assign hands them
  // out again); returns them as (member, seq).
  std::vector<std::pair<MemberId, int64_t>> Expire(absl::Time now);
  // The earliest deadline of a delivery out; InfiniteFuture when none.
  absl::Time NextDeadline() const;

  // The lowest seq not acknowledged; INT64_MAX when none.
  int64_t OldestSeq() const;
  // Forgets the events through `seq` (the store dropped them); returns how
  // many there were.
  int64_t DropThrough(int64_t seq);
  // Forgets `seq` (an acknowledgement replayed after a restart); the next
  // event of its record becomes ready. No-op for an unknown seq.
  void Forget(int64_t seq);

 private:
  struct Entry {
    QueuedEvent event;
    int deliveries = 0;
    MemberId holder = 0;  // 0 = nobody
    absl::Time deadline;
  };
  struct Member {
    std::set<int64_t> held;
    std::deque<int64_t> lost;  // expired from it, oldest first; at most 4 x window
    uint64_t served = 0;       // when it last received an event (Assign's count)
  };

  // The member with room that should receive the next event; null if none.
  Member* Pick(MemberId* id);
  // Takes `seq` out of its holder's hands (not out of the group).
  void Release(Entry& entry, int64_t seq);
  bool Lost(const Member& member, int64_t seq) const;

  const Options options_;
  std::map<int64_t, Entry> entries_;
  // Per record its events, oldest first; the front is out or ready.
  std::unordered_map<std::string, std::deque<int64_t>> records_;
  std::set<int64_t> ready_;  // may go out now
  std::set<std::pair<absl::Time, int64_t>> deadlines_;
  std::map<MemberId, Member> members_;
  uint64_t assigned_ = 0;
};

}  // namespace b24gate

#endif  // B24GATE_ENGINE_EVENTS_CONSUMER_GROUP_H_
