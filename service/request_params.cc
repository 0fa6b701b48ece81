#include "service/request_params.h"

#include "absl/strings/str_cat.h"
#include "absl/strings/string_view.h"
#include "service/json_value.h"

namespace b24gate {
namespace {

// nlohmann's messages open with "[json.exception.parse_error.101] "; the
// rest ("parse error at line 1, column 9: syntax error ...") is for people.
absl::string_view WithoutExceptionId(absl::string_view what) {
  if (!what.empty() && what.front() == '[') {
    size_t end = what.find("] ");
    if (end != absl::string_view::npos) what.remove_prefix(end + 2);
  }
  return what;
}

absl::Status BothGiven(const ParamsFields& fields) {
  return absl::InvalidArgumentError(absl::StrCat(fields.params, " and ", fields.params_json,
                                                 " are exclusive: give the parameters once"));
}

absl::StatusOr<nlohmann::ordered_json> FromText(const std::string& params_json,
                                                const ParamsFields& fields, bool object_only);

}  // namespace

absl::StatusOr<nlohmann::ordered_json> ParseJsonText(const std::string& text,
                                                     absl::string_view field) {
  // nlohmann reports the position only through its exception; this is the
  // one place the service catches it.
  try {
    return nlohmann::ordered_json::parse(text);
  } catch (const nlohmann::ordered_json::parse_error& e) {
    return absl::InvalidArgumentError(absl::StrCat(field, ": not valid JSON (byte ", e.byte,
                                                   "): ", WithoutExceptionId(e.what())));
  }
}

namespace {

// An unset text is an empty object, so a request without parameters is valid.
absl::StatusOr<nlohmann::ordered_json> FromText(const std::string& params_json,
                                                const ParamsFields& fields, bool object_only) {
  if (params_json.empty()) return nlohmann::ordered_json::object();
  absl::StatusOr<nlohmann::ordered_json> parsed = ParseJsonText(params_json, fields.params_json);
  if (!parsed.ok()) return parsed.status();
  if (!parsed->is_object() && (object_only || !parsed->is_array())) {
    return absl::InvalidArgumentError(
        absl::StrCat(fields.params_json, ": must be a JSON object",
                     object_only ? "" : " (or a list for positional methods)", ", got ",
                     parsed->type_name()));
  }
  return parsed;
}

}  // namespace

absl::StatusOr<nlohmann::ordered_json> ParamsOrJson(const google::protobuf::Value* params,
                                                    const std::string& params_json,
                                                    const ParamsFields& fields, bool object_only) {
  if (params != nullptr && !params_json.empty()) return BothGiven(fields);
  if (params != nullptr) return ToJson(*params);
  return FromText(params_json, fields, object_only);
}

absl::StatusOr<nlohmann::ordered_json> ParamsOrJson(const google::protobuf::Struct* params,
                                                    const std::string& params_json,
                                                    const ParamsFields& fields) {
  if (params != nullptr && !params_json.empty()) return BothGiven(fields);
  if (params != nullptr) return ToJson(*params);
  return FromText(params_json, fields, /*object_only=*/true);
}

}  // namespace b24gate
