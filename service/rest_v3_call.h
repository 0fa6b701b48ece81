// What a Call asks of REST 3.0 (CallRequest.api_version and
// idempotency_key), checked before any work is queued: a combination the
// gateway cannot honour is INVALID_ARGUMENT naming the field, never sent.
//
// Thread-safety: pure functions.
#ifndef B24GATE_SERVICE_REST_V3_CALL_H_
#define B24GATE_SERVICE_REST_V3_CALL_H_

#include "absl/status/status.h"
#include "bitrix24/gateway/v1/gateway.pb.h"
#include "engine/gateway/gateway.h"
#include "engine/portal/call_types.h"

namespace b24gate {

// Checks `request`'s API fields; for REST 3.0 sets `options` (the API, the
// caller's key), sorts the keys of parameters that came as a Struct, and
// makes `spec` bypass the read cache (its entries are classic answers).
// `spec` holds the request's parameters already.
absl::Status ApplyApiVersion(const bitrix24::gateway::v1::CallRequest& request, CallSpec* spec,
                             CallOptions* options);

}  // namespace b24gate

#endif  // B24GATE_SERVICE_REST_V3_CALL_H_
