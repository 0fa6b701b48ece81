// Checks a caller's named batch (CallBatch) and splits it into Bitrix24
// `batch` requests of at most 50 commands.
//
// A command may refer to an earlier one's result with `$result[key]...` (also
// $result_error, $result_total, $result_next, $result_time). Such references
// resolve only inside one batch request, so a split is allowed only where no
// reference crosses it; otherwise the plan fails with INVALID_ARGUMENT naming
// the command and the reference.
//
// Thread-safety: pure functions.
#ifndef B24GATE_ENGINE_GATEWAY_BATCH_PLAN_H_
#define B24GATE_ENGINE_GATEWAY_BATCH_PLAN_H_

#include <cstddef>
#include <functional>
#include <map>
#include <set>
#include <string>
#include <vector>

#include "absl/status/statusor.h"
#include "engine/gateway/input_limits.h"
#include "engine/portal/call_types.h"

namespace b24gate {

inline constexpr int kMaxBatchCommands = 50;
// The longest command key accepted.
inline constexpr size_t kMaxBatchKeyBytes = 128;

// Validates keys, methods, parameters (a command written as "method?query"
// is decoded into params) against `limits`, and the syntax of `$result`
// references, and splits into chunks.
absl::StatusOr<std::vector<std::vector<BatchCommandSpec>>> PlanBatch(
    std::vector<BatchCommandSpec> commands, int max_per_batch = kMaxBatchCommands,
    const InputLimits& limits = InputLimits());

// Checks command `i` (`index_of`: the keys so far → their positions, its
// own included) and puts it in the form it travels in.
using CommandCheck = std::function<absl::Status(
    BatchCommandSpec& c, size_t i, const std::map<std::string, size_t>& index_of)>;

// What PlanBatch and PlanV3Batch share: a count within `limits`, keys
// (ValidateBatchKey) each used once, every command passing `check`, then
// `commands` in order in chunks of `max_per_batch`.
absl::StatusOr<std::vector<std::vector<BatchCommandSpec>>> PlanCommands(
    std::vector<BatchCommandSpec> commands, int max_per_batch, const InputLimits& limits,
    const CommandCheck& check);

// Command `i`'s method: a valid name (checked as written), normalized, and
// not `batch` (Bitrix24 refuses a batch inside a batch); INVALID_ARGUMENT
// naming commands[i] otherwise.
absl::Status CheckCommandMethod(BatchCommandSpec& c, size_t i);

// OK for a key a batch command may have (`index`: its position, for the
// message): 1 to kMaxBatchKeyBytes letters, digits, '_', '-', '.', not all
// digits.
absl::Status ValidateBatchKey(const std::string& key, size_t index);

// The command keys a parameter tree refers to through `$result...[key]`.
std::set<std::string> ReferencedKeys(const nlohmann::ordered_json& params);

}  // namespace b24gate

#endif  // B24GATE_ENGINE_GATEWAY_BATCH_PLAN_H_
