// Server configuration: a JSON file (--config / B24GATE_CONFIG), environment
// variables (for Kubernetes) and command-line flags, in increasing priority.
// Which flag, variable and file key each setting has, its default and how it
// applies is one table (service/settings.h); LoadConfig reads the sources in
// named steps by that table, merges them, then validates once with errors
// that name the offending setting and never print a secret.
#ifndef B24GATE_SERVICE_CONFIG_H_
#define B24GATE_SERVICE_CONFIG_H_

#include <map>
#include <string>
#include <vector>

#include "absl/status/statusor.h"
#include "absl/time/time.h"
#include "engine/gateway/gateway_options.h"
#include "engine/portal/portal_options.h"
#include "engine/cache/cache_options.h"
#include "service/auth/client_config.h"
#include "service/logging/logger.h"
#include "service/redis_config.h"
#include "service/tls/server_tls_options.h"

namespace b24gate {

struct ServerConfig {
  // Where gRPC listens (HOST:PORT, validated); port 0 picks a free port.
  // Beyond loopback only with client authentication or insecure_listen_any.
  std::string listen = "127.0.0.1:50051";
  // Listen beyond loopback even without client authentication.
  bool insecure_listen_any = false;
  // TLS (and mutual TLS) on the gRPC port; off when no certificate is given.
  ServerTlsOptions tls;
  // Where GET /metrics is served; empty = metrics off.
  std::string metrics_listen;
  // Portals besides the configured ones whose metrics have series of their
  // own (the first to be busy); the others are summed as portal="other".
  size_t metrics_portals = 100;
  // The first portal is the default one.
  std::vector<PortalOptions> portals;
  // The OAuth application of the portals registered at run time (the file's
  // "application": client_id, client_secret or client_secret_file,
  // oauth_url); off when client_id is empty.
  OAuthOptions application;
  // Where the portals registered at run time and their rotated tokens are
  // kept (--portal-store DIR); with Redis configured they are kept there
  // instead; neither: in memory, lost at exit.
  std::string portal_store;
  // On SIGTERM: health turns NOT_SERVING and the listener keeps accepting
  // this long (so load balancers take the endpoint out first) ...
  absl::Duration predrain_delay = absl::Seconds(5);
  // ... then accepted calls get this long to be answered.
  absl::Duration shutdown_grace = absl::Seconds(20);
  // How long an event subscription waits before reading an empty offline
  // queue again (EventService). Each read is a request out of the portal's
  // budget (2 per second on most plans), hence not every second.
  absl::Duration events_poll_interval = absl::Seconds(5);
  // The inbound HTTP endpoint Bitrix24 posts events to ("" = off), and the
  // URL under which the portals reach it (what event.bind is given; "" =
  // http://<the bound address>).
  std::string events_listen;
  std::string events_public_url;
  // With Redis: the most entries each portal's events stream keeps.
  int64_t events_stream_max_len = 1000000;
  // With the inbound endpoint: where the online events and the consumers'
  // acknowledgements are kept (EventLog), and its bounds.
  std::string events_log = "/var/lib/b24gate/events";
  int64_t events_log_max_bytes = int64_t{1} << 30;
  absl::Duration events_log_max_age = absl::Hours(24 * 7);
  // An event (online or offline) delivered and not acknowledged in this
  // time goes to a member of its consumer group again (ConsumerGroup).
  absl::Duration events_visibility_timeout = absl::Minutes(5);
  // The largest file UploadFile takes, in bytes; 0 = no limit of ours.
  int64_t max_file_size = 0;
  // A file transfer in which no byte moves this long fails, and an upload
  // whose first message (its header) has not come this long after the call
  // opened is refused: a stalled client frees its slot and memory.
  absl::Duration file_stall_timeout = absl::Seconds(60);
  // For this long after a request to a portal, the transport replaces each
  // of the portal's idle connections its server closes (or is about to
  // close), so a call after a quiet spell connects on nobody's path
  // (CurlTransportOptions::keep_warm_for). Zero: off.
  absl::Duration keep_warm_for = absl::Minutes(5);
  LogOptions log;
  // Settings of the gateway as a whole (file key "max_bulk_items").
  GatewayOptions gateway;
  // API clients (the file's "clients" list); empty = no client authentication.
  std::vector<ClientSpec> clients;
  // Redis shared by replicas (the file's "redis", --redis, --replicas).
  RedisConfig redis;
  // Commands of different clients queue in weighted fair order (file key
  // "fair_share"; off = one queue in arrival order).
  bool fair_share = true;
  // The read cache (the file's "cache" section); off when it has no rules.
  CacheOptions cache;
  bool help = false;

  // Callers must prove who they are: configured clients, or required
  // client certificates.
  // Portals may be registered at run time, so none need be configured.
  bool registers_portals() const {
    return application.enabled() || !portal_store.empty() || redis.enabled();
  }
  bool authenticates_clients() const { return !clients.empty() || tls.requires_client_cert(); }
};

// `env` holds the process environment (injected for tests). Never throws.
absl::StatusOr<ServerConfig> LoadConfig(const std::vector<std::string>& args,
                                        const std::map<std::string, std::string>& env);

// "HOST:PORT" (or "[IPV6]:PORT") with a port in 0..65535; ":PORT" means all
// interfaces. Returns the address gRPC should bind, or INVALID_ARGUMENT
// naming `what` (e.g. "--listen").
absl::StatusOr<std::string> ParseListenAddress(const std::string& address, const std::string& what);

// Every secret in `config` (webhook codes, OAuth client secrets and refresh
// tokens, the Redis password), for the logger to mask.
std::vector<std::string> SecretsOf(const ServerConfig& config);

}  // namespace b24gate

#endif  // B24GATE_SERVICE_CONFIG_H_
