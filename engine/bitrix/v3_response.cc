#include "engine/bitrix/v3_response.h"

#include <string>
#include <utility>

namespace b24gate {
namespace {

using Json = nlohmann::ordered_json;

std::string Text(const Json& object, const char* name) {
  auto it = object.find(name);
  if (it == object.end() || it->is_null()) return "";
  return it->is_string() ? it->get<std::string>() : it->dump();
}

}  // namespace

absl::StatusOr<CommandOutcome> ParseV3CallResponse(const HttpResponse& response) {
  absl::StatusOr<CommandOutcome> outcome = ParseCallResponse(response);
  if (!outcome.ok() || !outcome->error) return outcome;
  // An error: ParseCallResponse read the body already, so it is JSON.
  absl::StatusOr<Json> body = ReadAnswerJson(response.body);
  if (!body.ok()) return outcome;
  const Json& error = (*body)["error"];
  if (!error.is_object()) return outcome;  // the classic flat shape
  B24Error e;
  e.http_status = response.status;
  e.code = Text(error, "code");
  e.description = Text(error, "message");
  if (auto it = error.find("validation"); it != error.end() && it->is_array()) {
    for (const Json& v : *it) {
      if (v.is_object()) e.violations.push_back({Text(v, "field"), Text(v, "message")});
    }
  }
  outcome->error = std::move(e);
  return outcome;
}

}  // namespace b24gate
