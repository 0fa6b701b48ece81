// Parsing of REST 3.0 answers (docs/bitrix24-protocol.md, "REST 3.0"). A
// success is `{"result": ..., "time": ...}` (read as a classic answer); a
// method's error is `{"error": {"code", "message", "validation"?}}`, whose
// `validation` entries become the error's field violations. System errors
// (limits, auth) may still come in the classic flat shape
// `{"error": CODE, "error_description": ...}`: both are read, and the code
// decides, never the HTTP status alone.
//
// Thread-safety: pure functions.
#ifndef B24GATE_ENGINE_BITRIX_V3_RESPONSE_H_
#define B24GATE_ENGINE_BITRIX_V3_RESPONSE_H_

#include <string>
#include <vector>

#include "absl/status/statusor.h"
#include "engine/bitrix/bitrix_response.h"
#include "engine/http/http_transport.h"

namespace b24gate {

// As ParseCallResponse, for an answer of /rest/api/. A success that is a
// bare OpenAPI 3 document (an object with `openapi` and neither `result` nor
// `error`: rest.documentation.openapi's answer) is the result as a whole.
absl::StatusOr<CommandOutcome> ParseV3CallResponse(const HttpResponse& response);

// The answer of REST 3.0's `batch` for commands `keys` (in the order sent):
// `{"result": [one result per command, in order], "time"}`, each command's
// result with the batch's `time`. All or nothing: an error (the first
// command that failed ended the batch, naming no command) is the whole
// batch's `batch_error`. A list of another length is UNAVAILABLE /
// BAD_RESPONSE.
absl::StatusOr<BatchReply> ParseV3BatchResponse(const HttpResponse& response,
                                                const std::vector<std::string>& keys);

}  // namespace b24gate

#endif  // B24GATE_ENGINE_BITRIX_V3_RESPONSE_H_
