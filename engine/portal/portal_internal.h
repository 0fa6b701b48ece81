// What the files of Portal's implementation share (portal.cc: the loop,
// sending and shutdown; portal_answers.cc: settling answers;
// portal_views.cc: tuning and snapshots). Not for use outside engine/portal.
#ifndef B24GATE_ENGINE_PORTAL_PORTAL_INTERNAL_H_
#define B24GATE_ENGINE_PORTAL_PORTAL_INTERNAL_H_

#include <atomic>
#include <string>
#include <vector>

#include "absl/status/status.h"
#include "absl/strings/string_view.h"
#include "absl/time/time.h"
#include "engine/common/errors.h"
#include "engine/portal/portal.h"
#include "engine/portal/portal_events.h"
#include "engine/portal/work.h"

namespace b24gate {

struct Portal::Flight {
  // Whether its request has left. The transport asks (via
  // HttpRequest::starting) right before it writes the request; shutdown
  // asks too, and whoever comes first decides: a request withdrawn before it
  // left was never sent, so its work is answered NOT_EXECUTED, never
  // OUTCOME_UNKNOWN.
  enum Wire : int { kWaiting, kSending, kWithdrawn };

  // Null entries were answered while on the wire (deadline, shutdown).
  std::vector<WorkPtr> group;
  std::vector<std::string> keys;  // batch keys; empty for a single call
  bool v3 = false;  // a REST 3.0 call or batch (then alone in its group)
  // Sent by the call's own streamed sender (CallOptions::send_streamed):
  // its time on the wire is the file's, not the portal's latency.
  bool streamed = false;
  absl::Time sent_at;
  // When its slot in the bucket was taken: the answer's `time.start` less
  // this is the delay whose jitter sizes the headroom.
  absl::Time slot = absl::InfinitePast();
  std::atomic<int> wire{kWaiting};
};

namespace portal_internal {

inline PortalEvent Event(PortalEvent::Type type) {
  PortalEvent e;
  e.type = type;
  return e;
}

inline PortalEvent RetryEvent(const std::string& method, RetryReason reason,
                              absl::Duration delay) {
  PortalEvent e = Event(PortalEvent::Type::kRetry);
  e.method = method;
  e.reason = reason;
  e.duration = delay;
  return e;
}

inline PortalEvent OutcomeUnknownEvent(const std::string& method, absl::string_view cause) {
  PortalEvent e = Event(PortalEvent::Type::kOutcomeUnknown);
  e.method = method;
  e.text = std::string(cause);
  return e;
}

}  // namespace portal_internal
}  // namespace b24gate

#endif  // B24GATE_ENGINE_PORTAL_PORTAL_INTERNAL_H_
