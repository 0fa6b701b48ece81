#include "service/rpc_call_options.h"

#include <chrono>
#include <utility>

#include "absl/time/clock.h"

namespace b24gate {

CallOptions RpcCallOptions(const grpc::ServerContextBase& context, const std::string& client,
                           bool idempotent, std::shared_ptr<CancelToken> cancel) {
  CallOptions o;
  o.client_id = client;
  const auto deadline = context.deadline();
  // A client without a deadline: gRPC reports the end of time.
  if (deadline != std::chrono::system_clock::time_point::max()) o.deadline = absl::FromChrono(deadline);
  o.cancel = std::move(cancel);
  o.idempotent = idempotent;
  return o;
}

}  // namespace b24gate
