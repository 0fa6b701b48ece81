#include "service/server.h"

#include <sys/stat.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <cstdio>
#include <cstring>
#include <string>
#include <vector>

#include <grpcpp/ext/proto_server_reflection_plugin.h>
#include <grpcpp/health_check_service_interface.h>
#include <prometheus/exposer.h>
#include <prometheus/registry.h>

#include "absl/strings/str_cat.h"
#include "absl/time/clock.h"
#include "absl/time/time.h"
#include "engine/auth/redis_token_sharing.h"
#include "engine/cache/memory_store.h"
#include "engine/cache/read_cache.h"
#include "engine/cache/redis_store.h"
#include "engine/events/online_hub.h"
#include "engine/events/redis_event_hub.h"
#include "engine/http/curl_transport.h"
#include "engine/redis/redis_client.h"
#include "engine/redis/redis_url.h"
#include "engine/registry/file_registry.h"
#include "engine/registry/redis_registry.h"
#include "grpc/health/v1/health.pb.h"
#include "service/limits_config.h"
#include "service/listen_exposure.h"
#include "service/metrics/auth_metrics.h"
#include "service/metrics/cache_metrics.h"
#include "service/metrics/event_metrics.h"
#include "service/metrics/file_metrics.h"
#include "service/metrics/grpc_metrics.h"
#include "service/metrics/portal_gauges.h"
#include "service/metrics/portal_metrics.h"
#include "service/metrics/transport_metrics.h"
#include "service/port_check.h"
#include "service/proto_warmth.h"
#include "service/redis_config.h"
#include "service/rpc_interceptor.h"
#include "service/tls/tls_metrics.h"
#include "service/wire/request_decoder.h"

namespace b24gate {

// Prometheus: one registry, the families built once, served by an Exposer
// when --metrics-listen is given.
struct ServerMetrics {
  std::shared_ptr<prometheus::Registry> registry = std::make_shared<prometheus::Registry>();
  std::unique_ptr<PortalMetrics> portal;
  std::unique_ptr<GrpcMetrics> grpc;
  std::unique_ptr<TlsMetrics> tls;
  std::unique_ptr<AuthMetrics> auth;
  std::unique_ptr<FileMetrics> files;
  std::shared_ptr<PortalGauges> gauges;
  std::shared_ptr<CacheMetrics> cache;
  std::shared_ptr<EventMetrics> events;
  std::shared_ptr<TransportMetrics> transport;  // with the libcurl transport only
  std::unique_ptr<prometheus::Exposer> exposer;
};

namespace {

constexpr int kStreamWindowBytes = 2 << 20;

// The heap each dispatch thread touches before the gateway serves, for its
// first answers (a fresh gateway's two threads faulted in about 3,200 pages
// while they parsed a 20,000-item read's answers, 12 MiB; 300-900 with
// this). Later reads reuse what the first freed: main keeps it mapped. It
// costs its size in resident memory from the start: the 20,000-item read's
// peak went from 39 to 52 MiB (16 MiB a thread: 59 MiB).
constexpr size_t kDispatchWarmBytes = 12 << 20;
// Configured portals a starting gateway opens a connection to (the first in
// the configuration's order): a few, so that a gateway configured with many
// opens no flood of them; portals from the registry (Marketplace installs,
// possibly thousands) get none.
constexpr size_t kPreconnectPortals = 4;

std::string HostOf(const std::string& listen) { return listen.substr(0, listen.rfind(':')); }

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
FairSharePolicy FairShareOf(const ServerConfig& config) {
  FairSharePolicy policy;
  policy.enabled = config.fair_share;
  for (const ClientSpec& client : config.clients) policy.weights[client.name] = client.weight;
  return policy;
}

// A connection of its own to the configured Redis (each client serialises
// its commands on one connection, so the cache and the token refreshes do
// not wait behind the budget's scripts).
std::shared_ptr<RedisClient> ConnectRedis(const RedisConfig& redis, Clock* clock) {
  return std::make_shared<RedisClient>(SharedBudgetOptionsOf(redis).redis, clock);
}

// The read cache, when the config has rules: in Redis when one is
// configured (shared by the replicas), else in this process.
std::unique_ptr<ReadCache> MakeReadCache(const ServerConfig& config, Clock* clock, Logger& logger) {
  if (!config.cache.enabled()) return nullptr;
  std::unique_ptr<CacheStore> store;
  if (config.redis.enabled()) {
    store = std::make_unique<RedisCacheStore>(ConnectRedis(config.redis, clock),
                                              config.redis.key_prefix, config.cache.max_bytes);
  } else {
    store = std::make_unique<MemoryCacheStore>(config.cache.max_entries, config.cache.max_bytes, clock);
  }
  logger.Log(LogLevel::kInfo, "read cache on",
             {{"rules", static_cast<int64_t>(config.cache.rules.size())},
              {"store", config.redis.enabled() ? "redis" : "memory"}});
  return std::make_unique<ReadCache>(config.cache, std::move(store));
}

// OAuth portals share their tokens through Redis, so that one replica
// refreshes and the others take the result.
void ShareOAuthTokens(const RedisConfig& redis, Clock* clock, std::vector<PortalOptions>* portals) {
  std::shared_ptr<RedisClient> client;
  for (PortalOptions& portal : *portals) {
    if (!portal.oauth.enabled()) continue;
    if (!client) client = ConnectRedis(redis, clock);
    portal.oauth.sharing = std::make_shared<RedisTokenSharing>(client, redis.key_prefix, portal.name,
                                                               portal.oauth.client_id);
  }
}

// Replicas share each portal's budget through Redis. Each switch to and from
// the local fallback is logged once per portal.
std::shared_ptr<BudgetSharing> ShareBudgets(const RedisConfig& redis, Clock* clock, Logger& logger) {
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
  auto sharing = std::make_shared<RedisBudgetSharing>(options, clock);
  logger.Log(LogLevel::kInfo, "sharing portal budgets through Redis",
             {{"redis", RedisUrlOf(options.redis.address)},
              {"replicas", redis.replicas},
              {"key_prefix", redis.key_prefix},
              {"replica", sharing->replica_id()}});
  return sharing;
}

// Where the portals registered at run time live (Redis when configured, so
// the replicas share them; else --portal-store; else memory) and what they
// start from: the application's OAuth client, the clients' fair share, and
// the budget and token sharing of the replicas.
absl::StatusOr<RegistryParts> MakeRegistry(const ServerConfig& config, const PortalOptions& base,
                                           Clock* clock) {
  RegistryParts parts;
  parts.options.base = base;
  parts.options.base.oauth = config.application;
  if (config.redis.enabled()) {
    std::shared_ptr<RedisClient> redis = ConnectRedis(config.redis, clock);
    parts.registry = std::make_unique<RedisPortalRegistry>(redis, config.redis.key_prefix);
    parts.options.token_sharing = [redis, prefix = config.redis.key_prefix](
                                      const std::string& portal, const std::string& client_id) {
      return std::make_shared<RedisTokenSharing>(redis, prefix, portal, client_id);
    };
  } else if (!config.portal_store.empty()) {
    absl::StatusOr<std::unique_ptr<FilePortalRegistry>> files =
        FilePortalRegistry::Open(config.portal_store);
    if (!files.ok()) return files.status();
    parts.registry = std::move(*files);
  }
  return parts;
}

std::unique_ptr<ServerMetrics> MakeMetrics(const ServerConfig& config) {
  if (config.metrics_listen.empty()) return nullptr;
  auto m = std::make_unique<ServerMetrics>();
  std::vector<std::string> configured;
  for (const PortalOptions& p : config.portals) configured.push_back(p.name);
  m->portal = std::make_unique<PortalMetrics>(*m->registry, 200, configured, config.metrics_portals);
  m->grpc = std::make_unique<GrpcMetrics>(*m->registry);
  m->auth = std::make_unique<AuthMetrics>(*m->registry, AccessControl::FailureReasons(),
                                          AccessControl::ClientNames(config.clients));
  if (config.tls.enabled()) m->tls = std::make_unique<TlsMetrics>(*m->registry);
  m->files = std::make_unique<FileMetrics>(*m->registry, configured);
  return m;
}

}  // namespace

Server::Server(const ServerConfig& config, Clock* clock, LogSink* log)
    : config_(config),
      clock_(clock),
      stderr_sink_(log == nullptr ? std::make_unique<FdLogSink>(STDERR_FILENO) : nullptr),
      logger_(config.log, log != nullptr ? log : stderr_sink_.get()) {
  for (const std::string& secret : SecretsOf(config_)) logger_.AddSecret(secret);
}

absl::StatusOr<std::unique_ptr<Server>> Server::Start(const ServerConfig& config, Clock* clock,
                                                      ServerParts parts) {
  // Both addresses first: a busy port is start-up input, reported before
  // anything is logged.
  B24GATE_RETURN_IF_ERROR(CheckAddressFree(config.listen, "listen"));
  if (!config.metrics_listen.empty()) {
    B24GATE_RETURN_IF_ERROR(CheckAddressFree(config.metrics_listen, "metrics-listen"));
  }
  if (!config.events_listen.empty()) {
    B24GATE_RETURN_IF_ERROR(CheckAddressFree(config.events_listen, "events-listen"));
  }
  std::unique_ptr<Server> server(new Server(config, clock, parts.log));
  server->metrics_ = MakeMetrics(config);
  if (config.tls.enabled()) {
    absl::StatusOr<std::unique_ptr<ServerTls>> tls = ServerTls::Start(
        config.tls, &server->logger_, server->metrics_ ? server->metrics_->tls.get() : nullptr);
    if (!tls.ok()) return absl::InvalidArgumentError(tls.status().message());
    server->tls_ = std::move(*tls);
  }
  if (!parts.transport) {
    CurlTransportOptions options;
    options.keep_warm_for = config.keep_warm_for;
    auto curl = std::make_unique<CurlTransport>(std::move(options));
    server->curl_transport_ = curl.get();
    parts.transport = std::move(curl);
  }
  B24GATE_RETURN_IF_ERROR(server->Wire(std::move(parts.transport)));
  server->PreconnectPortals();
  // Before serving, not on the first call's path.
  WarmMessageTypes(ServedServiceNames());
  B24GATE_RETURN_IF_ERROR(server->ServeMetrics());
  B24GATE_RETURN_IF_ERROR(server->ServeGrpc());
  server->LogServing();
  return server;
}

absl::Status Server::Wire(std::unique_ptr<HttpTransport> transport) {
  LogPortals(config_, logger_);
  log_observer_ = std::make_unique<LogObserver>(&logger_);
  observer_ = std::make_unique<ObserverFanout>(std::vector<PortalObserver*>{
      metrics_ ? metrics_->portal.get() : nullptr, log_observer_.get()});
  access_ = std::make_unique<AccessControl>(config_.clients, metrics_ ? metrics_->auth.get() : nullptr);
  logger_.Log(LogLevel::kInfo,
              access_->enabled() ? "client authentication on" : "client authentication off",
              {{"clients", config_.clients.size()}});
  GatewayOptions gateway_options = config_.gateway;
  gateway_options.dispatch_warm_bytes = kDispatchWarmBytes;
  if (access_->enabled()) {
    gateway_options.authorize = [access = access_.get()](const std::string& client,
                                                         const std::string& portal,
                                                         const std::string& method) {
      return access->AuthorizeCommand(client, portal, method);
    };
  }
  std::vector<PortalOptions> portals = config_.portals;
  // What a portal registered at run time starts from.
  PortalOptions base;
  base.fair_share = FairShareOf(config_);
  for (PortalOptions& portal : portals) portal.fair_share = base.fair_share;
  if (config_.redis.enabled()) {
    std::shared_ptr<BudgetSharing> sharing = ShareBudgets(config_.redis, clock_, logger_);
    for (PortalOptions& portal : portals) portal.sharing = sharing;
    base.sharing = sharing;
    ShareOAuthTokens(config_.redis, clock_, &portals);
  }
  absl::StatusOr<RegistryParts> registry = MakeRegistry(config_, base, clock_);
  if (!registry.ok()) return absl::InvalidArgumentError(registry.status().message());
  registry->options.on_load_retry = [this](const absl::Status& error, absl::Duration wait) {
    logger_.Log(LogLevel::kWarn, "portal registry not answering at start-up; trying again",
                {{"error", std::string(error.message())},
                 {"retry_in_ms", absl::ToInt64Milliseconds(wait)}});
  };
  const std::string store = registry->registry ? registry->registry->Describe() : "memory";
  gateway_ = std::make_unique<Gateway>(portals, std::move(transport), clock_, observer_.get(),
                                       gateway_options, MakeReadCache(config_, clock_, logger_),
                                       std::move(*registry));
  if (absl::Status s = gateway_->directory().Load(); !s.ok()) {
    return absl::InvalidArgumentError(s.message());
  }
  logger_.Log(LogLevel::kInfo, "portal registry",
              {{"store", store},
               {"portals", static_cast<int64_t>(gateway_->directory().size())},
               {"application", config_.application.client_id}});
  service_ = std::make_unique<GatewayService>(gateway_.get(), access_.get());
  B24GATE_RETURN_IF_ERROR(WireEvents());
  admin_ = std::make_unique<AdminService>(gateway_.get(), access_.get(),
                                          AdminService::Events{event_bindings_.get(), event_ledger_.get(), redis_lag_.get()},
                                          blocking_.get());
  file_transport_ = std::make_unique<StreamTransport>(clock_);
  files_ = std::make_unique<FileGateway>(
      gateway_.get(), file_transport_.get(),
      FileGatewayOptions{config_.max_file_size, config_.file_stall_timeout});
  // The uploads' first-message bound shares the events' timer thread.
  files_service_ = std::make_unique<FilesService>(
      files_.get(), access_.get(), metrics_ ? metrics_->files.get() : nullptr,
      FilesServiceOptions{poll_timer_.get(), config_.file_stall_timeout});
  return absl::OkStatus();
}

absl::StatusOr<std::unique_ptr<OnlineEventStore>> Server::OpenEventsLog(const std::string& dir,
                                                                        const std::string& id_prefix) {
  EventLog::Options log;
  log.dir = dir;
  log.max_bytes = config_.events_log_max_bytes;
  log.max_age = config_.events_log_max_age;
  OnlineEventHub::Options options;
  options.visibility_timeout = config_.events_visibility_timeout;
  options.id_prefix = id_prefix;
  absl::StatusOr<std::unique_ptr<OnlineEventHub>> hub = OnlineEventHub::Open(
      event_ledger_.get(), clock_,
      [timer = event_timer_.get()](absl::Duration delay, std::function<void()> fire) {
        timer->After(delay, std::move(fire));
      },
      log, options,
      [logger = &logger_, id_prefix](int64_t deliveries, int64_t seq, const std::string& why) {
        logger->Log(LogLevel::kWarn, "events log dropped unacknowledged events",
                    {{"source", id_prefix}, {"deliveries", deliveries}, {"through_seq", seq}, {"reason", why}});
      });
  if (!hub.ok()) {
    return absl::Status(hub.status().code(), absl::StrCat("--events-log: ", hub.status().message()));
  }
  return std::unique_ptr<OnlineEventStore>(*std::move(hub));
}

// Every replica stores the posts (and the offline rows) it takes in Redis
// and serves any consumer from there. The commands get at least a second: a
// slow answer costs a post's latency, a timeout a 503 and a resend.
std::unique_ptr<OnlineEventStore> Server::OpenEventStreams(const std::string& key_prefix) {
  RedisEventHub::Options options;
  options.redis = SharedBudgetOptionsOf(config_.redis).redis;
  options.redis.command_timeout = std::max(options.redis.command_timeout, absl::Seconds(1));
  options.key_prefix = key_prefix;
  options.visibility_timeout = config_.events_visibility_timeout;
  options.max_len = config_.events_stream_max_len;
  options.max_age = config_.events_log_max_age;
  logger_.Log(LogLevel::kInfo, "events in Redis Streams",
              {{"redis", RedisUrlOf(options.redis.address)}, {"key_prefix", options.key_prefix}});
  return std::make_unique<RedisEventHub>(
      event_ledger_.get(), clock_, options,
      [logger = &logger_](const std::string& portal, int64_t deliveries, const std::string& why) {
        logger->Log(LogLevel::kWarn, "events stream dropped unacknowledged events",
                    {{"portal", portal}, {"deliveries", deliveries}, {"reason", why}});
      });
}

// The online store with the inbound endpoint only (its failure stops the
// start); the offline store always, but a gateway that cannot open it
// serves everything else and refuses offline streams.
absl::Status Server::OpenEventStores() {
  event_timer_ = std::make_unique<PollTimer>(clock_);
  if (config_.redis.enabled()) {
    if (!config_.events_listen.empty()) {
      online_hub_ = OpenEventStreams(config_.redis.key_prefix);
      // GetEventStatus's lag of the online groups, as Redis has them: every
      // replica's.
      redis_lag_ = std::make_unique<RedisEventLag>(SharedBudgetOptionsOf(config_.redis).redis,
                                                   config_.redis.key_prefix, clock_);
    }
    offline_hub_ = OpenEventStreams(absl::StrCat(config_.redis.key_prefix, "offline:"));
    return absl::OkStatus();
  }
  if (!config_.events_listen.empty()) {
    absl::StatusOr<std::unique_ptr<OnlineEventStore>> online = OpenEventsLog(config_.events_log, "online");
    if (!online.ok()) return online.status();
    online_hub_ = *std::move(online);
  } else if (mkdir(config_.events_log.c_str(), 0700) != 0 && errno != EEXIST) {
    logger_.Log(LogLevel::kWarn, "offline events off: cannot make the events log directory",
                {{"dir", config_.events_log}, {"error", std::strerror(errno)}});
    return absl::OkStatus();
  }
  absl::StatusOr<std::unique_ptr<OnlineEventStore>> offline =
      OpenEventsLog(absl::StrCat(config_.events_log, "/offline"), "offline");
  if (!offline.ok()) {
    logger_.Log(LogLevel::kWarn, "offline events off: cannot open their events log",
                {{"error", std::string(offline.status().message())}});
    return absl::OkStatus();
  }
  offline_hub_ = *std::move(offline);
  return absl::OkStatus();
}

absl::Status Server::WireEvents() {
  event_ledger_ = std::make_unique<EventLedger>(clock_);
  poll_timer_ = std::make_unique<PollTimer>(clock_);
  blocking_ = std::make_unique<BlockingPool>(BlockingPool::Options{});
  EventService::Options options;
  options.blocking = blocking_.get();
  options.poll_interval = config_.events_poll_interval;
  options.on_source_failed = [logger = &logger_](const std::string& portal, const absl::Status& status) {
    logger->Log(LogLevel::kWarn, "offline events: a read of the portal's queue failed",
                {{"portal", portal}, {"error", std::string(status.message())}});
  };
  B24GATE_RETURN_IF_ERROR(OpenEventStores());
  if (!config_.events_listen.empty()) {
    inbound_ = std::make_unique<InboundEndpoint>(InboundPostLimits{});
    absl::StatusOr<int> port = inbound_->Bind(config_.events_listen);
    if (!port.ok()) return port.status();
    events_port_ = *port;
    options.inbound_url = config_.events_public_url.empty()
                              ? absl::StrCat("http://", HostOf(config_.events_listen), ":", events_port_)
                              : config_.events_public_url;
    while (!options.inbound_url.empty() && options.inbound_url.back() == '/') options.inbound_url.pop_back();
  }
  events_ = std::make_unique<EventService>(gateway_.get(), access_.get(), event_ledger_.get(),
                                           poll_timer_.get(), online_hub_.get(), offline_hub_.get(), options);
  // Each portal's offline source, reading while the store has its groups.
  for (const PortalOptions& portal : config_.portals) events_->PollNow(portal.name);
  if (inbound_) {
    inbound_events_ = std::make_unique<InboundEvents>(gateway_.get(), online_hub_.get(), events_.get(),
                                                      event_ledger_.get(), &logger_);
    // The application's install events register portals with its OAuth client.
    if (config_.application.enabled()) {
      app_install_ = std::make_unique<AppInstall>(gateway_.get(), event_ledger_.get(), &logger_);
    }
    inbound_->Serve(inbound_events_.get(), app_install_.get());
  }
  event_bindings_ = std::make_unique<EventBindings>(&logger_, clock_, poll_timer_.get());
  event_bindings_->Start(gateway_.get(), config_.portals,
                         [events = events_.get()](const std::string& portal) { return events->HandlerUrl(portal); });
  return absl::OkStatus();
}

// GET /metrics; the gauges read the gateway's portals per scrape.
absl::Status Server::ServeMetrics() {
  if (!metrics_) return absl::OkStatus();
  ServerMetrics& m = *metrics_;
  m.gauges = std::make_shared<PortalGauges>(
      [gateway = gateway_.get()] { return gateway->portals(); },
      [metrics = m.portal.get()](const std::string& portal) { return metrics->PortalLabel(portal); });
  try {
    // CivetWeb's Exposer throws when it cannot bind.
    m.exposer = std::make_unique<prometheus::Exposer>(config_.metrics_listen);
  } catch (const std::exception& e) {
    // Rarely here: CheckAddressFree saw the address free a moment ago.
    return absl::InvalidArgumentError(
        absl::StrCat("metrics-listen \"", config_.metrics_listen, "\": cannot serve metrics: ", e.what()));
  }
  m.exposer->RegisterCollectable(m.registry);
  m.exposer->RegisterCollectable(m.gauges);
  m.events = std::make_shared<EventMetrics>(
      event_ledger_.get(), std::vector<const OnlineEventStore*>{online_hub_.get(), offline_hub_.get()});
  m.exposer->RegisterCollectable(m.events);
  if (gateway_->cache() != nullptr) {
    m.cache = std::make_shared<CacheMetrics>(gateway_->cache());
    m.exposer->RegisterCollectable(m.cache);
  }
  if (curl_transport_ != nullptr) {
    m.transport = std::make_shared<TransportMetrics>(curl_transport_);
    m.exposer->RegisterCollectable(m.transport);
  }
  std::vector<int> ports = m.exposer->GetListeningPorts();
  metrics_port_ = ports.empty() ? 0 : ports.front();
  return absl::OkStatus();
}

absl::Status Server::ServeGrpc() {
  grpc::EnableDefaultHealthCheckService(true);
  // gRPC's health service is not built from protobuf C++ code, so reflection
  // finds grpc.health.v1 only if its generated descriptor is linked in; this
  // reference keeps it (buf curl and grpcurl call Health/Check by reflection).
  (void)grpc::health::v1::HealthCheckRequest::descriptor();
  grpc::reflection::InitProtoReflectionServerBuilderPlugin();
  grpc::ServerBuilder builder;
  builder.AddListeningPort(config_.listen,
                           tls_ ? tls_->credentials() : grpc::InsecureServerCredentials(), &port_);
  // Without this a second gateway on the same port starts too and the
  // kernel splits the connections between the two.
  builder.AddChannelArgument(GRPC_ARG_ALLOW_REUSEPORT, 0);
  // What a client may send ahead of what the service has read, per stream:
  // gRPC's bandwidth probe would grow it to many megabytes per stream on a
  // fast link, so concurrent file uploads (FilesService) would be buffered
  // here, not held back by flow control. 2 MiB still fills a 40 MB/s link at
  // 50 ms round trip per stream.
  builder.AddChannelArgument(GRPC_ARG_HTTP2_BDP_PROBE, 0);
  builder.AddChannelArgument(GRPC_ARG_HTTP2_STREAM_LOOKAHEAD_BYTES, kStreamWindowBytes);
  builder.RegisterService(service_.get());
  builder.RegisterService(admin_.get());
  builder.RegisterService(events_.get());
  builder.RegisterService(files_service_.get());
  // Requests are decoded under the input limits (service/wire/); gRPC's own
  // receive limit sits a little above, for the far too large.
  const InputLimits& limits = config_.gateway.limits;
  SetWireLimits({limits.max_depth, limits.max_request_bytes});
  builder.SetMaxReceiveMessageSize(GrpcReceiveLimit(limits));
  std::vector<std::unique_ptr<grpc::experimental::ServerInterceptorFactoryInterface>> interceptors;
  interceptors.push_back(std::make_unique<RpcInterceptorFactory>(
      metrics_ ? metrics_->grpc.get() : nullptr, &logger_, &access_->authenticator(), &live_calls_));
  builder.experimental().SetInterceptorCreators(std::move(interceptors));
  grpc_ = builder.BuildAndStart();
  if (!grpc_ || port_ == 0) {
    return absl::InvalidArgumentError(absl::StrCat("listen \"", config_.listen, "\": cannot listen there"));
  }
  grpc_->GetHealthCheckService()->SetServingStatus(true);
  waker_ = std::make_unique<CallbackQueueWaker>();
  return absl::OkStatus();
}

// The first request to a portal no longer pays the TCP (and TLS) handshake
// and libcurl's first-connection set-up on its own path: about 2 ms of a
// fresh gateway's first read against a local portal, more across a network.
void Server::PreconnectPortals() {
  for (size_t i = 0; i < config_.portals.size() && i < kPreconnectPortals; ++i) {
    absl::StatusOr<std::shared_ptr<Portal>> portal = gateway_->FindPortal(config_.portals[i].name);
    if (portal.ok()) (*portal)->Preconnect();
  }
}

void Server::LogServing() {
  // The first stdout lines are the contract with scripts and tests.
  std::printf("listening on %s:%d\n", HostOf(config_.listen).c_str(), port_);
  if (metrics_) std::printf("metrics on %s:%d\n", HostOf(config_.metrics_listen).c_str(), metrics_port_);
  if (inbound_) std::printf("events on %s:%d\n", HostOf(config_.events_listen).c_str(), events_port_);
  std::fflush(stdout);
  const std::string bound = absl::StrCat(HostOf(config_.listen), ":", port_);
  logger_.Log(LogLevel::kInfo, "serving", {{"listen", bound}, {"tls", tls_ != nullptr}});
  // Validated by LoadConfig; here it only says which mode the gateway is in.
  absl::StatusOr<std::string> exposure = DescribeListenExposure(
      bound, config_.authenticates_clients(), config_.insecure_listen_any);
  logger_.Log(config_.authenticates_clients() || IsLoopbackHost(HostOf(config_.listen))
                  ? LogLevel::kInfo
                  : LogLevel::kWarn,
              exposure.ok() ? *exposure : std::string(exposure.status().message()));
  if (metrics_ && !IsLoopbackHost(HostOf(config_.metrics_listen))) {
    logger_.Log(LogLevel::kWarn, MetricsExposureWarning(config_.metrics_listen));
  }
}

bool Server::AwaitDrained(absl::Time deadline) {
  absl::MutexLock lock(&mu_);
  return clock_->AwaitWithDeadline(&mu_, absl::Condition(&drained_), deadline);
}

bool Server::AwaitAnswered(absl::Time deadline) {
  // gRPC's shutdown ends when every call and connection is closed. A client
  // may keep a reflection stream (buf curl does, while it runs) or an idle
  // connection open, so once every call of the gateway's services is over
  // what is left is cancelled and closed here: nothing on it awaits an
  // answer.
  if (live_calls_.AwaitNone(clock_, deadline)) grpc_server_cancel_all_calls(grpc_->c_server());
  return AwaitDrained(deadline);
}

// How long a drained gateway waits before it exits (see Drain).
constexpr absl::Duration kAnswerLinger = absl::Milliseconds(200);

bool Server::Drain(absl::Duration predrain) {
  grpc_->GetHealthCheckService()->SetServingStatus(false);
  logger_.Log(LogLevel::kInfo, "shutting down",
              {{"predrain_delay_ms", absl::ToDoubleMilliseconds(predrain)},
               {"shutdown_grace_ms", absl::ToDoubleMilliseconds(config_.shutdown_grace)}});
  {
    // Still serving; CutShort() ends the wait.
    absl::MutexLock lock(&mu_);
    clock_->AwaitWithDeadline(&mu_, absl::Condition(&cut_short_), clock_->Now() + predrain);
  }
  const absl::Duration grace = config_.shutdown_grace;
  const absl::Time deadline = clock_->Now() + grace;
  // At its deadline gRPC cancels whatever is left, without our per-item
  // answers; so in-flight commands are answered a little before it, leaving
  // time for the answers to reach the clients. gRPC's deadline is in real
  // time whatever `clock_` is: the same length from now.
  const absl::Time answer_by = deadline - std::min(grace / 4, absl::Seconds(1));
  stop_ = std::thread([this, grpc_deadline = absl::Now() + grace] {
    grpc_->Shutdown(absl::ToChronoTime(grpc_deadline));  // refuses new calls at once
    grpc_->Wait();
    absl::MutexLock lock(&mu_);
    drained_ = true;
  });
  // Subscription streams never end on their own: end them now (their
  // unacknowledged events stay in the stores) so they do not hold
  // the drain until the grace runs out.
  events_->Shutdown();
  event_bindings_->Shutdown();
  gateway_->BeginShutdown();
  if (!AwaitAnswered(answer_by)) {
    logger_.Log(LogLevel::kWarn, "grace period nearly over: answering calls still waiting for the "
                                 "portal with OUTCOME_UNKNOWN");
    gateway_->AbandonInFlight();
  }
  bool done = AwaitAnswered(deadline + absl::Seconds(1));
  bool upstream_left = false;
  for (const auto& portal : gateway_->portals()) upstream_left = upstream_left || portal->Stats().in_flight > 0;
  // The last answers were handed to the kernel a moment ago. A client that
  // has not read them when the process exits loses them: the exit closes the
  // connection with the client's last frames unread, the kernel answers with
  // a reset, and the client's kernel drops what it had not read yet (seen as
  // "Broken pipe" by a GetById answered OK 1 ms before the exit). The
  // OUTCOME_UNKNOWN answers given while upstream requests are left need it
  // most.
  absl::SleepFor(kAnswerLinger);
  if (!done || upstream_left) {
    logger_.Log(LogLevel::kWarn, "exiting with upstream requests still in flight");
    return false;
  }
  logger_.Log(LogLevel::kInfo, "stopped");
  return true;
}

void Server::CutShort() {
  absl::MutexLock lock(&mu_);
  cut_short_ = true;
}

void Server::ReloadTls() {
  if (tls_ == nullptr) {
    logger_.Log(LogLevel::kInfo, "SIGHUP: no TLS certificate to reload");
  } else {
    (void)tls_->Reload(/*forced=*/true);  // logged and counted inside
  }
}

Server::~Server() {
  // The metrics first: a scrape reads the gateway's portals. The listener is
  // left open rather than stopped: civetweb's stop waits for its listener's
  // poll, which wakes every 2 s, and an idle gateway took that long to exit
  // after SIGINT. A scrape now gets no series; the process's exit closes it.
  if (metrics_ && metrics_->exposer) {
    for (const std::shared_ptr<prometheus::Collectable>& c :
         std::vector<std::shared_ptr<prometheus::Collectable>>{metrics_->registry, metrics_->gauges,
                                                               metrics_->cache, metrics_->events,
                                                               metrics_->transport}) {
      if (c) metrics_->exposer->RemoveCollectable(c);
    }
    (void)metrics_->exposer.release();
  }
  // The binding passes' timer (poll_timer_) goes before them.
  if (event_bindings_) event_bindings_->Shutdown();
  if (grpc_ && !stop_.joinable()) {
    grpc_->Shutdown();
    grpc_->Wait();
  }
  if (stop_.joinable()) stop_.join();
}

}  // namespace b24gate
