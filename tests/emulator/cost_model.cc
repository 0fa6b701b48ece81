#include "tests/emulator/cost_model.h"

namespace b24emu {

absl::Duration CostModel::Cost(const WorkDone& work) const {
  const absl::Duration unscaled = base + per_row_returned * work.rows_returned +
                                  per_row_counted * work.rows_counted +
                                  per_row_skipped * work.rows_skipped;
  return scale == 1 ? unscaled : unscaled * scale;
}

CostModel CostModel::Scaled(double factor) const {
  CostModel scaled = *this;
  scaled.scale *= factor;
  return scaled;
}

std::optional<CostModel> CostProfile(const std::string& name) {
  if (name == "zero") return CostModel{};
  if (name == "small") {
    // A portal of a few thousand rows per table: ~10 ms per call, 50-row page
    // +5 ms, counting 10,000 rows +20 ms.
    return CostModel{absl::Milliseconds(10), absl::Microseconds(100), absl::Microseconds(2),
                     absl::Microseconds(1)};
  }
  if (name == "huge") {
    // The docs' 2,387,743-row table: a start=-1 page of 50 costs 0.097 s, the
    // same page with counting 49.9 s. So counting costs
    // (49.9 - 0.097) / 2,387,743 = 20.858 us per matching row, and
    // 0.097 s = base 0.077 s + 50 × 0.4 ms per returned row. Skipping offset
    // rows walks the ID index without the count's joins: a quarter of a
    // counted row (an assumption; the docs give no figure).
    return CostModel{absl::Milliseconds(77), absl::Microseconds(400),
                     absl::Nanoseconds(20858), absl::Nanoseconds(5215)};
  }
  return std::nullopt;
}

}  // namespace b24emu
