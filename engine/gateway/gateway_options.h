// Settings of the Gateway as a whole (per-portal settings are PortalOptions).
#ifndef B24GATE_ENGINE_GATEWAY_GATEWAY_OPTIONS_H_
#define B24GATE_ENGINE_GATEWAY_GATEWAY_OPTIONS_H_

#include "engine/gateway/input_limits.h"

namespace b24gate {

struct GatewayOptions {
  // What a request may hold (sizes, counts, depth); checked before anything
  // is sent. limits.max_bulk_items caps a unary bulk call, whose whole
  // answer must fit in one gRPC message (CallMany streams instead).
  InputLimits limits;
};

}  // namespace b24gate

#endif  // B24GATE_ENGINE_GATEWAY_GATEWAY_OPTIONS_H_
