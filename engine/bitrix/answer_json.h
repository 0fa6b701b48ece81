// Reading the JSON text of a portal's answer (or its OAuth server's) into a
// tree, safely and fast.
//
// Thread-safety: pure functions; safe from any thread.
#ifndef B24GATE_ENGINE_BITRIX_ANSWER_JSON_H_
#define B24GATE_ENGINE_BITRIX_ANSWER_JSON_H_

#include <nlohmann/json.hpp>
#include <string>

#include "absl/status/statusor.h"

namespace b24gate {

// The deepest answer read, counting the body's object as level 1. Bitrix24's
// answers stay below 10 levels. The bound matters downstream: a result is
// sent on as a google.protobuf.Value, where each JSON object level costs
// three nested messages (Value, Struct, map entry), and protobuf readers
// (C++, Python, Java) refuse messages nested deeper than 100 by default; a
// result at most 31 levels deep (32 minus the envelope) fits with the
// response around it.
inline constexpr int kMaxAnswerDepth = 32;

// Reads JSON text from a portal (or its OAuth server) without recursion:
// UNAVAILABLE with reason BAD_RESPONSE when it is not JSON or nests deeper
// than kMaxAnswerDepth. Integers beyond 2^53 become their decimal text.
// A name repeated in an object keeps its first place and its last value
// (as nlohmann's own parser does).
absl::StatusOr<nlohmann::ordered_json> ReadAnswerJson(const std::string& text);

}  // namespace b24gate

#endif  // B24GATE_ENGINE_BITRIX_ANSWER_JSON_H_
