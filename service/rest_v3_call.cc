#include "service/rest_v3_call.h"

#include "absl/strings/str_cat.h"
#include "engine/portal/rest_v3.h"

namespace b24gate {

namespace pb = bitrix24::gateway::v1;

absl::Status ApplyApiVersion(const pb::CallRequest& request, CallSpec* spec,
                             CallOptions* options) {
  const pb::ApiVersion api = request.api_version();
  if (!pb::ApiVersion_IsValid(api)) {
    return absl::InvalidArgumentError(absl::StrCat("api_version: unknown value ", api));
  }
  if (api != pb::API_VERSION_V3) {
    if (!request.idempotency_key().empty()) {
      return absl::InvalidArgumentError(
          "idempotency_key: only REST 3.0 writes carry an Idempotency-Key; set api_version "
          "to API_VERSION_V3");
    }
    return absl::OkStatus();
  }
  if (request.bulk_params_size() > 0) {
    return absl::InvalidArgumentError(
        "bulk_params: API_VERSION_V3 takes one parameter set (params or params_json)");
  }
  if (!spec->params.is_object()) {
    return absl::InvalidArgumentError(absl::StrCat(
        spec->params_field, ": REST 3.0 parameters are a JSON object, got ",
        spec->params.type_name()));
  }
  if (!request.idempotency_key().empty()) {
    if (absl::Status s = CheckIdempotencyKey(request.idempotency_key(), "idempotency_key");
        !s.ok()) {
      return s;
    }
  }
  // A Struct's key order is arbitrary (protobuf maps): its keys are sorted,
  // so the same call is the same bytes every time and a repeat under the
  // caller's key matches however the portal compares bodies. JSON text is
  // sent as written.
  if (spec->params_field == "params") {
    spec->params = nlohmann::ordered_json(nlohmann::json(spec->params));
  }
  options->api = RestApi::kV3;
  options->idempotency_key = request.idempotency_key();
  spec->cache = CacheMode::kBypass;
  return absl::OkStatus();
}

}  // namespace b24gate
