// Who can reach the gRPC port. Without client authentication anyone who
// reaches the port can use every portal, so the gateway then binds loopback
// only unless the operator says otherwise (--insecure-listen-any). The
// metrics port beyond loopback is allowed with a warning.
#ifndef B24GATE_SERVICE_LISTEN_EXPOSURE_H_
#define B24GATE_SERVICE_LISTEN_EXPOSURE_H_

#include <string>

#include "absl/status/statusor.h"

namespace b24gate {

// True for 127.0.0.0/8, [::1] and localhost (HOST of a validated HOST:PORT).
bool IsLoopbackHost(const std::string& host);

// `listen` is a validated HOST:PORT. `authenticated`: callers must prove who
// they are (configured clients, or required client certificates).
// Returns the one start-up line that says which mode the gateway is in, or
// INVALID_ARGUMENT when an unauthenticated gateway would listen beyond
// loopback without `insecure_listen_any`.
absl::StatusOr<std::string> DescribeListenExposure(const std::string& listen, bool authenticated,
                                                   bool insecure_listen_any);

// The start-up warning for a metrics listener (a validated HOST:PORT)
// beyond loopback. Metrics are read without authentication and tell portal,
// client and method names and call counts, but carry no secret and allow no
// call; Prometheus usually scrapes from another host. So this is a warning,
// not a refusal as for the gRPC port.
std::string MetricsExposureWarning(const std::string& metrics_listen);

}  // namespace b24gate

#endif  // B24GATE_SERVICE_LISTEN_EXPOSURE_H_
