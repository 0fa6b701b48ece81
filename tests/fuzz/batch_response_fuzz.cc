// Fuzzes ParseBatchResponse: any answer to a `batch` request, for any command
// keys, must become a whole-batch error, per-key outcomes or an UNAVAILABLE
// status -- never a crash or an exception, and never an outcome for a key the
// gateway did not send. Input format: see response_input.h (the header line
// names the keys).
#include <cstddef>
#include <cstdint>
#include <set>
#include <string>

#include "engine/bitrix/bitrix_response.h"
#include "tests/fuzz/fuzz_check.h"
#include "tests/fuzz/response_input.h"

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  using namespace b24gate;
  fuzz::ResponseInput in = fuzz::ReadResponseInput(data, size);
  absl::StatusOr<BatchReply> reply = ParseBatchResponse(in.response, in.keys);
  if (!reply.ok()) {
    fuzz::CheckUnreadable(reply.status(), in.response.status);
    return 0;
  }
  if (reply->batch_error) {
    FUZZ_CHECK(reply->outcomes.empty(), "whole-batch error with per-key outcomes");
    return 0;
  }
  const std::set<std::string> sent(in.keys.begin(), in.keys.end());
  for (const auto& [key, outcome] : reply->outcomes) {
    FUZZ_CHECK(sent.count(key) > 0, "outcome for a key never sent: " + key);
    FUZZ_CHECK(outcome.reply.has_value() != outcome.error.has_value(),
               "outcome must hold exactly one of reply and error");
  }
  return 0;
}
