#include "engine/bitrix/v3_response.h"

#include <string>
#include <utility>

#include "absl/strings/str_cat.h"
#include "engine/common/errors.h"

namespace b24gate {
namespace {

using Json = nlohmann::ordered_json;

std::string Text(const Json& object, const char* name) {
  auto it = object.find(name);
  if (it == object.end() || it->is_null()) return "";
  return it->is_string() ? it->get<std::string>() : it->dump();
}

// A success that is a bare OpenAPI document (rest.documentation.openapi
// answers one, not wrapped in `result`) becomes the result as a whole;
// anything else keeps `unreadable`, the classic reading's verdict.
absl::StatusOr<CommandOutcome> BareDocument(const HttpResponse& response,
                                            absl::Status unreadable) {
  if (response.failure != TransportFailure::kNone || response.status < 200 ||
      response.status >= 300) {
    return unreadable;
  }
  absl::StatusOr<Json> body = ReadAnswerJson(response.body);
  if (!body.ok() || !body->is_object() || !body->contains("openapi") ||
      body->contains("result") || body->contains("error")) {
    return unreadable;
  }
  CommandOutcome outcome;
  outcome.reply.emplace();
  outcome.reply->result = std::move(*body);
  return outcome;
}

}  // namespace

absl::StatusOr<CommandOutcome> ParseV3CallResponse(const HttpResponse& response) {
  absl::StatusOr<CommandOutcome> outcome = ParseCallResponse(response);
  if (!outcome.ok()) return BareDocument(response, outcome.status());
  if (!outcome->error) return outcome;
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

absl::StatusOr<BatchReply> ParseV3BatchResponse(const HttpResponse& response,
                                                const std::vector<std::string>& keys) {
  absl::StatusOr<CommandOutcome> outcome = ParseV3CallResponse(response);
  if (!outcome.ok()) return outcome.status();
  BatchReply reply;
  if (outcome->error) {
    reply.batch_error = std::move(outcome->error);
    return reply;
  }
  reply.time = outcome->reply->time;
  const Json& results = outcome->reply->result;
  if (!results.is_array() || results.size() != keys.size()) {
    return GatewayError(
        absl::StatusCode::kUnavailable, kReasonBadResponse,
        absl::StrCat("unreadable REST 3.0 batch answer: \"result\" is not a list of ",
                     keys.size(), " results"));
  }
  for (size_t i = 0; i < keys.size(); ++i) {
    CallReply command;
    command.result = results[i];
    command.time = reply.time;
    reply.outcomes[keys[i]].reply = std::move(command);
  }
  return reply;
}

}  // namespace b24gate
