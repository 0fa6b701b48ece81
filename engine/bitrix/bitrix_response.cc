#include "engine/bitrix/bitrix_response.h"

#include <cctype>
#include <cmath>
#include <cstdint>
#include <map>
#include <optional>
#include <set>
#include <string>
#include <utility>
#include <vector>

#include "absl/status/status.h"
#include "absl/strings/numbers.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/string_view.h"
#include "engine/common/errors.h"

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

// The start of `text` (about `max` bytes, then "...") with control
// characters folded into single spaces and bytes that are not UTF-8 shown as
// '?': the text goes into gRPC statuses and proto3 strings, which must be
// valid UTF-8, and into logs.
std::string Printable(const std::string& text, size_t max) {
  std::string out;
  size_t i = 0;
  while (i < text.size() && out.size() < max) {
    unsigned char c = static_cast<unsigned char>(text[i]);
    if (c < 0x20 || c == 0x7f) {
      if (!out.empty() && out.back() != ' ') out.push_back(' ');
      ++i;
      continue;
    }
    size_t len = Utf8Length(text, i);
    if (len == 0) {
      out.push_back('?');
      ++i;
    } else {
      out.append(text, i, len);
      i += len;
    }
  }
  if (i < text.size()) out.append("...");
  return out;
}

// Quotes the start of `body` (see Printable).
std::string Snippet(const std::string& body) {
  if (body.empty()) return "empty body";
  return absl::StrCat("body \"", Printable(body, kSnippetBytes), "\"");
}

// The code of a 4xx refusal that is not Bitrix24's: the web server or a
// proxy in front of the REST API turned the request away unread (414 URI too
// long, 413, 400, an nginx 404 ...). Timeouts and rate limits pass; the rest
// will not change by sending the same request again.
absl::StatusCode CodeOfRefusal(int http_status) {
  switch (http_status) {
    case 401: return absl::StatusCode::kUnauthenticated;
    case 403: return absl::StatusCode::kPermissionDenied;
    case 404: return absl::StatusCode::kNotFound;
    case 408:
    case 429: return absl::StatusCode::kUnavailable;
    default: return absl::StatusCode::kInvalidArgument;
  }
}

// An answer that is not Bitrix24's. Under a 4xx status it proves the request
// was not run (Bitrix24 itself answers errors as JSON with "error"), so it is
// NOT_EXECUTED, not BAD_RESPONSE: a write refused so is safe to repeat.
absl::Status Unreadable(const HttpResponse& response, absl::string_view why) {
  const bool refused = response.status >= 400 && response.status < 500;
  return GatewayError(
      refused ? CodeOfRefusal(response.status) : absl::StatusCode::kUnavailable,
      refused ? kReasonNotExecuted : kReasonBadResponse,
      absl::StrCat(refused ? "the portal refused the request without running it (HTTP "
                           : "unreadable Bitrix24 answer (HTTP ",
                   response.status, "): ", why, "; ", Snippet(response.body)));
}

absl::Status TransportFailed(const HttpResponse& response) {
  // An answer cut short or too large did arrive: the portal ran the
  // request, and what it said is lost.
  const bool bad_answer = response.failure == TransportFailure::kBadAnswer;
  return GatewayError(
      absl::StatusCode::kUnavailable, bad_answer ? kReasonBadResponse : kReasonTransport,
      absl::StrCat(bad_answer ? "unreadable Bitrix24 answer: "
                   : response.failure == TransportFailure::kNotSent ? "transport failure before sending: "
                                                                    : "transport failure after sending: ",
                   response.failure_message));
}

// Returns the body as a JSON object, or UNAVAILABLE.
absl::StatusOr<Json> ParseBody(const HttpResponse& response) {
  if (response.failure != TransportFailure::kNone) return TransportFailed(response);
  absl::StatusOr<Json> body = ReadAnswerJson(response.body);
  if (!body.ok()) return Unreadable(response, body.status().message());
  if (!body->is_object()) return Unreadable(response, "JSON is not an object");
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

// `total` and `next` arrive as numbers or as numeric strings. Absent or null:
// no count. Anything else that is not a whole number in 64 bits is refused,
// not dropped: a caller paging by it would stop early or loop.
absl::Status CountOf(const Json* value, absl::string_view name, std::optional<int64_t>* count) {
  if (value == nullptr || value->is_null()) return absl::OkStatus();
  int64_t parsed = 0;
  if (value->is_number_integer()) {
    // Beyond 2^53 integers are text already (ReadAnswerJson).
    *count = value->get<int64_t>();
    return absl::OkStatus();
  }
  if (value->is_number_float()) {
    double d = value->get<double>();
    if (std::trunc(d) == d && std::fabs(d) < 9.2e18) {
      *count = static_cast<int64_t>(d);
      return absl::OkStatus();
    }
  } else if (value->is_string() &&
             absl::SimpleAtoi(value->get_ref<const std::string&>(), &parsed)) {
    *count = parsed;
    return absl::OkStatus();
  }
  // Printable: a string's DEL and a cut inside a character would make the
  // status unfit for logs and gRPC.
  const std::string text = Printable(value->dump(), 40);
  return GatewayError(absl::StatusCode::kUnavailable, kReasonBadResponse,
                      absl::StrCat("unreadable Bitrix24 answer: \"", name, "\" is ", text,
                                   ", not a whole number of 64 bits"));
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

// `result` and `time` are moved out of the parsed answer, which is not read
// after: a list batch's rows (and its 50 pages' time objects) are not copied
// on their way to the caller.
absl::StatusOr<CallReply> ReplyOf(const Json* result, const Json* total, const Json* next,
                                  const Json* time) {
  CallReply reply;
  if (absl::Status s = CountOf(total, "total", &reply.total); !s.ok()) return s;
  if (absl::Status s = CountOf(next, "next", &reply.next); !s.ok()) return s;
  reply.result = std::move(*const_cast<Json*>(result));
  if (time != nullptr && time->is_object()) reply.time = std::move(*const_cast<Json*>(time));
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
  absl::StatusOr<CallReply> reply =
      ReplyOf(result, Member(*body, "total"), Member(*body, "next"), Member(*body, "time"));
  if (!reply.ok()) return reply.status();
  outcome.reply = std::move(*reply);
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
    if (reply.outcomes.count(key) > 0) continue;  // a key named twice: its result is moved
    CommandOutcome outcome;
    if (const Json* error = errors.Find(key)) {
      outcome.error = ErrorFromEntry(*error, response.status);
    } else if (const Json* result = results.Find(key)) {
      // A count that cannot be read fails the whole answer: attributing it
      // to one command of a batch would be a guess too.
      absl::StatusOr<CallReply> command_reply =
          ReplyOf(result, totals.Find(key), nexts.Find(key), times.Find(key));
      if (!command_reply.ok()) return command_reply.status();
      outcome.reply = std::move(*command_reply);
    } else {
      continue;  // not executed, or not attributable
    }
    reply.outcomes[key] = std::move(outcome);
  }
  return reply;
}

}  // namespace b24gate
