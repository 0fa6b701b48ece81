// How long a method call "takes" on the emulated portal (README "Cost model"):
//   processing = base + per_row_returned × rows_returned
//                     + per_row_counted  × rows_counted   (0 when start=-1)
//                     + per_row_skipped  × rows_skipped   (offset rows walked)
// The response is delayed by it and it feeds the operating-time limit.
//
// Thread-safety: immutable after construction.
#ifndef B24EMU_COST_MODEL_H_
#define B24EMU_COST_MODEL_H_

#include <optional>
#include <string>

#include "absl/time/time.h"
#include "tests/emulator/method_api.h"

namespace b24emu {

struct CostModel {
  absl::Duration base;
  absl::Duration per_row_returned;
  absl::Duration per_row_counted;
  absl::Duration per_row_skipped;
  // The time scale, applied to the sum (scaling each per-row figure first
  // would round 20.858 us x 0.01 to Duration's quarter-nanosecond ticks).
  double scale = 1;

  absl::Duration Cost(const WorkDone& work) const;
  // The same model with every duration multiplied by `factor` (time scale).
  CostModel Scaled(double factor) const;
};

// "small", "huge" or "zero"; nullopt for an unknown name.
std::optional<CostModel> CostProfile(const std::string& name);

}  // namespace b24emu

#endif  // B24EMU_COST_MODEL_H_
