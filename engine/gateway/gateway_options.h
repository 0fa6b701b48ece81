// Settings of the Gateway as a whole (per-portal settings are PortalOptions).
#ifndef B24GATE_ENGINE_GATEWAY_GATEWAY_OPTIONS_H_
#define B24GATE_ENGINE_GATEWAY_GATEWAY_OPTIONS_H_

#include <cstddef>
#include <functional>
#include <string>

#include "absl/status/status.h"

#include "engine/gateway/input_limits.h"
#include "engine/lists/list_request.h"

namespace b24gate {

struct GatewayOptions {
  // What a request may hold (sizes, counts, depth); checked before anything
  // is sent. limits.max_bulk_items caps a unary bulk call, whose whole
  // answer must fit in one gRPC message (CallMany streams instead).
  InputLimits limits;
  // How far a GetAll read by parallel keyset may get ahead of its client,
  // in bytes of rows (ListReaderOptions::read_ahead_bytes; config file key
  // "list_read_ahead_bytes").
  int64_t list_read_ahead_bytes = kDefaultListReadAheadBytes;
  // How much heap each dispatch thread touches before the gateway serves
  // (DispatchPool's warm_bytes): the memory its first answers are parsed
  // into. 0 in tests; the service sets it (service/server.cc).
  size_t dispatch_warm_bytes = 0;
  // Whether a caller may send a command: gets the caller's
  // CallOptions::client_id, the portal's configured name and the method in
  // its normal form (NormalizeMethod); returns OK or the refusal
  // (PERMISSION_DENIED). Null: every command is allowed.
  //
  // The Gateway calls it for every command of every entry point (each
  // CallBatch command after its "method?query" is decoded, the one method
  // of a bulk call, GetById or GetAll), after validation and before anything
  // is queued; a batch with one refused command is refused whole. Checking
  // here, where the commands are final, rather than in each RPC handler,
  // leaves no request form a second parser could read differently.
  std::function<absl::Status(const std::string& client_id, const std::string& portal,
                             const std::string& method)>
      authorize;
};

}  // namespace b24gate

#endif  // B24GATE_ENGINE_GATEWAY_GATEWAY_OPTIONS_H_
