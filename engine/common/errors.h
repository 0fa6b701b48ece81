// Engine errors as absl::Status values.
//
// A Bitrix24 error becomes a Status whose canonical code is chosen on purpose
// (the table in README.md, "Errors"), whose message is the portal's
// error_description, and whose payloads carry the Bitrix24 code ("reason") and
// the HTTP status. Gateway-made errors use the same payloads with gateway
// reasons (kReasonOutcomeUnknown, ...). The service turns these into
// grpc::Status with google.rpc.ErrorInfo in one place.
//
// Thread-safety: stateless functions.
#ifndef B24GATE_ENGINE_COMMON_ERRORS_H_
#define B24GATE_ENGINE_COMMON_ERRORS_H_

#include <string>
#include <vector>

#include "absl/status/status.h"
#include "absl/strings/string_view.h"

namespace b24gate {

// Gateway reasons (ErrorInfo.reason) for failures that are not Bitrix24 codes.
inline constexpr absl::string_view kReasonOutcomeUnknown = "OUTCOME_UNKNOWN";
inline constexpr absl::string_view kReasonTransport = "TRANSPORT_ERROR";
inline constexpr absl::string_view kReasonBadResponse = "BAD_RESPONSE";
inline constexpr absl::string_view kReasonNotExecuted = "NOT_EXECUTED";
inline constexpr absl::string_view kReasonInvalidRequest = "INVALID_REQUEST";
inline constexpr absl::string_view kReasonDeadline = "DEADLINE_EXCEEDED";
inline constexpr absl::string_view kReasonCancelled = "CANCELLED";
inline constexpr absl::string_view kReasonUnknownPortal = "UNKNOWN_PORTAL";

// The canonical code for a Bitrix24 error code (HTTP status as fallback for
// codes not in the table).
absl::StatusCode CodeForB24Error(absl::string_view code, int http_status);

// A Status for a Bitrix24 error answer.
absl::Status B24ErrorStatus(absl::string_view code, absl::string_view description,
                            int http_status);

// A Status with a gateway reason.
absl::Status GatewayError(absl::StatusCode code, absl::string_view reason,
                          absl::string_view message);

// The reason payload ("" when absent) and the HTTP status payload (0 when
// absent) of a status.
std::string ReasonOf(const absl::Status& status);
int HttpStatusOf(const absl::Status& status);
// True when the status came from a Bitrix24 error answer (not from the gateway).
bool IsB24Error(const absl::Status& status);

// One bad request field a portal named (REST 3.0 errors list them under
// `validation`); the service sends them as google.rpc.BadRequest.
struct FieldViolation {
  std::string field;
  std::string description;
};
// Adds `violations` to `status` (nothing when empty).
void AttachFieldViolations(absl::Status* status, const std::vector<FieldViolation>& violations);
// Those attached, in order; empty when none.
std::vector<FieldViolation> FieldViolationsOf(const absl::Status& status);

}  // namespace b24gate

#endif  // B24GATE_ENGINE_COMMON_ERRORS_H_
