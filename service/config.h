// Server configuration: a JSON file (--config / B24GATE_CONFIG), environment
// variables (for Kubernetes) and command-line flags, in increasing priority.
// Validated once, at start-up, with errors that name the offending setting.
//
// Flags:   --listen HOST:PORT  --portal NAME=WEBHOOK_URL (repeatable; the first
//          is the default)  --config FILE  --plan standard|enterprise
//          --ca-file FILE  --insecure-skip-verify  --help
// Env:     B24GATE_LISTEN, B24GATE_CONFIG, B24GATE_PORTALS ("NAME=URL,NAME=URL")
// File:    see README.md "Configuration".
#ifndef B24GATE_SERVICE_CONFIG_H_
#define B24GATE_SERVICE_CONFIG_H_

#include <map>
#include <string>
#include <vector>

#include "absl/status/statusor.h"
#include "absl/time/time.h"
#include "engine/gateway/gateway_options.h"
#include "engine/portal/portal_options.h"

namespace b24gate {

struct ServerConfig {
  // Where gRPC listens; port 0 picks a free port.
  std::string listen = "0.0.0.0:50051";
  // The first portal is the default one.
  std::vector<PortalOptions> portals;
  // On SIGTERM, in-flight calls get this long to finish.
  absl::Duration shutdown_grace = absl::Seconds(20);
  // Settings of the gateway as a whole (file key "max_bulk_items").
  GatewayOptions gateway;
  bool help = false;
};

// `env` holds the process environment (injected for tests).
absl::StatusOr<ServerConfig> LoadConfig(const std::vector<std::string>& args,
                                        const std::map<std::string, std::string>& env);

// Text for --help.
std::string ConfigUsage();

}  // namespace b24gate

#endif  // B24GATE_SERVICE_CONFIG_H_
