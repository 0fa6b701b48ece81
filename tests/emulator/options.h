// The b24-emulator command line (README "Flags"), parsed into one options
// struct and validated once, then turned into the portal and server configs
// with --time-scale applied: every duration × F, every rate ÷ F.
//
// Thread-safety: pure functions.
#ifndef B24EMU_OPTIONS_H_
#define B24EMU_OPTIONS_H_

#include <cstdint>
#include <optional>
#include <string>
#include <vector>

#include "absl/status/statusor.h"
#include "tests/emulator/portal.h"
#include "tests/emulator/server.h"

namespace b24emu {

struct EmulatorOptions {
  std::string listen_host = "127.0.0.1";
  int listen_port = 0;
  std::vector<PortalConfig::Webhook> webhooks;  // --webhook USER_ID/CODE, repeatable
  std::string oauth_client_id;                  // --oauth CLIENT_ID:CLIENT_SECRET
  std::string oauth_client_secret;
  std::string oauth_refresh_token;   // --oauth-refresh-token; empty: random
  double token_lifetime_seconds = 3600;
  std::string seed;                  // --seed, passed to MakeSeededPortal
  std::string plan = "standard";     // standard: 50 / 2 per s; enterprise: 250 / 5 per s
  std::optional<double> bucket_burst;  // override the plan's X
  std::optional<double> bucket_rate;   // override the plan's Y
  bool no_limits = false;            // bucket and operating limit tracked, never enforced
  double operating_limit_seconds = 480;  // 0: off
  bool per_method_batch_accounting = true;  // --batch-accounting per-method|batch
  bool operating_block_window = false;      // --operating-rule rolling|block-window
  std::string profile = "small";     // small|huge
  bool cost_zero = false;
  double time_scale = 1;
  std::string tls_cert_file;
  std::string tls_key_file;
  std::string faults;
  uint64_t fault_seed = 1;           // --seed-random
  double fault_delay_seconds = 65;
  bool require_https = false;
  std::string redirect_host;
  int threads = 128;
  // Online events: auth[application_token] of every post, and how long
  // after the change a post leaves (Bitrix24 posts from a queue).
  std::string application_token = "emulator-application-token";
  double event_delay_seconds = 0.1;
  int event_senders = 1;  // threads posting online events
  int event_retries = 0;  // a failed online post is sent again this many times
  int keep_alive_timeout_seconds = 5;
  // The largest request body the web server takes (--max-request-size,
  // bytes; 0 = no limit): the docs give 2 GB for a cloud portal's POST.
  int64_t max_request_size = int64_t{2} << 30;
  // The Drive's space (--disk-quota, bytes; 0 = unlimited, the default: the
  // docs give no figure, it depends on the plan).
  int64_t disk_quota = 0;
  // Many portals (README "Many portals"): created at start besides the
  // first, and the application's install handler they post to.
  int portals = 0;
  std::string app_url;
  // A line per request answered is appended here (access_log.h); empty: none.
  std::string access_log;
  bool help = false;

  bool oauth_enabled() const { return !oauth_client_id.empty(); }
};

// Parses argv[1..]; accepts "--flag value" and "--flag=value".
absl::StatusOr<EmulatorOptions> ParseOptions(const std::vector<std::string>& args);

std::string UsageText();

// REQUIRES: options came from ParseOptions (validated).
PortalConfig MakePortalConfig(const EmulatorOptions& options);
// A created portal's: the first portal's with `plan`'s bucket (no plan
// name: the flags' plan and overrides, with what `plan` overrides).
PortalConfig MakePlanPortalConfig(const EmulatorOptions& options, const PortalPlan& plan);
ServerOptions MakeServerOptions(const EmulatorOptions& options);

}  // namespace b24emu

#endif  // B24EMU_OPTIONS_H_
