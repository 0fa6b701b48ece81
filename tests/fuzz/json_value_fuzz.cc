// Fuzzes the JSON <-> google.protobuf.Value bridge (service/json_value.h) in
// both directions, with round-trip properties.
//
// The input is read twice:
//   - as JSON text: ToJson(ToValue(json)) must equal json, numbers compared as
//     the doubles a Value holds (integers beyond 2^53 round, as documented);
//   - as a serialized google.protobuf.Value (what a gRPC caller sends):
//     ToValue(ToJson(value)) must equal value (NaN stays NaN; an unset kind
//     becomes null), and ToJson(value).dump() -- the body of a raw call --
//     must not throw (it would on invalid UTF-8, which protobuf's parser
//     refuses for proto3 strings).
#include <cmath>
#include <cstddef>
#include <cstdint>
#include <string>

#include <google/protobuf/struct.pb.h>
#include <nlohmann/json.hpp>

#include "service/json_value.h"
#include "tests/fuzz/fuzz_check.h"

namespace {

using Json = nlohmann::ordered_json;
using google::protobuf::Value;

bool SameNumber(double a, double b) { return a == b || (std::isnan(a) && std::isnan(b)); }

// JSON equality where every number is compared as a double and objects as
// unordered maps (a Struct keeps no order).
bool SameJson(const Json& a, const Json& b) {
  if (a.is_number() && b.is_number()) return SameNumber(a.get<double>(), b.get<double>());
  if (a.type() != b.type()) return false;
  if (a.is_object()) {
    if (a.size() != b.size()) return false;
    for (const auto& [key, child] : a.items()) {
      auto it = b.find(key);
      if (it == b.end() || !SameJson(child, *it)) return false;
    }
    return true;
  }
  if (a.is_array()) {
    if (a.size() != b.size()) return false;
    for (size_t i = 0; i < a.size(); ++i) {
      if (!SameJson(a[i], b[i])) return false;
    }
    return true;
  }
  return a == b;
}

bool SameValue(const Value& a, const Value& b) {
  auto kind = [](const Value& v) {
    return v.kind_case() == Value::KIND_NOT_SET ? Value::kNullValue : v.kind_case();
  };
  if (kind(a) != kind(b)) return false;
  switch (kind(a)) {
    case Value::kNumberValue:
      return SameNumber(a.number_value(), b.number_value());
    case Value::kStringValue:
      return a.string_value() == b.string_value();
    case Value::kBoolValue:
      return a.bool_value() == b.bool_value();
    case Value::kStructValue: {
      const auto& fa = a.struct_value().fields();
      const auto& fb = b.struct_value().fields();
      if (fa.size() != fb.size()) return false;
      for (const auto& [key, child] : fa) {
        auto it = fb.find(key);
        if (it == fb.end() || !SameValue(child, it->second)) return false;
      }
      return true;
    }
    case Value::kListValue: {
      const auto& la = a.list_value().values();
      const auto& lb = b.list_value().values();
      if (la.size() != lb.size()) return false;
      for (int i = 0; i < la.size(); ++i) {
        if (!SameValue(la[i], lb[i])) return false;
      }
      return true;
    }
    default:
      return true;  // null
  }
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  const std::string bytes(reinterpret_cast<const char*>(data), size);

  Json json = Json::parse(bytes, nullptr, /*allow_exceptions=*/false);
  if (!json.is_discarded()) {
    Value value = b24gate::ToValue(json);
    Json back = b24gate::ToJson(value);
    FUZZ_CHECK(SameJson(json, back), "JSON -> Value -> JSON changed " + json.dump());
    if (json.is_object()) {
      FUZZ_CHECK(SameJson(json, b24gate::ToJson(b24gate::ToStruct(json))), "Struct round trip");
    }
    if (json.is_array()) {
      FUZZ_CHECK(SameJson(json, b24gate::ToJson(b24gate::ToListValue(json))), "list round trip");
    }
  }

  Value value;
  if (value.ParseFromString(bytes)) {
    Json as_json = b24gate::ToJson(value);
    (void)as_json.dump();  // throws on invalid UTF-8: must not happen
    FUZZ_CHECK(SameValue(value, b24gate::ToValue(as_json)),
               "Value -> JSON -> Value changed " + value.ShortDebugString());
  }
  return 0;
}
