// Conversions between protobuf's JSON-shaped messages (google.protobuf.Value,
// Struct, ListValue) and nlohmann::ordered_json.
//
// The gRPC API carries parameters and results as Struct/Value so that
// requests read like the Bitrix24 documentation; the engine works on
// nlohmann::ordered_json. These functions are the whole bridge for Values;
// parameters given as JSON text are read by request_params.h.
//
// Numbers: a protobuf Value holds every number as a double.
//   - Value -> JSON: a finite integral double with |x| < 2^53 becomes a JSON
//     integer (so an id 410 is sent as "410", not "410.0"); any other double
//     stays a float (NaN and infinities too, which nlohmann::ordered_json prints as
//     null).
//   - JSON -> Value: integers become doubles. Integers beyond 2^53 lose
//     precision, as they would in any JSON-in-protobuf API; Bitrix24 sends
//     its large ids as strings, which pass through untouched.
//
// Thread-safety: pure functions on values; safe from any thread.
#ifndef B24GATE_SERVICE_JSON_VALUE_H_
#define B24GATE_SERVICE_JSON_VALUE_H_

#include <google/protobuf/struct.pb.h>

#include <nlohmann/json.hpp>

namespace b24gate {

nlohmann::ordered_json ToJson(const google::protobuf::Value& value);
nlohmann::ordered_json ToJson(const google::protobuf::Struct& object);
nlohmann::ordered_json ToJson(const google::protobuf::ListValue& list);

// JSON null, bools, numbers, strings, arrays and objects map onto the
// matching Value kinds; a discarded or binary json becomes null.
google::protobuf::Value ToValue(const nlohmann::ordered_json& json);
// The same, written into `out` (a message's new field): no Value, Struct or
// ListValue is built and then moved, level by level. REQUIRES: `out` empty.
void ToValue(const nlohmann::ordered_json& json, google::protobuf::Value* out);

// Returns the Struct for a JSON object, and an empty Struct for anything
// else (callers check is_object() first when the difference matters).
google::protobuf::Struct ToStruct(const nlohmann::ordered_json& object);

// Returns the ListValue for a JSON array, and an empty one for anything else.
google::protobuf::ListValue ToListValue(const nlohmann::ordered_json& array);

}  // namespace b24gate

#endif  // B24GATE_SERVICE_JSON_VALUE_H_
