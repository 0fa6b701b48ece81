// Binding management: every portal whose event bindings are listed (a
// configured portal's "event_bindings", a registered portal's record, given
// to AdminService.AddPortal or UpdatePortal, or read from the shared
// registry another replica wrote) is kept as listed by a BindingKeeper
// (engine/events/binding_keeper.h), its passes through the portal's own
// queue so their calls pass the throttle like any other. Configured and
// already registered portals get their pass at start-up, a portal registered
// or given a new list later at once, and a failed pass is made again with a
// back-off. Each pass is logged in one line ("event bindings") and its
// outcome kept for AdminService.GetEventStatus.
//
// Thread-safety: thread-safe. The passes' callbacks run on the portals'
// threads and the timer's, so the object must outlive the gateway and the
// timer.
#ifndef B24GATE_SERVICE_EVENT_BINDINGS_H_
#define B24GATE_SERVICE_EVENT_BINDINGS_H_

#include <functional>
#include <map>
#include <string>
#include <vector>

#include "absl/base/thread_annotations.h"
#include "absl/synchronization/mutex.h"
#include "engine/events/binding_keeper.h"
#include "engine/events/poll_timer.h"
#include "engine/gateway/gateway.h"
#include "service/logging/logger.h"

namespace b24gate {

class EventBindings {
 public:
  // A portal's handler URL on the inbound endpoint ("" = none).
  using HandlerUrl = std::function<std::string(const std::string& portal)>;

  // `logger`, `clock` and `timer` must outlive this object.
  EventBindings(Logger* logger, Clock* clock, PollTimer* timer,
                BindingKeeper::Options options = BindingKeeper::Options());

  // Keeps the bindings of `configured` and of the portals registered in
  // `gateway`'s directory, now and as they change. REQUIRES: called once;
  // every portal of `configured` is in `gateway`; a configured portal with
  // an online list has a handler URL (LoadConfig checks it).
  void Start(Gateway* gateway, const std::vector<PortalOptions>& configured, HandlerUrl handler_url);
  // Gateway shutdown: no pass starts, and the timer is not used, from now on.
  void Shutdown() { keeper_.Shutdown(); }

  // INVALID_ARGUMENT (naming `where`) when a portal of this gateway could
  // not be given `bindings`; normalises them (NormalizeEventBindings).
  absl::Status Check(const std::string& where, EventBindingsSpec* bindings) const;

  // By portal name: the portals with listed bindings.
  std::map<std::string, BindingKeeper::Status> Reports() const { return keeper_.Statuses(); }
  // The time the reports' next_attempt is measured against.
  absl::Time Now() const { return clock_->Now(); }

 private:
  // The registered portal `name` was added, changed or removed.
  void Changed(const std::string& name);
  void Report(const std::string& portal, const BindingKeeper::Status& status);

  Logger* const logger_;
  Clock* const clock_;
  BindingKeeper keeper_;
  Gateway* gateway_ = nullptr;  // set by Start
  HandlerUrl handler_url_;      // set by Start
  // Reading a registered portal and telling the keeper are one step, so
  // that of two notices of a portal the later read is told last.
  absl::Mutex changed_mu_;
};

}  // namespace b24gate

#endif  // B24GATE_SERVICE_EVENT_BINDINGS_H_
