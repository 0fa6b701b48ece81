// One portal's traffic as a stream of events: the single source of both its
// counters (PortalStats) and its observer's metrics and logs.
//
// The dispatcher records events while it holds its lock (Outbox::Add counts
// each into PortalStats at once) and fires them at the observer after the
// lock is released (Outbox::Deliver), then runs the callers' completions.
// So the observer never runs under the portal's lock, and a counter and the
// metric fed by the same event cannot disagree.
//
// Thread-safety: an Outbox is used by one thread at a time.
#ifndef B24GATE_ENGINE_PORTAL_PORTAL_EVENTS_H_
#define B24GATE_ENGINE_PORTAL_PORTAL_EVENTS_H_

#include <string>
#include <vector>

#include "absl/time/time.h"
#include "engine/portal/portal_observer.h"
#include "engine/portal/portal_stats.h"
#include "engine/portal/work.h"

namespace b24gate {

struct PortalEvent {
  enum class Type {
    kRequestSent,       // count: commands; flag: a `batch` request
    kCommandSent,       // method, client
    kRequestDone,       // outcome, duration
    kBitrixError,       // method, code, text
    kRetry,             // method, reason, duration
    kOutcomeUnknown,    // method, text
    kTransportFailure,  // text
    kTokenRefresh,      // flag: ok
    kRedirect,          // followed
    kRedirectRefused,   // code: where it pointed; text: why it was refused
    kAutothrottle,      // rate, count: concurrency
    kRateLimited,       // a 503 QUERY_LIMIT_EXCEEDED answer
    kOperatingBlocked,  // a 429 OPERATION_TIME_LIMIT answer
    kRestV3Sent,        // method: a REST 3.0 request
    kIdempotentReplay,  // method: a REST 3.0 write answered Idempotent-Replayed
  };
  Type type;
  std::string method;
  std::string client;
  std::string code;
  std::string text;
  int count = 0;
  bool flag = false;
  HttpOutcome outcome = HttpOutcome::kOk;
  RetryReason reason = RetryReason::kNotSent;
  absl::Duration duration;
  double rate = 0;
};

// Adds `e` to the counters of `stats` it feeds.
void CountEvent(const PortalEvent& e, PortalStats* stats);
// Tells `observer` of `e`.
void FireEvent(const PortalEvent& e, const std::string& portal, PortalObserver* observer);

// What a pass under the portal's lock leaves to do after it: events for the
// observer, then the callers' completions.
class Outbox {
 public:
  // `observer` must outlive the outbox.
  Outbox(std::string portal, PortalObserver* observer)
      : portal_(std::move(portal)), observer_(observer) {}

  // Counts `e` into `stats` now and keeps it for Deliver.
  // REQUIRES: the lock guarding `stats` held.
  void Add(PortalEvent e, PortalStats* stats);
  void Complete(Completion c) { completions_.push_back(std::move(c)); }
  bool empty() const { return events_.empty() && completions_.empty(); }
  // Fires the events, then runs the completions, and empties the outbox.
  // REQUIRES: no portal lock held.
  void Deliver();

 private:
  const std::string portal_;
  PortalObserver* const observer_;
  std::vector<PortalEvent> events_;
  std::vector<Completion> completions_;
};

}  // namespace b24gate

#endif  // B24GATE_ENGINE_PORTAL_PORTAL_EVENTS_H_
