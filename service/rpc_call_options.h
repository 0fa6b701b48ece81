// The engine's CallOptions for one RPC of the gateway's services: whose call
// it is, its deadline (gRPC's, when the client set one) and its
// cancellation. GatewayService and FilesService build their calls' options
// here, so a deadline means the same to both.
//
// Thread-safety: a pure function.
#ifndef B24GATE_SERVICE_RPC_CALL_OPTIONS_H_
#define B24GATE_SERVICE_RPC_CALL_OPTIONS_H_

#include <grpcpp/server_context.h>

#include <memory>
#include <string>

#include "engine/portal/call_types.h"

namespace b24gate {

// `client`: the caller's client name ("" = anonymous); `idempotent`: the
// caller says a repeat is harmless (CallOptions::idempotent).
CallOptions RpcCallOptions(const grpc::ServerContextBase& context, const std::string& client,
                           bool idempotent, std::shared_ptr<CancelToken> cancel);

}  // namespace b24gate

#endif  // B24GATE_SERVICE_RPC_CALL_OPTIONS_H_
