#include "tests/emulator/request_params.h"

#include "absl/strings/ascii.h"
#include "absl/strings/match.h"
#include "absl/strings/str_cat.h"
#include "tests/emulator/query_parser.h"

namespace b24emu {
namespace {

using OJson = nlohmann::ordered_json;

// array_merge into `out` (an object with string keys; integer keys are kept
// as their decimal text) tracking the next integer key.
void MergeInto(OJson& out, int64_t& next_index, const OJson& in) {
  if (in.is_array()) {
    for (const OJson& v : in) out[std::to_string(next_index++)] = v;
    return;
  }
  if (!in.is_object()) return;
  for (auto it = in.begin(); it != in.end(); ++it) {
    if (IsPhpIntegerKey(it.key())) {
      out[std::to_string(next_index++)] = it.value();
    } else {
      out[it.key()] = it.value();
    }
  }
}

}  // namespace

nlohmann::ordered_json ListIfSequential(nlohmann::ordered_json obj) {
  if (!obj.is_object()) return obj;
  if (obj.empty()) return obj;
  size_t i = 0;
  for (auto it = obj.begin(); it != obj.end(); ++it, ++i) {
    if (it.key() != std::to_string(i)) return obj;
  }
  OJson arr = OJson::array();
  for (auto& [k, v] : obj.items()) arr.push_back(std::move(v));
  return arr;
}

absl::StatusOr<nlohmann::ordered_json> ParseRequestParams(const HttpParamsSource& source) {
  OJson body = OJson::object();
  const std::string type = absl::AsciiStrToLower(source.content_type);
  if (source.multipart) {
    PhpParamsBuilder builder;
    for (const auto& [name, value] : source.parts) builder.Add(name, value);
    body = builder.Build();
  } else if (absl::StrContains(type, "json")) {
    if (!source.body.empty()) {
      body = OJson::parse(source.body, nullptr, /*allow_exceptions=*/false);
      if (body.is_discarded()) return absl::InvalidArgumentError("Invalid JSON body");
      if (!body.is_object() && !body.is_array()) {
        return absl::InvalidArgumentError("JSON body must be an object or a list");
      }
    }
  } else if (!source.body.empty()) {
    // x-www-form-urlencoded, or no/unknown content type: PHP reads it as a form.
    body = ParsePhpQuery(source.body);
  }
  if (source.query.empty()) return body;

  OJson merged = OJson::object();
  int64_t next_index = 0;
  MergeInto(merged, next_index, ParsePhpQuery(source.query));
  MergeInto(merged, next_index, body);
  return ListIfSequential(std::move(merged));
}

std::string TakeStringParam(nlohmann::ordered_json& params, const std::string& name) {
  if (!params.is_object()) return "";
  auto it = params.find(name);
  if (it == params.end()) return "";
  std::string value = it->is_string() ? it->get<std::string>() : "";
  params.erase(it);
  return value;
}

}  // namespace b24emu
