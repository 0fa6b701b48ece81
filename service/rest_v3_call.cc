#include "service/rest_v3_call.h"

#include <set>

#include "absl/strings/str_cat.h"
#include "engine/portal/portal.h"
#include "engine/portal/rest_v3.h"

namespace b24gate {

namespace pb = bitrix24::gateway::v1;

namespace {

absl::Status CheckApiVersion(pb::ApiVersion api) {
  if (!pb::ApiVersion_IsValid(api)) {
    return absl::InvalidArgumentError(absl::StrCat("api_version: unknown value ", api));
  }
  return absl::OkStatus();
}

// A request's explicit CLASSIC or V3 stands; otherwise `resolved` decides.
pb::ApiVersion Effective(pb::ApiVersion requested, RestApi resolved) {
  if (requested == pb::API_VERSION_CLASSIC || requested == pb::API_VERSION_V3) return requested;
  return resolved == RestApi::kV3 ? pb::API_VERSION_V3 : pb::API_VERSION_CLASSIC;
}

}  // namespace

absl::Status ApplyApiVersion(const pb::CallRequest& request, CallSpec* spec,
                             CallOptions* options, RestApi resolved) {
  if (absl::Status s = CheckApiVersion(request.api_version()); !s.ok()) return s;
  const pb::ApiVersion api = Effective(request.api_version(), resolved);
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
        "bulk_params: REST 3.0 (API_VERSION_V3, or the portal's default api_version) takes one "
        "parameter set (params or params_json); use CallMany for many");
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

absl::Status ApplyFanoutApiVersion(pb::ApiVersion api, RestApi resolved,
                                   CallOptions* options, CacheMode* cache,
                                   const std::vector<nlohmann::ordered_json>* sets,
                                   const std::string& field) {
  if (absl::Status s = CheckApiVersion(api); !s.ok()) return s;
  if (Effective(api, resolved) != pb::API_VERSION_V3) return absl::OkStatus();
  for (size_t i = 0; sets != nullptr && i < sets->size(); ++i) {
    if (!(*sets)[i].is_object()) {
      return absl::InvalidArgumentError(absl::StrCat(
          field, "[", i, "]: REST 3.0 parameters are a JSON object, got ", (*sets)[i].type_name()));
    }
  }
  options->api = RestApi::kV3;
  // The read cache holds classic answers.
  if (cache != nullptr) *cache = CacheMode::kBypass;
  return absl::OkStatus();
}

absl::Status ApplyCallManyKeys(const pb::CallManyRequest& request, const CallOptions& options,
                               BulkSpec* bulk) {
  if (options.api != RestApi::kV3) {
    if (request.idempotency_keys_size() == 0) return absl::OkStatus();
    return absl::InvalidArgumentError(
        "idempotency_keys: only REST 3.0 writes carry an Idempotency-Key; set api_version to "
        "API_VERSION_V3");
  }
  if (bulk->params_field == "params") {
    for (auto& set : bulk->params) set = nlohmann::ordered_json(nlohmann::json(set));
  }
  if (request.idempotency_keys_size() == 0) return absl::OkStatus();
  if (static_cast<size_t>(request.idempotency_keys_size()) != bulk->params.size()) {
    return absl::InvalidArgumentError(absl::StrCat(
        "idempotency_keys: ", request.idempotency_keys_size(), " keys for ", bulk->params.size(),
        " parameter sets; give one per set (an empty one lets the gateway make it)"));
  }
  std::set<std::string> seen;
  for (int i = 0; i < request.idempotency_keys_size(); ++i) {
    const std::string& key = request.idempotency_keys(i);
    if (key.empty()) continue;
    const std::string field = absl::StrCat("idempotency_keys[", i, "]");
    if (absl::Status s = CheckIdempotencyKey(key, field); !s.ok()) return s;
    if (!seen.insert(key).second) {
      return absl::InvalidArgumentError(
          absl::StrCat(field, ": the same key as an earlier set; each write needs its own"));
    }
  }
  bulk->idempotency_keys.assign(request.idempotency_keys().begin(),
                                request.idempotency_keys().end());
  return absl::OkStatus();
}

absl::Status ApplyBatchApiVersion(pb::ApiVersion api, RestApi resolved,
                                  CallOptions* options) {
  if (absl::Status s = CheckApiVersion(api); !s.ok()) return s;
  if (Effective(api, resolved) == pb::API_VERSION_V3) options->api = RestApi::kV3;
  return absl::OkStatus();
}

ApiChoice DefaultApiOf(const Gateway& gateway, const std::string& portal) {
  absl::StatusOr<std::shared_ptr<Portal>> found = gateway.FindPortal(portal);
  return found.ok() ? (*found)->options().default_api : ApiChoice::kClassic;
}

void ResolveApi(Gateway* gateway, const std::string& portal, pb::ApiVersion requested,
                std::vector<std::string> methods,
                std::function<void(absl::StatusOr<RestApi>)> then) {
  ApiChoice choice = ApiChoice::kClassic;
  switch (requested) {
    case pb::API_VERSION_V3: choice = ApiChoice::kV3; break;
    case pb::API_VERSION_AUTO: choice = ApiChoice::kAuto; break;
    case pb::API_VERSION_UNSPECIFIED: choice = DefaultApiOf(*gateway, portal); break;
    default: break;  // classic, or a value the Apply functions refuse
  }
  if (choice == ApiChoice::kAuto) {
    gateway->ResolveAutoApi(portal, std::move(methods), std::move(then));
    return;
  }
  then(choice == ApiChoice::kV3 ? RestApi::kV3 : RestApi::kClassic);
}

}  // namespace b24gate
