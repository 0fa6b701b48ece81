// A gRPC server interceptor that observes every RPC without the services
// knowing: it counts it in GrpcMetrics, gives it a request id (the client's
// `x-request-id` metadata, or a generated one) that is echoed back in the
// response headers (in the trailers when the answer is a bare error status,
// so clients' retry policies still apply), and writes one log line when the RPC ends, with the gRPC
// method, request id, portal and Bitrix24 method of the request, the calling
// client (when clients are configured), status code and duration; a call
// refused UNAUTHENTICATED or PERMISSION_DENIED also gets the peer's address.
// It also counts the calls of the gateway's own services alive (LiveCalls),
// for the drain.
//
// Thread-safety: the factory is thread-safe; each interceptor belongs to one
// RPC, whose hook points gRPC runs one batch at a time.
#ifndef B24GATE_SERVICE_RPC_INTERCEPTOR_H_
#define B24GATE_SERVICE_RPC_INTERCEPTOR_H_

#include <string>

#include <grpcpp/support/server_interceptor.h>

#include "service/auth/authenticator.h"
#include "service/live_calls.h"
#include "service/logging/logger.h"
#include "service/metrics/grpc_metrics.h"

namespace b24gate {

class RpcInterceptorFactory : public grpc::experimental::ServerInterceptorFactoryInterface {
 public:
  // `metrics` may be null (metrics off); `authenticator` may be null (no
  // client names in the log); `live` may be null (calls not counted). All
  // must outlive the server.
  RpcInterceptorFactory(GrpcMetrics* metrics, Logger* logger,
                        const Authenticator* authenticator = nullptr, LiveCalls* live = nullptr)
      : metrics_(metrics), logger_(logger), authenticator_(authenticator), live_(live) {}

  grpc::experimental::Interceptor* CreateServerInterceptor(
      grpc::experimental::ServerRpcInfo* info) override;

 private:
  GrpcMetrics* const metrics_;
  Logger* const logger_;
  const Authenticator* const authenticator_;
  LiveCalls* const live_;
};

// The id to use for a request: `given` when it is 1..128 printable ASCII
// characters without spaces, else a new random one (16 hex digits).
std::string RequestIdFor(const std::string& given);

}  // namespace b24gate

#endif  // B24GATE_SERVICE_RPC_INTERCEPTOR_H_
