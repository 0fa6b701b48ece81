// The event bindings the gateway keeps on one portal (binding management):
// the configuration's "event_bindings" of a configured portal, or the
// record of a portal registered at run time (engine/registry/portal_record.h),
// made to match by BindingKeeper (engine/events/binding_keeper.h).
//
// Thread-safety: a plain value.
#ifndef B24GATE_ENGINE_COMMON_EVENT_BINDINGS_SPEC_H_
#define B24GATE_ENGINE_COMMON_EVENT_BINDINGS_SPEC_H_

#include <optional>
#include <string>
#include <vector>

namespace b24gate {

struct EventBindingsSpec {
  // A list left unset is not managed: the bindings of that kind are left as
  // they are; an empty list unbinds them all. Names upper case, each once.
  std::optional<std::vector<std::string>> offline;
  std::optional<std::vector<std::string>> online;  // bound to the inbound endpoint
  std::string auth_connector;                      // given to new offline binds; "" = none

  // Whether any kind is managed.
  bool listed() const { return offline.has_value() || online.has_value(); }
  bool operator==(const EventBindingsSpec& o) const {
    return offline == o.offline && online == o.online && auth_connector == o.auth_connector;
  }
  bool operator!=(const EventBindingsSpec& o) const { return !(*this == o); }
};

}  // namespace b24gate

#endif  // B24GATE_ENGINE_COMMON_EVENT_BINDINGS_SPEC_H_
