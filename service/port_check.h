// Whether a listening address is free, asked before the gRPC server and the
// metrics listener bind it: both would only fail later with messages of their
// own (a raw gRPC log line, civetweb's "null context when constructing
// CivetServer") and after the gateway had started logging.
#ifndef B24GATE_SERVICE_PORT_CHECK_H_
#define B24GATE_SERVICE_PORT_CHECK_H_

#include <string>

#include "absl/status/status.h"

namespace b24gate {

// Binds a TCP socket to `address` (a validated HOST:PORT) and closes it
// again. OK when the bind works or the port is 0; else INVALID_ARGUMENT
// "WHAT "ADDRESS": address in use ..." (or the system's reason), naming
// `what` (e.g. "listen"). Sets SO_REUSEADDR as gRPC and civetweb do, so a
// closed connection in TIME_WAIT does not count as in use, and never
// SO_REUSEPORT, so a listening socket always does.
absl::Status CheckAddressFree(const std::string& address, const std::string& what);

}  // namespace b24gate

#endif  // B24GATE_SERVICE_PORT_CHECK_H_
