// Reads a request's parameters, which callers give one of two ways: as a
// protobuf Value/Struct (`params`), which reads like the Bitrix24 docs, or as
// JSON text (`params_json`), which keeps key order. Bitrix24 gives key order
// meaning (the priority of a multi-field `order`), and a Struct is a map
// that loses it; the text is parsed with nlohmann::ordered_json, so the keys
// reach the portal in the caller's order.
//
// Thread-safety: pure functions.
#ifndef B24GATE_SERVICE_REQUEST_PARAMS_H_
#define B24GATE_SERVICE_REQUEST_PARAMS_H_

#include <string>

#include <google/protobuf/struct.pb.h>

#include <nlohmann/json.hpp>

#include "absl/status/statusor.h"
#include "absl/strings/string_view.h"
#include "engine/gateway/input_limits.h"

namespace b24gate {

// The JSON in `text`; INVALID_ARGUMENT naming `field` and the line, column
// and byte where parsing failed, or the path where the text nests deeper than
// `max_depth` levels. Depth is checked while reading (a SAX pass that keeps
// one frame per open level and stops at the limit), so the tree of a hostile
// 100,000-level text is never built.
absl::StatusOr<nlohmann::ordered_json> ParseJsonText(const std::string& text,
                                                     absl::string_view field,
                                                     int max_depth = InputLimits().max_depth);

// Names of the two exclusive fields, for error messages, and the depth limit
// of the text.
struct ParamsFields {
  std::string params = "params";
  std::string params_json = "params_json";
  int max_depth = InputLimits().max_depth;
};

// `params` (null when unset) or the parsed `params_json` ("" when unset);
// an empty object when neither is set. INVALID_ARGUMENT when both are set,
// when the text is not JSON, or when it is not an object and
// `object_only` (lists are allowed otherwise, for positional methods).
absl::StatusOr<nlohmann::ordered_json> ParamsOrJson(const google::protobuf::Value* params,
                                                    const std::string& params_json,
                                                    const ParamsFields& fields = {},
                                                    bool object_only = false);
absl::StatusOr<nlohmann::ordered_json> ParamsOrJson(const google::protobuf::Struct* params,
                                                    const std::string& params_json,
                                                    const ParamsFields& fields = {});

}  // namespace b24gate

#endif  // B24GATE_SERVICE_REQUEST_PARAMS_H_
