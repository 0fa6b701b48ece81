// Checks a caller's CallBatch for REST 3.0 (docs/bitrix24-protocol.md, "REST
// 3.0", batch) and splits it into REST 3.0 `batch` requests of at most 50
// commands.
//
// Each command travels as {"method", "query": params, "as": key}. A later
// command refers to an earlier one's answer with `{"$ref": "key.path"}` or
// `{"$refArray": "key.field"}` anywhere in its params; the portal resolves
// them only inside one request, so a split is allowed only where no
// reference crosses it, else INVALID_ARGUMENT names the command and the
// reference. Keys are the names references use: no '.', which would be read
// as the path's first step, and a reference must name an earlier command's
// key (the portal's positions "0", "1", ... do not name a command that has
// an `as`, and every command sent has one).
//
// Thread-safety: pure functions.
#ifndef B24GATE_ENGINE_GATEWAY_V3_BATCH_PLAN_H_
#define B24GATE_ENGINE_GATEWAY_V3_BATCH_PLAN_H_

#include <vector>

#include "absl/status/statusor.h"
#include "engine/gateway/batch_plan.h"
#include "engine/gateway/input_limits.h"
#include "engine/portal/call_types.h"

namespace b24gate {

// Validates keys, methods (no "method?query" form: REST 3.0 takes JSON),
// parameters against `limits` and the references, and splits into chunks.
absl::StatusOr<std::vector<std::vector<BatchCommandSpec>>> PlanV3Batch(
    std::vector<BatchCommandSpec> commands, int max_per_batch = kMaxBatchCommands,
    const InputLimits& limits = InputLimits());

}  // namespace b24gate

#endif  // B24GATE_ENGINE_GATEWAY_V3_BATCH_PLAN_H_
