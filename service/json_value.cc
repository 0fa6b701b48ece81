#include "service/json_value.h"

#include <cmath>
#include <cstdint>
#include <string>

namespace b24gate {
namespace {

// Integers up to 2^53 are exact in a double; beyond, a double is not a
// trustworthy integer.
constexpr double kMaxExactInteger = 9007199254740992.0;  // 2^53

nlohmann::ordered_json NumberToJson(double number) {
  if (std::isfinite(number) && std::trunc(number) == number &&
      std::fabs(number) < kMaxExactInteger) {
    return static_cast<int64_t>(number);
  }
  return number;
}

}  // namespace

nlohmann::ordered_json ToJson(const google::protobuf::Value& value) {
  switch (value.kind_case()) {
    case google::protobuf::Value::kBoolValue:
      return value.bool_value();
    case google::protobuf::Value::kNumberValue:
      return NumberToJson(value.number_value());
    case google::protobuf::Value::kStringValue:
      return value.string_value();
    case google::protobuf::Value::kStructValue:
      return ToJson(value.struct_value());
    case google::protobuf::Value::kListValue:
      return ToJson(value.list_value());
    case google::protobuf::Value::kNullValue:
    case google::protobuf::Value::KIND_NOT_SET:
    default:
      return nullptr;
  }
}

nlohmann::ordered_json ToJson(const google::protobuf::Struct& object) {
  nlohmann::ordered_json out = nlohmann::ordered_json::object();
  for (const auto& [key, value] : object.fields()) out[key] = ToJson(value);
  return out;
}

nlohmann::ordered_json ToJson(const google::protobuf::ListValue& list) {
  nlohmann::ordered_json out = nlohmann::ordered_json::array();
  for (const google::protobuf::Value& value : list.values()) {
    out.push_back(ToJson(value));
  }
  return out;
}

void ToValue(const nlohmann::ordered_json& json, google::protobuf::Value* out) {
  switch (json.type()) {
    case nlohmann::ordered_json::value_t::boolean:
      out->set_bool_value(json.get<bool>());
      break;
    case nlohmann::ordered_json::value_t::number_integer:
      out->set_number_value(static_cast<double>(json.get<int64_t>()));
      break;
    case nlohmann::ordered_json::value_t::number_unsigned:
      out->set_number_value(static_cast<double>(json.get<uint64_t>()));
      break;
    case nlohmann::ordered_json::value_t::number_float:
      out->set_number_value(json.get<double>());
      break;
    case nlohmann::ordered_json::value_t::string:
      out->set_string_value(json.get_ref<const std::string&>());
      break;
    case nlohmann::ordered_json::value_t::object: {
      auto& fields = *out->mutable_struct_value()->mutable_fields();
      for (const auto& [key, value] : json.items()) ToValue(value, &fields[key]);
      break;
    }
    case nlohmann::ordered_json::value_t::array: {
      google::protobuf::ListValue* list = out->mutable_list_value();
      for (const nlohmann::ordered_json& value : json) ToValue(value, list->add_values());
      break;
    }
    default:  // null, discarded, binary
      out->set_null_value(google::protobuf::NULL_VALUE);
      break;
  }
}

google::protobuf::Value ToValue(const nlohmann::ordered_json& json) {
  google::protobuf::Value out;
  ToValue(json, &out);
  return out;
}

google::protobuf::Struct ToStruct(const nlohmann::ordered_json& object) {
  google::protobuf::Struct out;
  if (!object.is_object()) return out;
  auto& fields = *out.mutable_fields();
  for (const auto& [key, value] : object.items()) ToValue(value, &fields[key]);
  return out;
}

google::protobuf::ListValue ToListValue(const nlohmann::ordered_json& array) {
  google::protobuf::ListValue out;
  if (!array.is_array()) return out;
  for (const nlohmann::ordered_json& value : array) ToValue(value, out.add_values());
  return out;
}

}  // namespace b24gate
