// What a Call asks of REST 3.0 (CallRequest.api_version and
// idempotency_key), checked before any work is queued: a combination the
// gateway cannot honour is INVALID_ARGUMENT naming the field, never sent.
//
// Thread-safety: pure functions.
#ifndef B24GATE_SERVICE_REST_V3_CALL_H_
#define B24GATE_SERVICE_REST_V3_CALL_H_

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
// A request that names no api_version goes to `portal_default` (the
// portal's "api_version" setting, DefaultApiOf).
absl::Status ApplyApiVersion(const bitrix24::gateway::v1::CallRequest& request, CallSpec* spec,
                             CallOptions* options, RestApi portal_default = RestApi::kClassic);

// The api_version of GetAll, GetById and CallMany: checks it and, for REST
// 3.0, points `options` at it and makes `cache` (null for GetAll, which has
// no cache) bypass the read cache. `sets`, when given, are the parameter
// sets of the calls, named `field`[i] in errors: REST 3.0 takes objects.
absl::Status ApplyFanoutApiVersion(bitrix24::gateway::v1::ApiVersion api, RestApi portal_default,
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
absl::Status ApplyBatchApiVersion(bitrix24::gateway::v1::ApiVersion api, RestApi portal_default,
                                  CallOptions* options);

// The default API of the named portal ("" = the default portal); classic
// for a name the gateway does not know (the call then fails as it would).
RestApi DefaultApiOf(const Gateway& gateway, const std::string& portal);

}  // namespace b24gate

#endif  // B24GATE_SERVICE_REST_V3_CALL_H_
