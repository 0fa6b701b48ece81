#include "service/status_mapping.h"

#include "engine/common/errors.h"
#include "engine/common/field_text.h"
#include "google/rpc/error_details.pb.h"
#include "google/rpc/status.pb.h"

namespace b24gate {

grpc::Status ToGrpcStatus(const absl::Status& status) {
  if (status.ok()) return grpc::Status::OK;
  google::rpc::ErrorInfo info;
  const std::string message = EchoText(status.message(), kMaxStatusMessageBytes);
  const std::string bitrix_error = EchoText(ReasonOf(status));
  std::string reason = bitrix_error;
  bool from_bitrix = IsB24Error(status);
  // Old CRM methods answer with an empty code; ErrorInfo.reason must not be
  // empty, so that case gets a name of its own.
  if (reason.empty()) reason = from_bitrix ? "CRM_ERROR" : absl::StatusCodeToString(status.code());
  info.set_reason(reason);
  info.set_domain(from_bitrix ? kBitrixDomain : kGatewayDomain);
  (*info.mutable_metadata())["description"] = message;
  if (from_bitrix) {
    (*info.mutable_metadata())["bitrix_error"] = bitrix_error;
    (*info.mutable_metadata())["http_status"] = std::to_string(HttpStatusOf(status));
  }
  google::rpc::Status details;
  details.set_code(static_cast<int>(status.code()));
  details.set_message(message);
  details.add_details()->PackFrom(info);
  // REST 3.0 validation errors name each bad field (the first
  // kMaxFieldViolations: the details travel in metadata, see the header).
  if (std::vector<FieldViolation> violations = FieldViolationsOf(status); !violations.empty()) {
    google::rpc::BadRequest bad_request;
    for (const FieldViolation& v : violations) {
      if (bad_request.field_violations_size() == kMaxFieldViolations) break;
      google::rpc::BadRequest::FieldViolation* out = bad_request.add_field_violations();
      out->set_field(EchoText(v.field, kMaxViolationFieldBytes));
      out->set_description(EchoText(v.description, kMaxViolationBytes));
    }
    details.add_details()->PackFrom(bad_request);
  }
  return grpc::Status(static_cast<grpc::StatusCode>(status.code()), message,
                      details.SerializeAsString());
}

bitrix24::gateway::v1::CommandError ToCommandError(const absl::Status& status) {
  bitrix24::gateway::v1::CommandError error;
  std::string reason = EchoText(ReasonOf(status));
  error.set_code(reason.empty() && !IsB24Error(status) ? absl::StatusCodeToString(status.code())
                                                       : reason);
  error.set_description(EchoText(status.message(), kMaxStatusMessageBytes));
  error.set_grpc_code(static_cast<int>(status.code()));
  return error;
}

}  // namespace b24gate
