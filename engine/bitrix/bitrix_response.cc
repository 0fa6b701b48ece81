#include "engine/bitrix/bitrix_response.h"

#include <cctype>
#include <cmath>
#include <cstdint>
#include <limits>
#include <map>
#include <optional>
#include <set>
#include <string>
#include <utility>
#include <vector>

#include "absl/status/status.h"
#include "absl/strings/numbers.h"
#include "absl/strings/str_cat.h"

namespace b24gate {
namespace {

using Json = nlohmann::ordered_json;

// Enough of a body to recognise an nginx page or a PHP fatal error, short
// enough for a log line and a gRPC status message.
constexpr size_t kSnippetBytes = 120;

// Length of the valid UTF-8 sequence at body[i], or 0 (overlong forms,
// surrogates and stray continuation bytes are invalid, as for protobuf).
size_t Utf8Length(const std::string& body, size_t i) {
  unsigned char c = static_cast<unsigned char>(body[i]);
  if (c < 0x80) return 1;
  size_t len = c >= 0xF0 ? 4 : c >= 0xE0 ? 3 : 2;
  unsigned char lo = 0x80, hi = 0xBF;  // allowed range of the second byte
  if (c < 0xC2 || c > 0xF4) return 0;
  if (c == 0xE0) lo = 0xA0;
  if (c == 0xED) hi = 0x9F;
  if (c == 0xF0) lo = 0x90;
  if (c == 0xF4) hi = 0x8F;
  if (i + len > body.size()) return 0;
  for (size_t k = 1; k < len; ++k) {
    unsigned char next = static_cast<unsigned char>(body[i + k]);
    if (next < (k == 1 ? lo : 0x80) || next > (k == 1 ? hi : 0xBF)) return 0;
  }
  return len;
}

// Quotes the start of `body` with control characters folded into single
// spaces and bytes that are not UTF-8 shown as '?': the text goes into gRPC
// statuses and proto3 strings, which must be valid UTF-8.
std::string Snippet(const std::string& body) {
  if (body.empty()) return "empty body";
  std::string out;
  size_t i = 0;
  while (i < body.size() && out.size() < kSnippetBytes) {
    unsigned char c = static_cast<unsigned char>(body[i]);
    if (c < 0x20 || c == 0x7f) {
      if (!out.empty() && out.back() != ' ') out.push_back(' ');
      ++i;
      continue;
    }
    size_t len = Utf8Length(body, i);
    if (len == 0) {
      out.push_back('?');
      ++i;
    } else {
      out.append(body, i, len);
      i += len;
    }
  }
  return absl::StrCat("body \"", out, i < body.size() ? "...\"" : "\"");
}

absl::Status Unreadable(const HttpResponse& response, absl::string_view why) {
  return absl::UnavailableError(
      absl::StrCat("unreadable Bitrix24 answer (HTTP ", response.status,
                   "): ", why, "; ", Snippet(response.body)));
}

// Returns the body as a JSON object, or UnavailableError.
absl::StatusOr<Json> ParseBody(const HttpResponse& response) {
  if (response.failure != TransportFailure::kNone) {
    return absl::UnavailableError(absl::StrCat(
        "transport failure ",
        response.failure == TransportFailure::kNotSent ? "before sending"
                                                       : "after sending",
        ": ", response.failure_message));
  }
  Json body = Json::parse(response.body, /*cb=*/nullptr,
                          /*allow_exceptions=*/false);
  if (body.is_discarded()) return Unreadable(response, "not JSON");
  if (!body.is_object()) return Unreadable(response, "JSON is not an object");
  return body;
}

std::string TextOf(const Json& value) {
  if (value.is_string()) return value.get<std::string>();
  if (value.is_null()) return "";
  return value.dump();
}

// An {"error": ..., "error_description": ...} object.
B24Error ErrorFromObject(const Json& object, int http_status) {
  B24Error error;
  error.http_status = http_status;
  if (auto it = object.find("error"); it != object.end()) {
    error.code = TextOf(*it);
  }
  if (auto it = object.find("error_description"); it != object.end()) {
    error.description = TextOf(*it);
  }
  return error;
}

// A result_error entry: an error object, or a bare string that is taken as
// the code when it looks like one (QUERY_LIMIT_EXCEEDED) and as the
// description otherwise ("Not found").
B24Error ErrorFromEntry(const Json& entry, int http_status) {
  if (entry.is_object()) return ErrorFromObject(entry, http_status);
  B24Error error;
  error.http_status = http_status;
  std::string text = TextOf(entry);
  bool looks_like_code = !text.empty();
  for (char c : text) {
    if (!(std::isalnum(static_cast<unsigned char>(c)) || c == '_')) {
      looks_like_code = false;
    }
  }
  (looks_like_code ? error.code : error.description) = text;
  return error;
}

// `total` and `next` arrive as numbers or as numeric strings.
std::optional<int64_t> CountOf(const Json* value) {
  if (value == nullptr) return std::nullopt;
  if (value->is_number_integer()) {
    if (value->is_number_unsigned() &&
        value->get<uint64_t>() >
            static_cast<uint64_t>(std::numeric_limits<int64_t>::max())) {
      return std::nullopt;
    }
    return value->get<int64_t>();
  }
  if (value->is_number_float()) {
    double d = value->get<double>();
    if (std::trunc(d) == d && std::fabs(d) < 9.2e18) {
      return static_cast<int64_t>(d);
    }
    return std::nullopt;
  }
  int64_t parsed = 0;
  if (value->is_string() &&
      absl::SimpleAtoi(value->get_ref<const std::string&>(), &parsed)) {
    return parsed;
  }
  return std::nullopt;
}

// An "error" member makes the answer an error, even with code "" -- unless
// it is null next to a "result".
bool IsError(const Json& body) {
  auto error = body.find("error");
  return error != body.end() && (!error->is_null() || !body.contains("result"));
}

const Json* Member(const Json& object, const char* name) {
  auto it = object.find(name);
  return it == object.end() ? nullptr : &*it;
}

CallReply ReplyOf(const Json& result, const Json* total, const Json* next,
                  const Json* time) {
  CallReply reply;
  reply.result = result;
  reply.total = CountOf(total);
  reply.next = CountOf(next);
  if (time != nullptr && time->is_object()) reply.time = *time;
  return reply;
}

// The entries of one inner batch map, tied to command keys where possible.
struct Attributed {
  std::map<std::string, const Json*> by_key;
  std::vector<const Json*> unattributed;

  const Json* Find(const std::string& key) const {
    auto it = by_key.find(key);
    return it == by_key.end() ? nullptr : it->second;
  }
};

// Ties the entries of `map` to keys. An object is read by name (members
// naming no command are unattributed). A list is read by name when each
// index names a command in `usable` (PHP wrote a 0..n-1 map as a list);
// otherwise positionally onto `positional` when the lengths match.
Attributed Attribute(const Json* map, const std::set<std::string>& usable,
                     const std::vector<std::string>& positional) {
  Attributed out;
  if (map == nullptr) return out;
  if (map->is_object()) {
    for (const auto& [name, entry] : map->items()) {
      if (usable.count(name) > 0) {
        out.by_key[name] = &entry;
      } else {
        out.unattributed.push_back(&entry);
      }
    }
    return out;
  }
  if (!map->is_array()) return out;
  bool by_name = true;
  for (size_t i = 0; i < map->size() && by_name; ++i) {
    by_name = usable.count(std::to_string(i)) > 0;
  }
  if (by_name) {
    for (size_t i = 0; i < map->size(); ++i) {
      out.by_key[std::to_string(i)] = &(*map)[i];
    }
  } else if (map->size() == positional.size()) {
    for (size_t i = 0; i < map->size(); ++i) {
      out.by_key[positional[i]] = &(*map)[i];
    }
  } else {
    for (const Json& entry : *map) out.unattributed.push_back(&entry);
  }
  return out;
}

// result_error as a list that named no key: with halt=1 execution stops at
// the first failure, so a single error belongs to the first command without
// a result when no later command has one.
void AttributeHaltedError(const std::vector<std::string>& keys,
                          const Attributed& results, Attributed* errors) {
  if (errors->unattributed.size() != 1 || !errors->by_key.empty() ||
      !results.unattributed.empty()) {
    return;
  }
  size_t first_missing = 0;
  while (first_missing < keys.size() &&
         results.Find(keys[first_missing]) != nullptr) {
    ++first_missing;
  }
  if (first_missing == keys.size()) return;
  for (size_t i = first_missing + 1; i < keys.size(); ++i) {
    if (results.Find(keys[i]) != nullptr) return;
  }
  errors->by_key[keys[first_missing]] = errors->unattributed.front();
  errors->unattributed.clear();
}

}  // namespace

absl::StatusOr<CommandOutcome> ParseCallResponse(const HttpResponse& response) {
  absl::StatusOr<Json> body = ParseBody(response);
  if (!body.ok()) return body.status();
  CommandOutcome outcome;
  if (IsError(*body)) {
    outcome.error = ErrorFromObject(*body, response.status);
    return outcome;
  }
  const Json* result = Member(*body, "result");
  if (result == nullptr) {
    return Unreadable(response, "neither \"result\" nor \"error\"");
  }
  outcome.reply = ReplyOf(*result, Member(*body, "total"),
                          Member(*body, "next"), Member(*body, "time"));
  return outcome;
}

absl::StatusOr<BatchReply> ParseBatchResponse(
    const HttpResponse& response, const std::vector<std::string>& keys) {
  absl::StatusOr<Json> body = ParseBody(response);
  if (!body.ok()) return body.status();
  BatchReply reply;
  if (const Json* time = Member(*body, "time"); time && time->is_object()) {
    reply.time = *time;
  }
  if (IsError(*body)) {
    reply.batch_error = ErrorFromObject(*body, response.status);
    return reply;
  }
  const Json* inner = Member(*body, "result");
  if (inner == nullptr || !inner->is_object() || !inner->contains("result")) {
    return Unreadable(response, "not a batch answer");
  }

  const std::set<std::string> all(keys.begin(), keys.end());
  Attributed results = Attribute(Member(*inner, "result"), all, keys);
  Attributed totals = Attribute(Member(*inner, "result_total"), all, keys);
  Attributed nexts = Attribute(Member(*inner, "result_next"), all, keys);
  Attributed times = Attribute(Member(*inner, "result_time"), all, keys);

  // Errors can only belong to commands without a result. Positional reading
  // needs the results themselves to be fully attributed.
  std::set<std::string> failed;
  std::vector<std::string> failed_in_order;
  for (const std::string& key : keys) {
    if (results.Find(key) == nullptr && failed.insert(key).second) {
      failed_in_order.push_back(key);
    }
  }
  if (!results.unattributed.empty()) failed_in_order.clear();
  Attributed errors =
      Attribute(Member(*inner, "result_error"), failed, failed_in_order);
  AttributeHaltedError(keys, results, &errors);

  for (const Json* entry : errors.unattributed) {
    reply.unattributed_errors.push_back(
        ErrorFromEntry(*entry, response.status));
  }
  for (const std::string& key : keys) {
    CommandOutcome outcome;
    if (const Json* error = errors.Find(key)) {
      outcome.error = ErrorFromEntry(*error, response.status);
    } else if (const Json* result = results.Find(key)) {
      outcome.reply =
          ReplyOf(*result, totals.Find(key), nexts.Find(key), times.Find(key));
    } else {
      continue;  // not executed, or not attributable
    }
    reply.outcomes[key] = std::move(outcome);
  }
  return reply;
}

}  // namespace b24gate
