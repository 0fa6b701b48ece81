// Makes a portal's event bindings what the configuration lists (binding
// management): reads them with `event.get`, binds what is listed and
// missing, and unbinds what the gateway owns and the list lacks, one call
// after another (they are few). A second pass over an unchanged list makes
// no call but `event.get`.
//
// Owned, and so managed when their list is given: the offline bindings (an
// application has one offline queue, which the gateway reads), and the
// online bindings whose handler is this gateway's handler URL for the
// portal. Online bindings to any other URL belong to someone else and are
// never touched, nor is ONOFFLINEEVENT, which offline streams bind for
// themselves. A list left unset is not managed at all.
//
// Thread-safety: a pass is one chain of calls; `done` runs on the thread of
// the last call's callback.
#ifndef B24GATE_ENGINE_EVENTS_BINDING_SYNC_H_
#define B24GATE_ENGINE_EVENTS_BINDING_SYNC_H_

#include <functional>
#include <string>
#include <tuple>
#include <vector>

#include "engine/events/event_binder.h"
#include "engine/portal/portal_options.h"

namespace b24gate {

class BindingSync {
 public:
  using Caller = EventBinder::Caller;

  struct Binding {
    std::string event;  // upper case
    bool online = false;
    bool operator<(const Binding& o) const { return std::tie(online, event) < std::tie(o.online, o.event); }
    bool operator==(const Binding& o) const { return online == o.online && event == o.event; }
  };

  // What one pass saw and did, each list in (offline first, name) order.
  struct Report {
    std::vector<Binding> desired;  // the lists given
    std::vector<Binding> found;    // owned bindings event.get listed, of the managed kinds
    std::vector<Binding> bound;
    std::vector<Binding> unbound;
    // One line per failed call ("event.bind ONCRMDEALADD (offline): ...");
    // a failed event.get ends the pass with nothing else done.
    std::vector<std::string> errors;
  };

  // Runs one pass and calls `done` once. `handler` is the portal's handler
  // URL on the inbound endpoint. REQUIRES: `handler` set when
  // `wanted.online` is; the names upper case.
  static void Run(Caller caller, PortalOptions::EventBindings wanted, std::string handler,
                  std::function<void(Report)> done);

  // The bindings `wanted` lists, in (offline first, name) order.
  static std::vector<Binding> Desired(const PortalOptions::EventBindings& wanted);

  // "ONCRMDEALADD (offline)".
  static std::string Describe(const Binding& binding);
};

}  // namespace b24gate

#endif  // B24GATE_ENGINE_EVENTS_BINDING_SYNC_H_
