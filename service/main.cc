// b24gate: parses the configuration and runs the gRPC server until SIGTERM or
// SIGINT, then shuts down so that every accepted call gets its answer
// (README "Shutdown"): health turns NOT_SERVING at once; after SIGTERM the
// listener keeps accepting for the pre-drain delay (load balancers take the
// endpoint out meanwhile); then new calls are refused, queued commands are
// answered NOT_EXECUTED, requests on the wire get until shortly before the
// grace deadline, and what is left is answered OUTCOME_UNKNOWN. Exit 0.
// SIGHUP re-reads the TLS certificate files (service/tls/server_tls.h).
#include <pthread.h>
#include <signal.h>

#include <algorithm>
#include <cstdio>
#include <cstdlib>
#include <iostream>
#include <map>
#include <memory>
#include <string>
#include <thread>
#include <vector>

#include <grpcpp/ext/proto_server_reflection_plugin.h>
#include <grpcpp/grpcpp.h>
#include <grpcpp/health_check_service_interface.h>
#include <prometheus/exposer.h>
#include <prometheus/registry.h>

#include "absl/strings/str_cat.h"
#include "absl/synchronization/notification.h"
#include "absl/time/clock.h"
#include "engine/auth/redis_token_sharing.h"
#include "engine/cache/memory_store.h"
#include "engine/cache/read_cache.h"
#include "engine/cache/redis_store.h"
#include "engine/redis/redis_client.h"
#include "engine/common/clock.h"
#include "engine/gateway/gateway.h"
#include "engine/http/curl_transport.h"
#include "grpc/health/v1/health.pb.h"
#include "service/admin_service.h"
#include "service/auth/access_control.h"
#include "service/config.h"
#include "service/gateway_service.h"
#include "service/limits_config.h"
#include "service/listen_exposure.h"
#include "service/logging/log_observer.h"
#include "service/logging/logger.h"
#include "service/metrics/auth_metrics.h"
#include "service/metrics/cache_metrics.h"
#include "service/metrics/grpc_metrics.h"
#include "service/metrics/portal_gauges.h"
#include "service/metrics/portal_metrics.h"
#include "service/observer_fanout.h"
#include "service/rpc_interceptor.h"
#include "service/wire/request_decoder.h"
#include "service/tls/server_tls.h"
#include "service/tls/tls_metrics.h"

extern char** environ;

namespace b24gate {
namespace {

std::map<std::string, std::string> Environment() {
  std::map<std::string, std::string> env;
  for (char** e = environ; *e; ++e) {
    std::string kv(*e);
    size_t eq = kv.find('=');
    if (eq != std::string::npos) env[kv.substr(0, eq)] = kv.substr(eq + 1);
  }
  return env;
}

std::string HostOf(const std::string& listen) {
  size_t colon = listen.rfind(':');
  return colon == std::string::npos ? listen : listen.substr(0, colon);
}

// SIGTERM and SIGINT (and SIGHUP, for a TLS reload) are taken by sigwait,
// not by whichever thread gets them. Called before any thread starts, so
// every thread inherits the mask. Returns the shutdown signals.
sigset_t BlockShutdownSignals() {
  sigset_t signals;
  sigemptyset(&signals);
  sigaddset(&signals, SIGTERM);
  sigaddset(&signals, SIGINT);
  sigset_t blocked = signals;
  sigaddset(&blocked, SIGHUP);
  pthread_sigmask(SIG_BLOCK, &blocked, nullptr);
  return signals;
}

void LogPortals(const ServerConfig& config, Logger& logger) {
  for (const auto& p : config.portals) {
    std::string endpoint = p.oauth.enabled() ? absl::StrCat(p.oauth.portal_url, " (OAuth app ",
                                                              p.oauth.client_id, ")")
                                             : RedactedWebhook(p.webhook_url);
    logger.Log(p.tls.verify ? LogLevel::kInfo : LogLevel::kWarn, "portal configured",
               {{"portal", p.name},
                {"endpoint", endpoint},
                {"burst", p.bucket.burst},
                {"drain_per_second", p.bucket.drain_per_second},
                {"tls_verify", p.tls.verify}});
  }
}

// Every portal queues the configured clients' commands in weighted fair
// order (engine/throttle/fair_share.h).
std::vector<PortalOptions> WithFairShare(const ServerConfig& config) {
  FairSharePolicy policy;
  policy.enabled = config.fair_share;
  for (const ClientSpec& client : config.clients) policy.weights[client.name] = client.weight;
  std::vector<PortalOptions> portals = config.portals;
  for (PortalOptions& portal : portals) portal.fair_share = policy;
  return portals;
}

// A connection of its own to the configured Redis (each client serialises
// its commands on one connection, so the cache and the token refreshes do
// not wait behind the budget's scripts).
std::shared_ptr<RedisClient> ConnectRedis(const RedisConfig& redis) {
  return std::make_shared<RedisClient>(SharedBudgetOptionsOf(redis).redis, Clock::Real());
}

// The read cache, when the config has rules: in Redis when one is
// configured (shared by the replicas), else in this process.
std::unique_ptr<ReadCache> MakeReadCache(const ServerConfig& config, Logger& logger) {
  if (!config.cache.enabled()) return nullptr;
  std::unique_ptr<CacheStore> store;
  if (config.redis.enabled()) {
    store = std::make_unique<RedisCacheStore>(ConnectRedis(config.redis), config.redis.key_prefix,
                                              config.cache.max_bytes);
  } else {
    store = std::make_unique<MemoryCacheStore>(config.cache.max_entries, config.cache.max_bytes,
                                               Clock::Real());
  }
  logger.Log(LogLevel::kInfo, "read cache on",
             {{"rules", static_cast<int64_t>(config.cache.rules.size())},
              {"store", config.redis.enabled() ? "redis" : "memory"}});
  return std::make_unique<ReadCache>(config.cache, std::move(store));
}

// OAuth portals share their tokens through Redis, so that one replica
// refreshes and the others take the result.
void ShareOAuthTokens(const RedisConfig& redis, std::vector<PortalOptions>* portals) {
  std::shared_ptr<RedisClient> client;
  for (PortalOptions& portal : *portals) {
    if (!portal.oauth.enabled()) continue;
    if (!client) client = ConnectRedis(redis);
    portal.oauth.sharing = std::make_shared<RedisTokenSharing>(client, redis.key_prefix, portal.name,
                                                               portal.oauth.client_id);
  }
}

// Prometheus: one registry, the families built once, served by an Exposer
// when --metrics-listen is given.
struct Metrics {
  std::shared_ptr<prometheus::Registry> registry = std::make_shared<prometheus::Registry>();
  std::unique_ptr<PortalMetrics> portal;
  std::unique_ptr<GrpcMetrics> grpc;
  std::unique_ptr<TlsMetrics> tls;
  std::unique_ptr<AuthMetrics> auth;
  std::shared_ptr<PortalGauges> gauges;
  std::shared_ptr<CacheMetrics> cache;
  std::unique_ptr<prometheus::Exposer> exposer;
  int port = 0;
};

std::unique_ptr<Metrics> MakeMetrics(const ServerConfig& config) {
  if (config.metrics_listen.empty()) return nullptr;
  auto m = std::make_unique<Metrics>();
  m->portal = std::make_unique<PortalMetrics>(*m->registry);
  m->grpc = std::make_unique<GrpcMetrics>(*m->registry);
  m->auth = std::make_unique<AuthMetrics>(*m->registry, AccessControl::FailureReasons(),
                                          AccessControl::ClientNames(config.clients));
  if (config.tls.enabled()) m->tls = std::make_unique<TlsMetrics>(*m->registry);
  return m;
}

// Starts serving GET /metrics; the gauges read `gateway`'s portals per scrape.
absl::Status ServeMetrics(const ServerConfig& config, Gateway& gateway, Metrics* m) {
  m->gauges = std::make_shared<PortalGauges>(gateway.portals());
  try {
    // CivetWeb's Exposer throws when it cannot bind.
    m->exposer = std::make_unique<prometheus::Exposer>(config.metrics_listen);
  } catch (const std::exception& e) {
    return absl::UnavailableError(
        absl::StrCat("cannot serve metrics on ", config.metrics_listen, ": ", e.what()));
  }
  m->exposer->RegisterCollectable(m->registry);
  m->exposer->RegisterCollectable(m->gauges);
  if (gateway.cache() != nullptr) {
    m->cache = std::make_shared<CacheMetrics>(gateway.cache());
    m->exposer->RegisterCollectable(m->cache);
  }
  std::vector<int> ports = m->exposer->GetListeningPorts();
  m->port = ports.empty() ? 0 : ports.front();
  return absl::OkStatus();
}

std::unique_ptr<grpc::Server> StartGrpc(const ServerConfig& config,
                                        std::shared_ptr<grpc::ServerCredentials> credentials,
                                        std::vector<grpc::Service*> services, GrpcMetrics* metrics,
                                        Logger* logger, const Authenticator* authenticator,
                                        int* port) {
  grpc::EnableDefaultHealthCheckService(true);
  // gRPC's health service is not built from protobuf C++ code, so reflection
  // finds grpc.health.v1 only if its generated descriptor is linked in; this
  // reference keeps it (buf curl and grpcurl call Health/Check by reflection).
  (void)grpc::health::v1::HealthCheckRequest::descriptor();
  grpc::reflection::InitProtoReflectionServerBuilderPlugin();
  grpc::ServerBuilder builder;
  builder.AddListeningPort(config.listen, std::move(credentials), port);
  for (grpc::Service* s : services) builder.RegisterService(s);
  // Requests are decoded under the input limits (service/wire/); gRPC's own
  // receive limit sits a little above, for the far too large.
  const InputLimits& limits = config.gateway.limits;
  SetWireLimits({limits.max_depth, limits.max_request_bytes});
  builder.SetMaxReceiveMessageSize(GrpcReceiveLimit(limits));
  std::vector<std::unique_ptr<grpc::experimental::ServerInterceptorFactoryInterface>> interceptors;
  interceptors.push_back(std::make_unique<RpcInterceptorFactory>(metrics, logger, authenticator));
  builder.experimental().SetInterceptorCreators(std::move(interceptors));
  std::unique_ptr<grpc::Server> server = builder.BuildAndStart();
  if (server) server->GetHealthCheckService()->SetServingStatus(true);
  return server;
}

// Waits for SIGTERM or SIGINT and returns it; a SIGHUP meanwhile re-reads
// the TLS files (`tls` may be null) and the wait goes on.
int WaitForSignal(const sigset_t& signals, ServerTls* tls, Logger& logger) {
  sigset_t with_hup = signals;
  sigaddset(&with_hup, SIGHUP);
  while (true) {
    int signal_number = 0;
    sigwait(&with_hup, &signal_number);
    if (signal_number != SIGHUP) return signal_number;
    if (tls == nullptr) {
      logger.Log(LogLevel::kInfo, "SIGHUP: no TLS certificate to reload");
    } else {
      (void)tls->Reload(/*forced=*/true);  // logged and counted inside
    }
  }
}

// See the comment at the top of this file. Returns when every accepted call
// has its answer, or exits the process when upstream requests are still on
// the wire (their callers are answered; nothing is left to save: rotated
// tokens are persisted when they arrive).
void Drain(const ServerConfig& config, int signal_number, const sigset_t& signals,
           grpc::Server& server, Gateway& gateway, Logger& logger) {
  server.GetHealthCheckService()->SetServingStatus(false);
  // Ctrl-C (SIGINT) is a person at a terminal, not an orchestrator: no delay.
  absl::Duration predrain = signal_number == SIGTERM ? config.predrain_delay : absl::ZeroDuration();
  logger.Log(LogLevel::kInfo, "shutting down",
             {{"signal", signal_number},
              {"predrain_delay_ms", absl::ToDoubleMilliseconds(predrain)},
              {"shutdown_grace_ms", absl::ToDoubleMilliseconds(config.shutdown_grace)}});
  if (predrain > absl::ZeroDuration()) {
    // Still serving; a second signal ends the wait.
    timespec wait = absl::ToTimespec(predrain);
    sigtimedwait(&signals, nullptr, &wait);
  }

  const absl::Time deadline = absl::Now() + config.shutdown_grace;
  // At the deadline gRPC cancels whatever is left, without our per-item
  // answers; so in-flight commands are answered a little before it, leaving
  // time for the answers to reach the clients.
  const absl::Time answer_by =
      deadline - std::min(config.shutdown_grace / 4, absl::Seconds(1));
  absl::Notification drained;
  std::thread stop([&] {
    server.Shutdown(absl::ToChronoTime(deadline));  // refuses new calls at once
    server.Wait();
    drained.Notify();
  });
  gateway.BeginShutdown();
  if (!drained.WaitForNotificationWithDeadline(answer_by)) {
    logger.Log(LogLevel::kWarn, "grace period nearly over: answering calls still waiting for the "
                                "portal with OUTCOME_UNKNOWN");
    gateway.AbandonInFlight();
  }
  bool done = drained.WaitForNotificationWithDeadline(deadline + absl::Seconds(1));
  bool upstream_left = false;
  for (Portal* portal : gateway.portals()) upstream_left = upstream_left || portal->Stats().in_flight > 0;
  if (!done || upstream_left) {
    logger.Log(LogLevel::kWarn, "exiting with upstream requests still in flight");
    std::fflush(nullptr);
    std::_Exit(0);
  }
  stop.join();
  logger.Log(LogLevel::kInfo, "stopped");
}

// Replicas share each portal's budget through Redis. Each switch to and from
// the local fallback is logged once per portal.
std::shared_ptr<BudgetSharing> ShareBudgets(const RedisConfig& redis, Logger& logger) {
  SharedBudgetOptions options = SharedBudgetOptionsOf(redis);
  options.on_switch = [&logger, replicas = redis.replicas](const std::string& portal, bool fallback,
                                                          const std::string& why) {
    if (fallback) {
      logger.Log(LogLevel::kWarn,
                 "Redis unreachable: this replica now uses its own share of the portal's budget "
                 "until Redis answers again",
                 {{"portal", portal}, {"replicas", replicas}, {"error", why}});
    } else {
      logger.Log(LogLevel::kInfo, "Redis reachable again: sharing the portal's budget",
                 {{"portal", portal}});
    }
  };
  auto sharing = std::make_shared<RedisBudgetSharing>(options, Clock::Real());
  logger.Log(LogLevel::kInfo, "sharing portal budgets through Redis",
             {{"redis", RedisUrlOf(options.redis.address)},
              {"replicas", redis.replicas},
              {"key_prefix", redis.key_prefix},
              {"replica", sharing->replica_id()}});
  return sharing;
}

int RunServer(const ServerConfig& config) {
  const sigset_t signals = BlockShutdownSignals();
  Logger logger(config.log, &std::cerr);
  for (const std::string& secret : SecretsOf(config)) logger.AddSecret(secret);

  std::unique_ptr<Metrics> metrics = MakeMetrics(config);
  // Declared before the server so that it outlives it.
  std::unique_ptr<ServerTls> tls;
  if (config.tls.enabled()) {
    absl::StatusOr<std::unique_ptr<ServerTls>> started =
        ServerTls::Start(config.tls, &logger, metrics ? metrics->tls.get() : nullptr);
    if (!started.ok()) {
      // Start-up input: one line, exit 2, like a configuration error.
      std::cerr << "b24gate: " << started.status().message() << std::endl;
      return 2;
    }
    tls = std::move(*started);
  }
  LogPortals(config, logger);
  LogObserver log_observer(&logger);
  ObserverFanout observer({metrics ? metrics->portal.get() : nullptr, &log_observer});
  AccessControl access(config.clients, metrics ? metrics->auth.get() : nullptr);
  logger.Log(LogLevel::kInfo, access.enabled() ? "client authentication on" : "client authentication off",
             {{"clients", config.clients.size()}});
  GatewayOptions gateway_options = config.gateway;
  if (access.enabled()) {
    gateway_options.authorize = [&access](const std::string& client, const std::string& portal,
                                          const std::string& method) {
      return access.AuthorizeCommand(client, portal, method);
    };
  }
  std::vector<PortalOptions> portals = WithFairShare(config);
  if (config.redis.enabled()) {
    std::shared_ptr<BudgetSharing> sharing = ShareBudgets(config.redis, logger);
    for (PortalOptions& portal : portals) portal.sharing = sharing;
    ShareOAuthTokens(config.redis, &portals);
  }
  Gateway gateway(portals, std::make_unique<CurlTransport>(), Clock::Real(), &observer,
                  gateway_options, MakeReadCache(config, logger));
  GatewayService service(&gateway, &access);
  AdminService admin(&gateway, &access);

  if (metrics) {
    if (absl::Status s = ServeMetrics(config, gateway, metrics.get()); !s.ok()) {
      logger.Log(LogLevel::kError, std::string(s.message()));
      return 1;
    }
  }
  int port = 0;
  std::unique_ptr<grpc::Server> server =
      StartGrpc(config, tls ? tls->credentials() : grpc::InsecureServerCredentials(),
                {&service, &admin}, metrics ? metrics->grpc.get() : nullptr, &logger,
                &access.authenticator(), &port);
  if (!server || port == 0) {
    logger.Log(LogLevel::kError, absl::StrCat("cannot listen on ", config.listen));
    return 1;
  }
  // The first stdout line is the contract with scripts and tests.
  std::printf("listening on %s:%d\n", HostOf(config.listen).c_str(), port);
  if (metrics) std::printf("metrics on %s:%d\n", HostOf(config.metrics_listen).c_str(), metrics->port);
  std::fflush(stdout);
  const std::string bound = absl::StrCat(HostOf(config.listen), ":", port);
  logger.Log(LogLevel::kInfo, "serving", {{"listen", bound}, {"tls", tls != nullptr}});
  // Validated by LoadConfig; here it only says which mode the gateway is in.
  absl::StatusOr<std::string> exposure = DescribeListenExposure(
      bound, config.authenticates_clients(), config.insecure_listen_any);
  logger.Log(config.authenticates_clients() || IsLoopbackHost(HostOf(config.listen))
                 ? LogLevel::kInfo
                 : LogLevel::kWarn,
             exposure.ok() ? *exposure : std::string(exposure.status().message()));

  int signal_number = WaitForSignal(signals, tls.get(), logger);
  Drain(config, signal_number, signals, *server, gateway, logger);
  return 0;
}

}  // namespace
}  // namespace b24gate

int main(int argc, char** argv) {
  absl::StatusOr<b24gate::ServerConfig> config =
      b24gate::LoadConfig(std::vector<std::string>(argv + 1, argv + argc), b24gate::Environment());
  if (!config.ok()) {
    // One line, never a secret (LoadConfig's messages do not quote values
    // that may hold one).
    std::cerr << "b24gate: " << config.status().message() << std::endl;
    return 2;
  }
  if (config->help) {
    std::cout << b24gate::ConfigUsage();
    return 0;
  }
  return b24gate::RunServer(*config);
}
