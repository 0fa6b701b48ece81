// What the event subscriptions of this replica have delivered: per portal,
// events received (online posts the inbound endpoint accepted; offline
// queue rows its offline source stored for the first time), events
// delivered, redelivered and acknowledged, posts refused (by reason), and
// per consumer the deliveries not yet acknowledged and the age of the
// oldest (the consumer lag). Attempts are the stores' (they survive a
// restart there); the ledger only counts them.
//
// Memory: one entry per delivery not yet acknowledged (at most a window
// per stream) and one per (portal, consumer) delivered to since the start.
//
// Thread-safety: thread-safe.
#ifndef B24GATE_ENGINE_EVENTS_EVENT_LEDGER_H_
#define B24GATE_ENGINE_EVENTS_EVENT_LEDGER_H_

#include <cstdint>
#include <map>
#include <set>
#include <string>
#include <utility>
#include <vector>

#include "absl/base/thread_annotations.h"
#include "absl/synchronization/mutex.h"
#include "absl/time/time.h"
#include "engine/common/clock.h"

namespace b24gate {

class EventLedger {
 public:
  struct Counts {
    int64_t received_inbound = 0;  // posts the inbound endpoint accepted for the portal
    int64_t received_offline = 0;  // offline queue rows stored for the first time
    int64_t delivered = 0;    // every event written to a stream, redeliveries included
    int64_t redelivered = 0;  // of which attempt > 1
    int64_t acknowledged = 0;
    // Unacknowledged deliveries the events log dropped at its bounds.
    int64_t dropped = 0;
    // Age of the oldest event delivered and not yet cleared; zero when none.
    absl::Duration oldest_unacknowledged;
  };

  // `clock` must outlive the ledger.
  explicit EventLedger(Clock* clock) : clock_(clock) {}

  // Counts a delivery; the store numbers the attempts.
  void CountDelivery(const std::string& portal, const std::string& consumer, const std::string& id,
                     int attempt);
  void Acknowledged(const std::string& portal, int64_t count);
  // The deliveries are acknowledged (or handed back): forget them.
  void Cleared(const std::string& portal, const std::string& consumer,
               const std::vector<std::string>& ids);

  // The events log dropped `count` unacknowledged deliveries of `portal`.
  void Dropped(const std::string& portal, int64_t count);

  // The inbound endpoint accepted a post for `portal`.
  void Received(const std::string& portal);
  // The portal's offline source stored `count` rows new to the store.
  void ReceivedOffline(const std::string& portal, int64_t count);
  // The inbound endpoint refused a post; `reason` is one of a fixed few
  // (InboundEndpoint), never the caller's text.
  void Refused(const std::string& reason);

  // Per portal that has had a subscriber or an accepted post.
  std::map<std::string, Counts> Snapshot() const;

  // One consumer's events delivered and not yet acknowledged (cleared).
  struct ConsumerLag {
    int64_t unacknowledged = 0;
    absl::Duration oldest_unacknowledged;  // since its first delivery; zero when none
  };
  // Per (portal, consumer) this replica has delivered to, in that order.
  std::map<std::pair<std::string, std::string>, ConsumerLag> ConsumerLags() const;
  // Refused posts by reason.
  std::map<std::string, int64_t> RefusedSnapshot() const;

 private:
  struct Attempts {
    int count = 0;
    absl::Time first;
  };
  // (portal, consumer) -> row id -> attempts.
  using Key = std::pair<std::string, std::string>;

  Clock* const clock_;
  mutable absl::Mutex mu_;
  std::map<std::string, Counts> counts_ ABSL_GUARDED_BY(mu_);
  std::map<Key, std::map<std::string, Attempts>> rows_ ABSL_GUARDED_BY(mu_);
  std::set<Key> consumers_ ABSL_GUARDED_BY(mu_);  // every one delivered to
  std::map<std::string, int64_t> refused_ ABSL_GUARDED_BY(mu_);
};

}  // namespace b24gate

#endif  // B24GATE_ENGINE_EVENTS_EVENT_LEDGER_H_
