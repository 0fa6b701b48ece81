// The one place where engine statuses become gRPC statuses.
//
// The canonical code carries over unchanged (the engine already chose it on
// purpose, see engine/errors.h); the Bitrix24 error code or gateway reason
// travels as google.rpc.ErrorInfo in the status details, with the portal's
// description and HTTP status in its metadata.
//
// Texts are cut here, whatever produced them: the message (and the
// description) to kMaxStatusMessageBytes, a reason to kMaxEchoBytes, each
// cut noting the whole length. A status travels in gRPC metadata, where the
// message appears three times (grpc-message, non-ASCII percent-encoded to
// three bytes a byte; twice inside the base64 details); clients refuse
// metadata above 8 KiB and then show RESOURCE_EXHAUSTED instead of the real
// error. A portal's error_description or an echoed request field is
// otherwise unbounded.
//
// Thread-safety: stateless functions.
#ifndef B24GATE_SERVICE_STATUS_MAPPING_H_
#define B24GATE_SERVICE_STATUS_MAPPING_H_

#include <cstddef>

#include <grpcpp/support/status.h>

#include "absl/status/status.h"
#include "bitrix24/gateway/v1/gateway.pb.h"

namespace b24gate {

inline constexpr char kBitrixDomain[] = "bitrix24.com";
inline constexpr char kGatewayDomain[] = "b24gate";
// The longest status message (or per-command description) sent.
inline constexpr size_t kMaxStatusMessageBytes = 512;
// google.rpc.BadRequest (REST 3.0 validation errors): at most this many
// field violations, each field name and description cut to these lengths,
// so the whole status stays well inside the metadata limit.
inline constexpr int kMaxFieldViolations = 8;
inline constexpr size_t kMaxViolationFieldBytes = 64;
inline constexpr size_t kMaxViolationBytes = 120;

grpc::Status ToGrpcStatus(const absl::Status& status);

// For errors reported per item (bulk results, batch commands, ids).
bitrix24::gateway::v1::CommandError ToCommandError(const absl::Status& status);

}  // namespace b24gate

#endif  // B24GATE_SERVICE_STATUS_MAPPING_H_
