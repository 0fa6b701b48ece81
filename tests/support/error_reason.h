// The `reason` of the google.rpc.ErrorInfo a gateway status carries in its
// details ("" when it carries none): how tests tell NOT_EXECUTED from
// OUTCOME_UNKNOWN behind the same gRPC code.
#ifndef B24GATE_TESTS_SUPPORT_ERROR_REASON_H_
#define B24GATE_TESTS_SUPPORT_ERROR_REASON_H_

#include <string>

#include <grpcpp/grpcpp.h>

#include "google/rpc/error_details.pb.h"
#include "google/rpc/status.pb.h"

namespace b24gate::testing {

inline std::string ReasonOf(const grpc::Status& status) {
  google::rpc::Status details;
  if (!details.ParseFromString(status.error_details())) return "";
  for (const auto& any : details.details()) {
    google::rpc::ErrorInfo info;
    if (any.UnpackTo(&info)) return info.reason();
  }
  return "";
}

}  // namespace b24gate::testing

#endif  // B24GATE_TESTS_SUPPORT_ERROR_REASON_H_
