// One method with many parameter sets: the bulk form of Call (collected into
// one reply) and CallMany (streamed). Both run as an OrderedFanout through the
// portal's queue, where the calls are packed into `batch` requests.
//
// Thread-safety: pure functions.
#ifndef B24GATE_ENGINE_GATEWAY_BULK_CALL_H_
#define B24GATE_ENGINE_GATEWAY_BULK_CALL_H_

#include <cstddef>
#include <string>
#include <vector>

#include <nlohmann/json.hpp>

#include "absl/status/status.h"
#include "engine/cache/cache_options.h"
#include "engine/gateway/input_limits.h"
#include "engine/lists/ordered_fanout.h"

namespace b24gate {

struct BulkSpec {
  std::string portal;  // "" = the default portal
  std::string method;
  // One element per call; results come back in this order.
  std::vector<nlohmann::ordered_json> params;
  // The request field the parameter sets came from, for error messages
  // ("bulk_params", "params", "params_json").
  std::string params_field = "bulk_params";
  // Send each set as one JSON request, unchanged (never inside a batch).
  bool raw = false;
  // What the calls ask of the read cache (when one is configured).
  CacheMode cache = CacheMode::kUse;
  // REST 3.0 writes: each call's Idempotency-Key, by index (empty: none
  // given; see FanoutOptions::idempotency_keys).
  std::vector<std::string> idempotency_keys;
};

enum class BulkForm {
  // Every result is collected into one reply: bounded by a cap on items.
  kUnary,
  // Results are streamed as they complete; the consumer's acknowledgements
  // bound how many calls are queued or unacknowledged at once.
  kStreaming,
};

// INVALID_ARGUMENT naming the first bad parameter set, an empty request, or
// more sets than the form's limit (max_bulk_items, max_call_many_items).
absl::Status ValidateBulk(const BulkSpec& bulk, BulkForm form, const InputLimits& limits);

// How the fan-out of each form is paced.
FanoutOptions BulkFanoutOptions(BulkForm form);

}  // namespace b24gate

#endif  // B24GATE_ENGINE_GATEWAY_BULK_CALL_H_
