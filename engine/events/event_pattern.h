// Names as a subscriber gives them. Event names: a name (ONCRMDEALADD) or a
// pattern with `*` standing for any run of characters (ONCRMDEAL*, *ADD),
// compared without regard to case, as Bitrix24 compares event names. And
// the consumer and auth_connector names a subscription or a config carries,
// and the event bindings a portal is given.
//
// Thread-safety: pure functions.
#ifndef B24GATE_ENGINE_EVENTS_EVENT_PATTERN_H_
#define B24GATE_ENGINE_EVENTS_EVENT_PATTERN_H_

#include <string>
#include <vector>

#include "absl/status/status.h"
#include "absl/strings/string_view.h"
#include "engine/common/event_bindings_spec.h"

namespace b24gate {

bool IsEventPattern(absl::string_view name);

// OK for a name Bitrix24 could bind: 1 to 64 of A-Z a-z 0-9 _, and `*`
// too when `patterns` allows them; else INVALID_ARGUMENT naming `where`
// (the name itself is not quoted).
absl::Status ValidateEventName(absl::string_view name, absl::string_view where, bool patterns);

// For consumer names and auth_connector keys: OK, or INVALID_ARGUMENT
// naming `where`; 1 to 64 of [A-Za-z0-9_.-] (the name is not quoted).
absl::Status ValidateConsumerName(absl::string_view name, absl::string_view where);

// Checks and normalises a portal's event bindings as the configuration or
// an admin gives them: the names upper case, each once, no patterns (a list
// is compared with event.get as it is), no ONOFFLINEEVENT (offline streams
// bind it for themselves), an auth_connector as ValidateConsumerName says.
// INVALID_ARGUMENT naming `where`.offline[i], .online[i] or .auth_connector.
absl::Status NormalizeEventBindings(absl::string_view where, EventBindingsSpec* bindings);

// Whether `event` is named by `pattern` (a name or a pattern).
bool MatchesEventPattern(absl::string_view pattern, absl::string_view event);

// The event names `patterns` stand for, upper case, each once: a plain
// name as it is (known or not), a pattern as the names of `known` it
// matches. `unmatched` (may be null) receives the patterns that match none.
std::vector<std::string> ExpandEventPatterns(const std::vector<std::string>& patterns,
                                             const std::vector<std::string>& known,
                                             std::vector<std::string>* unmatched);

}  // namespace b24gate

#endif  // B24GATE_ENGINE_EVENTS_EVENT_PATTERN_H_
