#include "engine/gateway/bulk_call.h"

#include <climits>

#include "absl/strings/str_cat.h"
#include "engine/gateway/gateway.h"

namespace b24gate {

absl::Status ValidateBulk(const BulkSpec& bulk, BulkForm form, size_t max_unary_items) {
  if (bulk.params.empty()) {
    return absl::InvalidArgumentError(
        absl::StrCat(bulk.params_field, ": at least one parameter set is required"));
  }
  // Refused before anything is sent: an answer too big for one message would
  // come after the writes ran, and could only be dropped.
  if (form == BulkForm::kUnary && bulk.params.size() > max_unary_items) {
    return absl::InvalidArgumentError(absl::StrCat(
        bulk.params_field, ": ", bulk.params.size(), " parameter sets, above the limit of ",
        max_unary_items, " for one Call; use CallMany, which streams the results"));
  }
  for (size_t i = 0; i < bulk.params.size(); ++i) {
    if (absl::Status s = Gateway::ValidateCall(bulk.method, bulk.params[i],
                                               absl::StrCat(bulk.params_field, "[", i, "]"));
        !s.ok()) {
      return s;
    }
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
