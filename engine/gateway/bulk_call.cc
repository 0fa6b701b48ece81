#include "engine/gateway/bulk_call.h"

#include <climits>

#include "absl/strings/str_cat.h"
#include "engine/gateway/gateway.h"

namespace b24gate {

absl::Status ValidateBulk(const BulkSpec& bulk, BulkForm form, const InputLimits& limits) {
  if (bulk.params.empty()) {
    return absl::InvalidArgumentError(
        absl::StrCat(bulk.params_field, ": at least one parameter set is required"));
  }
  // Refused before anything is sent: an answer too big for one message would
  // come after the writes ran, and could only be dropped.
  if (form == BulkForm::kUnary) {
    if (absl::Status s = CheckCount(bulk.params.size(), limits.max_bulk_items, bulk.params_field,
                                    "parameter sets", "max_bulk_items",
                                    "use CallMany, which streams the results");
        !s.ok()) {
      return s;
    }
  } else if (absl::Status s = CheckCount(bulk.params.size(), limits.max_call_many_items,
                                         bulk.params_field, "parameter sets",
                                         "max_call_many_items", "split them over several CallMany");
             !s.ok()) {
    return s;
  }
  for (size_t i = 0; i < bulk.params.size(); ++i) {
    const std::string where = absl::StrCat(bulk.params_field, "[", i, "]");
    if (absl::Status s = Gateway::ValidateCall(bulk.method, bulk.params[i], where); !s.ok()) {
      return s;
    }
    if (absl::Status s = CheckParams(bulk.params[i], where, limits); !s.ok()) return s;
  }
  return absl::OkStatus();
}

FanoutOptions BulkFanoutOptions(BulkForm form) {
  FanoutOptions options;
  // The unary form keeps everything for one reply; the cap bounds it.
  if (form == BulkForm::kUnary) options.max_unacked_chunks = INT_MAX;
  return options;
}

}  // namespace b24gate
