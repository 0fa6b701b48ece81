// The limits every request is checked against before anything is sent, and
// the checks of a parameter tree: nesting depth, size, string length, text
// that is not UTF-8 or holds a NUL byte, and numbers JSON cannot carry
// exactly. Each refusal is INVALID_ARGUMENT naming the path of the field
// (`params.FIELDS.TITLE`, `commands[2].params.filter`, `bulk_params[7].id`)
// and the config key of the limit, so a caller can tell what to change.
//
// The same checks apply to parameters given as a Struct and as JSON text,
// to bulk parameter sets, batch commands (also those written as
// "method?query"), GetById and GetAll.
//
// Thread-safety: pure functions.
#ifndef B24GATE_ENGINE_GATEWAY_INPUT_LIMITS_H_
#define B24GATE_ENGINE_GATEWAY_INPUT_LIMITS_H_

#include <cstddef>
#include <string>

#include <nlohmann/json.hpp>

#include "absl/status/status.h"
#include "absl/strings/string_view.h"

namespace b24gate {

// The config file's `limits` section; the comments name each key.
struct InputLimits {
  // max_depth: deepest nesting of a parameter set (the outermost object or
  // list is level 1). Bitrix24's deepest parameters (filters with logic
  // groups) stay below 10.
  int max_depth = 32;
  // max_params_bytes: largest parameter set, measured as compact JSON.
  size_t max_params_bytes = 2 * 1024 * 1024;
  // max_string_bytes: longest string value or key.
  size_t max_string_bytes = 1024 * 1024;
  // max_bulk_items: most parameter sets of one unary bulk Call (its answer
  // must fit in one message; CallMany streams). Also the old top-level key.
  size_t max_bulk_items = 1000;
  // max_call_many_items: most parameter sets of one CallMany.
  size_t max_call_many_items = 100000;
  // max_ids: most ids of one GetById.
  size_t max_ids = 10000;
  // max_batch_commands: most commands of one CallBatch.
  size_t max_batch_commands = 1000;
  // max_request_bytes: largest request message (checked as it is decoded,
  // see service/wire/request_decoder.h; gRPC's receive limit sits above it).
  size_t max_request_bytes = 4 * 1024 * 1024;
};

// Checks one parameter tree, whose path starts with `where` ("params",
// "commands[2].params"): OK or INVALID_ARGUMENT naming the path.
absl::Status CheckParams(const nlohmann::ordered_json& params, const std::string& where,
                         const InputLimits& limits);

// INVALID_ARGUMENT when `count` items of `field` exceed `limit` (config key
// `limits.<key>`); `advice` says what to do instead.
absl::Status CheckCount(size_t count, size_t limit, absl::string_view field, absl::string_view what,
                        absl::string_view key, absl::string_view advice);

// Integers beyond this are not exact in a JSON number as most readers
// (JavaScript, PHP floats, protobuf's Value) take it.
inline constexpr uint64_t kMaxExactJsonInteger = uint64_t{1} << 53;

}  // namespace b24gate

#endif  // B24GATE_ENGINE_GATEWAY_INPUT_LIMITS_H_
