// The gateway as one object: Start() wires the configured parts (logger,
// metrics, TLS, the portals and their gateway, the gRPC services) and binds
// the ports; Drain() is the shutdown sequence (README "Shutdown"). main only
// parses the configuration, starts a Server, waits for a signal and drains
// it, so tests start and drain a Server on a FakeClock.
//
// Drain: health turns NOT_SERVING at once; the listener keeps accepting for
// the pre-drain delay (load balancers take the endpoint out meanwhile), which
// CutShort() ends early; then new calls are refused, queued commands are
// answered NOT_EXECUTED, requests on the wire get until shortly before the
// grace deadline, and what is left is answered OUTCOME_UNKNOWN.
//
// Thread-safety: Start, Drain and the destructor run on one thread;
// CutShort() and ReloadTls() may be called from any thread meanwhile.
#ifndef B24GATE_SERVICE_SERVER_H_
#define B24GATE_SERVICE_SERVER_H_

#include <memory>
#include <thread>

#include <grpcpp/grpcpp.h>

#include "absl/base/thread_annotations.h"
#include "absl/status/statusor.h"
#include "absl/synchronization/mutex.h"
#include "absl/time/time.h"
#include "engine/common/clock.h"
#include "engine/files/file_gateway.h"
#include "engine/files/stream_transport.h"
#include "engine/gateway/gateway.h"
#include "engine/http/curl_transport.h"
#include "engine/http/http_transport.h"
#include "service/admin_service.h"
#include "service/auth/access_control.h"
#include "service/callback_queue_waker.h"
#include "service/config.h"
#include "service/event_bindings.h"
#include "service/event_service.h"
#include "service/files_service.h"
#include "service/gateway_service.h"
#include "service/inbound_endpoint.h"
#include "service/inbound_events.h"
#include "service/live_calls.h"
#include "service/logging/log_observer.h"
#include "service/logging/log_sink.h"
#include "service/logging/logger.h"
#include "service/observer_fanout.h"
#include "service/tls/server_tls.h"

namespace b24gate {

struct ServerMetrics;  // server.cc

// What tests replace in a Server; the defaults are the real ones.
struct ServerParts {
  std::unique_ptr<HttpTransport> transport;  // null: libcurl
  LogSink* log = nullptr;                    // null: stderr; must outlive the Server
};

class Server {
 public:

  // Starts serving `config` (validated by LoadConfig). `clock` must outlive
  // the Server. INVALID_ARGUMENT for start-up input that only shows now (TLS
  // files, an address in use): main prints it as one line and exits 2; it
  // is returned before anything is logged.
  static absl::StatusOr<std::unique_ptr<Server>> Start(const ServerConfig& config, Clock* clock,
                                                       ServerParts parts = {});
  ~Server();

  int port() const { return port_; }                  // the bound gRPC port
  int metrics_port() const { return metrics_port_; }  // 0: metrics off
  int events_port() const { return events_port_; }    // 0: inbound endpoint off

  // The sequence above. `predrain` is the pre-drain delay (main passes 0
  // for SIGINT). Returns true when every accepted call has its answer and no
  // request is left on the wire; false when requests to a portal are still
  // in flight after the grace (their callers were answered; nothing is left
  // to save, so main exits at once). REQUIRES: called once.
  bool Drain(absl::Duration predrain);

  // Ends the pre-drain wait now (a second signal).
  void CutShort();

  // Re-reads the TLS certificate files (SIGHUP); logged and counted inside.
  void ReloadTls();

 private:
  Server(const ServerConfig& config, Clock* clock, LogSink* log);
  absl::Status Wire(std::unique_ptr<HttpTransport> transport);
  absl::Status ServeMetrics();
  // The event subscriptions, the start-up binding passes and, with
  // --events-listen, the inbound endpoint.
  absl::Status WireEvents();
  // Where online and offline events wait: on-disk logs (--events-log DIR
  // and DIR/offline), or Redis Streams with --redis.
  absl::Status OpenEventStores();
  absl::StatusOr<std::unique_ptr<OnlineEventStore>> OpenEventsLog(const std::string& dir,
                                                                  const std::string& id_prefix);
  std::unique_ptr<OnlineEventStore> OpenEventStreams(const std::string& key_prefix);
  absl::Status ServeGrpc();
  void LogServing();
  // Opens a connection to each of the first few configured portals.
  void PreconnectPortals();
  // Waits until the gRPC server has drained or the clock reaches `deadline`.
  bool AwaitDrained(absl::Time deadline);
  // The same, but once every call of the gateway's services is over, the
  // calls (reflection, health) and connections still open are closed (gRPC
  // would wait for their clients until its deadline).
  bool AwaitAnswered(absl::Time deadline);

  const ServerConfig config_;
  Clock* const clock_;
  const std::unique_ptr<LogSink> stderr_sink_;  // when no sink was given
  Logger logger_;
  // Declared in the order they are built, so they are destroyed in reverse.
  std::unique_ptr<ServerMetrics> metrics_;
  std::unique_ptr<ServerTls> tls_;
  std::unique_ptr<LogObserver> log_observer_;
  std::unique_ptr<ObserverFanout> observer_;
  std::unique_ptr<AccessControl> access_;
  // What event subscriptions delivered: it outlives the gateway, whose
  // last callbacks may still count.
  std::unique_ptr<EventLedger> event_ledger_;
  // The visibility timeouts of online events: it outlives the hub, which
  // sets it from any of its calls.
  std::unique_ptr<PollTimer> event_timer_;
  // Online events accepted and not yet acknowledged; it outlives the
  // gateway too, whose last callbacks may still end an online stream.
  std::unique_ptr<OnlineEventStore> online_hub_;  // with the inbound endpoint only
  std::unique_ptr<RedisEventLag> redis_lag_;      // with it and --redis only
  // The rows the offline sources read; null when it could not be opened.
  std::unique_ptr<OnlineEventStore> offline_hub_;
  // Binding management: it outlives the gateway, whose last callbacks may
  // still finish a pass, and the timer it starts passes from.
  std::unique_ptr<EventBindings> event_bindings_;
  std::unique_ptr<Gateway> gateway_;
  // The gateway's transport when it is the libcurl one (its counts are
  // exported); owned by the gateway.
  CurlTransport* curl_transport_ = nullptr;
  std::unique_ptr<GatewayService> service_;
  std::unique_ptr<AdminService> admin_;
  // The one timer thread between event polls, and of the uploads' wait for
  // their first message: it goes before the gateway its callbacks call.
  std::unique_ptr<PollTimer> poll_timer_;
  // Blocking work (offline rows stored, Redis read for GetEventStatus, the
  // admin calls' registry writes) off the threads every portal shares. Its
  // jobs use the timer, the gateway, the admin service and the stores, so
  // it goes (running what is queued) before them.
  std::unique_ptr<BlockingPool> blocking_;
  std::unique_ptr<EventService> events_;
  // The inbound endpoint goes before what it hands posts to.
  std::unique_ptr<InboundEvents> inbound_events_;
  std::unique_ptr<AppInstall> app_install_;  // null: no application configured
  std::unique_ptr<InboundEndpoint> inbound_;
  std::unique_ptr<StreamTransport> file_transport_;
  std::unique_ptr<FileGateway> files_;
  std::unique_ptr<FilesService> files_service_;
  // The gateway's services' calls from arrival until gRPC destroys them (the
  // interceptor counts).
  LiveCalls live_calls_;
  std::unique_ptr<grpc::Server> grpc_;
  // Keeps gRPC's callback threads polling while no call comes (see its
  // header): without it a call after an idle second could wait 100 ms.
  std::unique_ptr<CallbackQueueWaker> waker_;
  int port_ = 0;
  int metrics_port_ = 0;
  int events_port_ = 0;
  std::thread stop_;  // runs the gRPC server's Shutdown and Wait

  absl::Mutex mu_;
  bool cut_short_ ABSL_GUARDED_BY(mu_) = false;
  bool drained_ ABSL_GUARDED_BY(mu_) = false;
};

}  // namespace b24gate

#endif  // B24GATE_SERVICE_SERVER_H_
