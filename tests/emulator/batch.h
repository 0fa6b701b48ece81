// The parsing half of `batch` (docs/bitrix24-protocol.md, "batch"): reading `cmd` and `halt`,
// splitting "method?query" sub-commands, and resolving `$result[...]`
// references. Execution (limits, costs, accounting) lives in the portal.
//
// References: `$result[key][path...]`, `$result_total[key]`,
// `$result_next[key]` and `$result_error[key][...]` are looked up in the
// answers of earlier commands, inside the PARSED parameter values, so both raw
// and URL-encoded references work. A value that is exactly one reference takes
// the referenced value (a list or map stays structured); a reference inside a
// longer string is replaced by the scalar's text. A reference to a missing
// command, path or a structured value inside text becomes "".
//
// Thread-safety: pure functions.
#ifndef B24EMU_BATCH_H_
#define B24EMU_BATCH_H_

#include <string>
#include <vector>

#include <nlohmann/json.hpp>

namespace b24emu {

inline constexpr int kMaxBatchCommands = 50;

struct BatchCommand {
  std::string key;     // the command's name in `cmd` (list index as text for lists)
  std::string method;  // normalised; empty when the command text was not a string
  nlohmann::ordered_json params = nlohmann::ordered_json::object();
};

// Reads `cmd` (a map or a list of "method?query" strings) from batch params.
std::vector<BatchCommand> ParseBatchCommands(const nlohmann::ordered_json& params);

// `halt` as PHP would read it: "1", 1, true, "Y" are true.
bool ParseHalt(const nlohmann::ordered_json& params);

// Lower-cases and strips a ".json" suffix and trailing '/'.
std::string NormalizeMethod(std::string method);

// The five maps of a batch answer, filled as commands run.
struct BatchResults {
  nlohmann::ordered_json result = nlohmann::ordered_json::object();
  nlohmann::ordered_json result_error = nlohmann::ordered_json::object();
  nlohmann::ordered_json result_total = nlohmann::ordered_json::object();
  nlohmann::ordered_json result_next = nlohmann::ordered_json::object();
  nlohmann::ordered_json result_time = nlohmann::ordered_json::object();
};

// Returns `params` with every reference replaced (see the file comment).
nlohmann::ordered_json ResolveReferences(const nlohmann::ordered_json& params,
                                         const BatchResults& so_far);

}  // namespace b24emu

#endif  // B24EMU_BATCH_H_
