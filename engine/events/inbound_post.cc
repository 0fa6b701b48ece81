#include "engine/events/inbound_post.h"

#include <algorithm>

#include "absl/strings/ascii.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_split.h"
#include "engine/bitrix/query_parser.h"

namespace b24gate {
namespace {

using OJson = nlohmann::ordered_json;

// Size, field count and bracket depth, before anything is decoded (the
// decoder nests as deep as the names say).
absl::Status CheckShape(absl::string_view body, const InboundPostLimits& limits) {
  if (body.size() > limits.max_bytes) {
    return absl::InvalidArgumentError(
        absl::StrCat("body: ", body.size(), " bytes, more than the ", limits.max_bytes, " accepted"));
  }
  size_t fields = 0;
  for (absl::string_view pair : absl::StrSplit(body, '&', absl::SkipEmpty())) {
    if (++fields > limits.max_fields) {
      return absl::InvalidArgumentError(
          absl::StrCat("body: more than ", limits.max_fields, " fields"));
    }
    // Brackets may be written as %5B: count both.
    const absl::string_view name = pair.substr(0, pair.find('='));
    size_t depth = std::count(name.begin(), name.end(), '[');
    for (size_t at = name.find('%'); at != absl::string_view::npos; at = name.find('%', at + 1)) {
      if (name.size() > at + 2 && name[at + 1] == '5' && (name[at + 2] == 'B' || name[at + 2] == 'b')) {
        ++depth;
      }
    }
    if (depth > limits.max_depth) {
      return absl::InvalidArgumentError(
          absl::StrCat("body: field ", fields, " nests deeper than ", limits.max_depth, " levels"));
    }
  }
  return absl::OkStatus();
}

std::string FormText(const OJson& object, const char* key) {
  if (!object.is_object()) return "";
  auto it = object.find(key);
  return it != object.end() && it->is_string() ? it->get<std::string>() : "";
}

bool ValidEventName(const std::string& name) {
  if (name.empty() || name.size() > 64) return false;
  return std::all_of(name.begin(), name.end(),
                     [](char c) { return absl::ascii_isalnum(c) || c == '_'; });
}

}  // namespace

absl::StatusOr<InboundPost> ParseInboundPost(absl::string_view body, const InboundPostLimits& limits) {
  if (absl::Status s = CheckShape(body, limits); !s.ok()) return s;
  absl::StatusOr<OJson> form = ParseQueryString(body);
  if (!form.ok()) return absl::InvalidArgumentError("body: not form encoding");
  InboundPost post;
  post.event = absl::AsciiStrToUpper(FormText(*form, "event"));
  if (!ValidEventName(post.event)) {
    return absl::InvalidArgumentError("event: missing, or not 1 to 64 of A-Z a-z 0-9 _");
  }
  post.handler_id = FormText(*form, "event_handler_id");
  post.ts = FormText(*form, "ts");
  if (form->contains("data")) {
    post.data = (*form)["data"];
    // data[] with nothing else decodes as a list; no data is an empty object.
    if (!post.data.is_object()) post.data = OJson::object();
  }
  if (form->contains("auth")) {
    if (!(*form)["auth"].is_object()) return absl::InvalidArgumentError("auth: not a set of fields");
    for (auto& [key, value] : (*form)["auth"].items()) {
      if (!value.is_string()) return absl::InvalidArgumentError("auth: a field that is not text");
    }
    post.auth = (*form)["auth"];
  }
  post.domain = FormText(post.auth, "domain");
  post.member_id = FormText(post.auth, "member_id");
  post.application_token = FormText(post.auth, "application_token");
  return post;
}

}  // namespace b24gate
