// What a request asks of REST 3.0 (api_version, idempotency_key): where it
// goes (ResolveApi), then its fields checked before any work is queued: a
// combination the gateway cannot honour is INVALID_ARGUMENT naming the
// field, never sent.
//
// Thread-safety: pure functions.
#ifndef B24GATE_SERVICE_REST_V3_CALL_H_
#define B24GATE_SERVICE_REST_V3_CALL_H_

#include <functional>
#include <string>
#include <vector>

#include <nlohmann/json.hpp>

#include "absl/status/status.h"
#include "bitrix24/gateway/v1/gateway.pb.h"
#include "engine/gateway/bulk_call.h"
#include "engine/gateway/gateway.h"
#include "engine/portal/call_types.h"

namespace b24gate {

// Checks `request`'s API fields; for REST 3.0 sets `options` (the API, the
// caller's key), sorts the keys of parameters that came as a Struct, and
// makes `spec` bypass the read cache (its entries are classic answers).
// `spec` holds the request's parameters already.
// A request that names API_VERSION_CLASSIC or API_VERSION_V3 goes there;
// any other goes to `resolved` (ResolveApi's answer).
absl::Status ApplyApiVersion(const bitrix24::gateway::v1::CallRequest& request, CallSpec* spec,
                             CallOptions* options, RestApi resolved = RestApi::kClassic);

// The api_version of GetAll, GetById and CallMany: checks it and, for REST
// 3.0, points `options` at it and makes `cache` (null for GetAll, which has
// no cache) bypass the read cache. `sets`, when given, are the parameter
// sets of the calls, named `field`[i] in errors: REST 3.0 takes objects.
absl::Status ApplyFanoutApiVersion(bitrix24::gateway::v1::ApiVersion api, RestApi resolved,
                                   CallOptions* options, CacheMode* cache,
                                   const std::vector<nlohmann::ordered_json>* sets = nullptr,
                                   const std::string& field = "params");

// CallMany's idempotency_keys: none, or one per parameter set of a REST 3.0
// CallMany (`options` already applied), each empty or a valid key, no two
// alike; they go to `bulk`. INVALID_ARGUMENT naming idempotency_keys[i]
// otherwise. The sets of a REST 3.0 CallMany that came as Values (`params`)
// get their keys sorted, as Call's Struct does.
absl::Status ApplyCallManyKeys(const bitrix24::gateway::v1::CallManyRequest& request,
                               const CallOptions& options, BulkSpec* bulk);

// The api_version of CallBatch: checks it and, for REST 3.0, points
// `options` at it (PlanV3Batch checks the commands).
absl::Status ApplyBatchApiVersion(bitrix24::gateway::v1::ApiVersion api, RestApi resolved,
                                  CallOptions* options);

// The default API of the named portal ("" = the default portal); classic
// for a name the gateway does not know (the call then fails as it would).
ApiChoice DefaultApiOf(const Gateway& gateway, const std::string& portal);

// Where a request that names `requested` goes, handed to `then`: CLASSIC and
// V3 as named; UNSPECIFIED as the portal's default; AUTO (named, or the
// portal's default) to REST 3.0 when the portal's OpenAPI document lists
// every one of `methods`, else classic (Gateway::ResolveAutoApi: `then` gets
// its error when the document cannot be read). A value the proto does not
// define goes on as classic, for the Apply functions to refuse. `then` runs
// before this returns unless the document must be fetched first.
void ResolveApi(Gateway* gateway, const std::string& portal,
                bitrix24::gateway::v1::ApiVersion requested, std::vector<std::string> methods,
                std::function<void(absl::StatusOr<RestApi>)> then);

}  // namespace b24gate

#endif  // B24GATE_SERVICE_REST_V3_CALL_H_
