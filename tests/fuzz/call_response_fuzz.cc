// Fuzzes ParseCallResponse: any HTTP status and body the portal (or a proxy in
// front of it) may send must become a result, a Bitrix24 error or an
// UNAVAILABLE status -- never a crash or an exception. Input format: see
// response_input.h.
//
// Checked: exactly one of reply/error is set; a failure is UNAVAILABLE and
// its message is one short line (it quotes at most a snippet of the body,
// with no control characters, so it is safe for logs and gRPC statuses).
#include <cstddef>
#include <cstdint>
#include <string>

#include "engine/bitrix/bitrix_response.h"
#include "tests/fuzz/fuzz_check.h"
#include "tests/fuzz/response_input.h"

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  using namespace b24gate;
  fuzz::ResponseInput in = fuzz::ReadResponseInput(data, size);
  absl::StatusOr<CommandOutcome> outcome = ParseCallResponse(in.response);
  if (!outcome.ok()) {
    fuzz::CheckUnreadable(outcome.status(), in.response.status);
    return 0;
  }
  FUZZ_CHECK(outcome->reply.has_value() != outcome->error.has_value(),
             "outcome must hold exactly one of reply and error");
  if (outcome->error) FUZZ_CHECK(outcome->error->http_status == in.response.status, "status lost");
  return 0;
}
