// Portals from every source of the configuration: `--portal NAME=URL` flags,
// B24GATE_PORTALS, the file's "portals" list, and the flags that apply to the
// flag and environment portals (--plan, --ca-file, --insecure-skip-verify).
// Every portal enters a list through one function, which checks its name and
// that the name is new there; the merge then keeps names unique.
//
// Errors name the source and index ("config: portals[2]", "--portal") and
// never quote a URL or a name that breaks the rules (either may be a secret
// or unprintable).
#ifndef B24GATE_SERVICE_PORTAL_CONFIG_H_
#define B24GATE_SERVICE_PORTAL_CONFIG_H_

#include <optional>
#include <string>
#include <vector>

#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "engine/portal/portal_options.h"
#include "service/config_reading.h"

namespace b24gate {

struct PortalSources {
  std::vector<std::string> flag_specs;  // "NAME=WEBHOOK_URL", in order
  std::vector<std::string> env_specs;
  std::vector<PortalOptions> file;      // the file's list, parsed
  // Applied to the flag and environment portals only.
  std::optional<std::string> plan;
  std::optional<std::string> ca_file;
  bool insecure_skip_verify = false;
};

// The file's "portals" list. INVALID_ARGUMENT naming the entry and key.
absl::StatusOr<std::vector<PortalOptions>> ParsePortalList(const ConfigJson& j);

// Flag portals first (the first flag names the default), then the
// environment's (a name in both takes the flag's webhook), then the file's;
// a portal named by a flag or the environment and in the file takes its
// settings from the file and its webhook from the flag or environment.
absl::StatusOr<std::vector<PortalOptions>> MergePortals(const PortalSources& sources);

// The file's "application" object: the OAuth application of the portals
// registered at run time (client_id, client_secret or client_secret_file,
// oauth_url). INVALID_ARGUMENT naming the key.
absl::StatusOr<OAuthOptions> ParseApplication(const ConfigJson& j, const std::string& where);

// The whole portal, after the merge: the engine's checks, and the CA file
// exists. INVALID_ARGUMENT naming the portal and the setting.
absl::Status ValidatePortal(const PortalOptions& portal);

}  // namespace b24gate

#endif  // B24GATE_SERVICE_PORTAL_CONFIG_H_
