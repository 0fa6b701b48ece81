// Binds the events a subscription needs, once per stream: reads the
// portal's bindings with `event.get` and binds what is missing with
// `event.bind`, one call after another (they are few). An offline binding
// has no handler; an online one names the handler URL the portal posts to,
// and counts as present only with that URL. Patterns (ONCRMDEAL*,
// event_pattern.h) are first turned into the names of the portal's events
// they match (method `events`).
//
// Thread-safety: a binder runs one binding pass; its callbacks run on the
// caller's threads.
#ifndef B24GATE_ENGINE_EVENTS_EVENT_BINDER_H_
#define B24GATE_ENGINE_EVENTS_EVENT_BINDER_H_

#include <functional>
#include <string>
#include <vector>

#include <nlohmann/json.hpp>

#include "absl/status/status.h"
#include "engine/portal/call_types.h"

namespace b24gate {

class EventBinder {
 public:
  // One Bitrix24 call on the subscription's portal, through its throttle.
  using Caller = std::function<void(const std::string& method, nlohmann::ordered_json params,
                                    CallCallback done)>;

  struct Binding {
    std::vector<std::string> events;  // names or patterns
    std::string handler;         // "" = offline
    std::string auth_connector;  // "" = none; given to new offline binds only
  };

  // Binds what `binding` lists and the portal lacks, then calls `done` once
  // (OK, or the first failed call's status; INVALID_ARGUMENT naming a
  // pattern that matches none of the portal's events).
  static void Run(Caller caller, Binding binding, std::function<void(absl::Status)> done);
};

}  // namespace b24gate

#endif  // B24GATE_ENGINE_EVENTS_EVENT_BINDER_H_
