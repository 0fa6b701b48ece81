// Binding management at start-up: for each configured portal whose config
// lists "event_bindings", one BindingSync pass (engine/events/binding_sync.h)
// through the portal's own queue, so its calls pass the throttle like any
// other. Each pass's outcome is logged in one line ("event bindings") and
// kept for AdminService.GetEventStatus.
//
// Thread-safety: thread-safe. The passes' callbacks run on the portals'
// threads, so the object must outlive the gateway.
#ifndef B24GATE_SERVICE_EVENT_BINDINGS_H_
#define B24GATE_SERVICE_EVENT_BINDINGS_H_

#include <functional>
#include <map>
#include <string>
#include <vector>

#include "absl/base/thread_annotations.h"
#include "absl/synchronization/mutex.h"
#include "engine/events/binding_sync.h"
#include "engine/gateway/gateway.h"
#include "service/logging/logger.h"

namespace b24gate {

class EventBindings {
 public:
  struct PortalReport {
    bool done = false;  // false while the pass runs
    BindingSync::Report report;
  };

  // `logger` must outlive this object.
  explicit EventBindings(Logger* logger) : logger_(logger) {}

  // Starts a pass for every portal of `portals` that lists event bindings;
  // `handler_url` gives a portal's handler URL on the inbound endpoint ("" =
  // none). REQUIRES: called once; every portal of `portals` is in `gateway`;
  // a portal with an online list has a handler URL (LoadConfig checks it).
  void Start(Gateway* gateway, const std::vector<PortalOptions>& portals,
             const std::function<std::string(const std::string& portal)>& handler_url);

  // By portal name: the portals with bindings in the config.
  std::map<std::string, PortalReport> Reports() const;

 private:
  void Finish(const std::string& portal, BindingSync::Report report);

  Logger* const logger_;
  mutable absl::Mutex mu_;
  std::map<std::string, PortalReport> reports_ ABSL_GUARDED_BY(mu_);
};

}  // namespace b24gate

#endif  // B24GATE_SERVICE_EVENT_BINDINGS_H_
