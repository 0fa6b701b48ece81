// How a read is named in the cache: its entity type (what a write
// invalidates), the rule it matches, and its parameters in a canonical text.
//
// Thread-safety: pure functions.
#ifndef B24GATE_ENGINE_CACHE_CACHE_KEY_H_
#define B24GATE_ENGINE_CACHE_CACHE_KEY_H_

#include <string>

#include <nlohmann/json.hpp>

#include "absl/strings/string_view.h"

namespace b24gate {

// The parameters as compact JSON with every object's keys sorted, so
// {"a":1,"b":2} and {"b":2,"a":1} name the same entry. The value of a key
// named `order` (any case) keeps its key order: Bitrix24 sorts by its keys in
// the order given, so {"order":{"A":"ASC","B":"DESC"}} and
// {"order":{"B":"DESC","A":"ASC"}} are different reads. Lists keep their order.
std::string CanonicalParams(const nlohmann::ordered_json& params);

// The entity type a method reads or writes: its name without the last part,
// at most two parts ("crm.deal.list" -> "crm.deal", "crm.deal.contact.add" ->
// "crm.deal", "user.get" -> "user"). A write bumps its entity type, dropping
// every cached read of that type; keeping two parts errs on the side of
// dropping too much (a change to a deal's contacts drops cached deals too).
std::string EntityOf(absl::string_view normalized_method);

// Whether `normalized_method` matches `pattern` ('*' = any characters),
// ignoring case.
bool MethodMatches(absl::string_view pattern, absl::string_view normalized_method);

}  // namespace b24gate

#endif  // B24GATE_ENGINE_CACHE_CACHE_KEY_H_
