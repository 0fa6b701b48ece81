// Parsing of Bitrix24 REST answers into engine values.
//
// One HTTP answer of a plain call becomes a CommandOutcome (a reply or a
// Bitrix24 error); one answer of `batch` becomes a BatchReply (a whole-batch
// error, or an outcome per command key). The parsers absorb the server's
// quirks so the rest of the engine never sees them:
//   - any JSON body with an "error" member is an error, whatever the HTTP
//     status (200 included) and even when the code is "" (old CRM methods);
//   - `total`/`next` may be numbers or numeric strings;
//   - PHP's json_encode writes empty maps as `[]` and maps keyed 0..n-1 as
//     lists, so each batch map may be an object or a list (see
//     ParseBatchResponse for how list entries are attributed to keys);
//   - non-JSON pages (proxies, 60 s cut-offs), JSON of an unknown shape,
//     answers nested deeper than kMaxAnswerDepth and counts that are not
//     64-bit whole numbers are reported as UNAVAILABLE with reason
//     BAD_RESPONSE, carrying the HTTP status and a short sanitized snippet of
//     the body; the caller decides whether to retry;
//   - integers beyond 2^53 are kept as their exact decimal text (a string):
//     results travel on as protobuf Values, whose numbers are doubles.
//
// Thread-safety: pure functions on values; safe from any thread.
#ifndef B24GATE_ENGINE_BITRIX_BITRIX_RESPONSE_H_
#define B24GATE_ENGINE_BITRIX_BITRIX_RESPONSE_H_

#include <cstdint>
#include <map>
#include <nlohmann/json.hpp>
#include <optional>
#include <string>
#include <vector>

#include "absl/status/statusor.h"
#include "engine/bitrix/answer_json.h"
#include "engine/common/errors.h"
#include "engine/http/http_transport.h"

namespace b24gate {

// An error reported by Bitrix24 itself (as opposed to a transport failure).
struct B24Error {
  std::string code;  // e.g. "QUERY_LIMIT_EXCEEDED"; "" for old CRM methods
  std::string description;  // error_description, possibly empty
  int http_status = 0;      // status of the HTTP answer that carried it
  // REST 3.0: the fields the portal named in `validation`.
  std::vector<FieldViolation> violations;
};

// The successful answer of one method call.
struct CallReply {
  nlohmann::ordered_json result;
  std::optional<int64_t> total;  // list methods only
  std::optional<int64_t> next;   // only when more items remain
  nlohmann::ordered_json time;           // the "time" object, or null when absent
};

// Exactly one of `reply` and `error` is set.
struct CommandOutcome {
  std::optional<CallReply> reply;
  std::optional<B24Error> error;
};

// The answer of one `batch` request.
struct BatchReply {
  // Set when the whole batch failed (auth, rate limit, ...); then `outcomes`
  // is empty.
  std::optional<B24Error> batch_error;
  // One entry per command key that appears in the answer. Commands that were
  // not executed (after a failure with halt=1), or whose entries could not be
  // attributed to a key, are absent.
  std::map<std::string, CommandOutcome> outcomes;
  // Errors listed in `result_error` that could not be tied to a command key
  // (the server sent the map as a list and the keys were ambiguous).
  std::vector<B24Error> unattributed_errors;
  nlohmann::ordered_json time;  // top-level "time" object, or null
};

// Parses the answer of one method call.
// Returns UNAVAILABLE when the transport failed (reason TRANSPORT_ERROR, or
// BAD_RESPONSE for an answer cut short or too large; the message is the
// transport's, which never holds the URL) or when the body is not a JSON
// object with "result" or "error" (reason BAD_RESPONSE; the message names the
// HTTP status and quotes at most ~120 sanitized characters of the body).
absl::StatusOr<CommandOutcome> ParseCallResponse(const HttpResponse& response);

// Parses the answer of a `batch` request whose commands were sent under
// `keys`, in this order. Each inner map (result, result_error, result_total,
// result_next, result_time) may be an object or a list. A list entry at
// index i belongs to:
//   - the key named "i", when every index of the list names one of `keys`
//     (PHP only writes a map as a list when its keys are 0..n-1);
//   - otherwise, for result/result_total/result_next/result_time, the i-th
//     key, but only if the list has exactly one entry per key;
//   - otherwise, for result_error, the i-th key among the keys without a
//     result, but only if the counts match, or if the list holds one error
//     and the keys with a result are exactly those before the first key
//     without one (execution stopped there: halt=1).
// Other list entries are left unattributed. Errors as for ParseCallResponse.
absl::StatusOr<BatchReply> ParseBatchResponse(
    const HttpResponse& response, const std::vector<std::string>& keys);

}  // namespace b24gate

#endif  // B24GATE_ENGINE_BITRIX_BITRIX_RESPONSE_H_
