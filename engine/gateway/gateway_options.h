// Settings of the Gateway as a whole (per-portal settings are PortalOptions).
#ifndef B24GATE_ENGINE_GATEWAY_GATEWAY_OPTIONS_H_
#define B24GATE_ENGINE_GATEWAY_GATEWAY_OPTIONS_H_

#include <cstddef>

namespace b24gate {

struct GatewayOptions {
  // Most parameter sets one unary bulk call may carry. Its whole answer must
  // fit in one gRPC message, so more are refused before anything is sent and
  // the caller is pointed at the streaming form (CallMany).
  size_t max_bulk_items = 1000;
};

}  // namespace b24gate

#endif  // B24GATE_ENGINE_GATEWAY_GATEWAY_OPTIONS_H_
