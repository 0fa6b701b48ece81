// Turns an HTTP request's query string and body into the parameter tree a
// portal method sees (docs/bitrix24-protocol.md, "Endpoints"): GET query and POST body merged, the body
// winning, PHP-style nesting for query/form/multipart, JSON bodies kept typed.
//
// Thread-safety: pure functions.
#ifndef B24EMU_REQUEST_PARAMS_H_
#define B24EMU_REQUEST_PARAMS_H_

#include <string>
#include <utility>
#include <vector>

#include <nlohmann/json.hpp>

#include "absl/status/statusor.h"

namespace b24emu {

struct HttpParamsSource {
  std::string query;         // raw, without '?'
  std::string content_type;  // header value, may be empty
  std::string body;          // raw body (unused for multipart)
  bool multipart = false;
  // multipart/form-data parts in order: (field name, content).
  std::vector<std::pair<std::string, std::string>> parts;
};

// Merges like PHP array_merge($_GET, $_POST): string keys from the body
// replace the query's, integer keys are renumbered and appended (so a JSON
// list body stays a list). The result is an object, or an array when its keys
// are exactly 0..n-1 (positional methods). An unparsable JSON body is an
// InvalidArgument error.
absl::StatusOr<nlohmann::ordered_json> ParseRequestParams(const HttpParamsSource& source);

// A top-level object whose keys are exactly "0".."n-1" in order becomes a list
// (e.g. after `auth` was taken out of a positional call).
nlohmann::ordered_json ListIfSequential(nlohmann::ordered_json obj);

// Removes and returns the top-level string parameter `name` ("" if absent).
std::string TakeStringParam(nlohmann::ordered_json& params, const std::string& name);

}  // namespace b24emu

#endif  // B24EMU_REQUEST_PARAMS_H_
