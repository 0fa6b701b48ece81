// b24gate: parses the configuration and runs the gRPC server until SIGTERM or
// SIGINT, then drains: health turns NOT_SERVING, new calls are refused,
// in-flight calls get the grace period, and the process exits 0.
#include <pthread.h>
#include <signal.h>

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

#include "absl/strings/str_cat.h"
#include "absl/synchronization/notification.h"
#include "absl/time/clock.h"
#include "engine/common/clock.h"
#include "engine/http/curl_transport.h"
#include "engine/gateway/gateway.h"
#include "grpc/health/v1/health.pb.h"
#include "service/admin_service.h"
#include "service/config.h"
#include "service/gateway_service.h"

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

absl::StatusOr<ServerConfig> Load(int argc, char** argv) {
  try {
    return LoadConfig(std::vector<std::string>(argv + 1, argv + argc), Environment());
  } catch (const std::exception& e) {
    // nlohmann::json throws on type mismatches in the config file.
    return absl::InvalidArgumentError(absl::StrCat("config: ", e.what()));
  }
}

std::string HostOf(const std::string& listen) {
  size_t colon = listen.rfind(':');
  return colon == std::string::npos ? listen : listen.substr(0, colon);
}

int RunServer(const ServerConfig& config) {
  // Signals are taken by sigwait below, not by whichever thread gets them.
  sigset_t signals;
  sigemptyset(&signals);
  sigaddset(&signals, SIGTERM);
  sigaddset(&signals, SIGINT);
  pthread_sigmask(SIG_BLOCK, &signals, nullptr);

  for (const auto& p : config.portals) {
    std::string endpoint = p.oauth.enabled() ? absl::StrCat(p.oauth.portal_url, " (OAuth app ",
                                                              p.oauth.client_id, ")")
                                             : RedactedWebhook(p.webhook_url);
    std::cerr << "portal " << p.name << ": " << endpoint
              << " burst=" << p.bucket.burst << " drain/s=" << p.bucket.drain_per_second
              << (p.tls.verify ? "" : " TLS verification OFF") << std::endl;
  }
  Gateway gateway(config.portals, std::make_unique<CurlTransport>(), Clock::Real(),
                  PortalObserver::Null(), config.gateway);
  GatewayService service(&gateway);
  AdminService admin(&gateway);

  grpc::EnableDefaultHealthCheckService(true);
  // gRPC's health service is not built from protobuf C++ code, so reflection
  // finds grpc.health.v1 only if its generated descriptor is linked in; this
  // reference keeps it (buf curl and grpcurl call Health/Check by reflection).
  (void)grpc::health::v1::HealthCheckRequest::descriptor();
  grpc::reflection::InitProtoReflectionServerBuilderPlugin();
  grpc::ServerBuilder builder;
  int port = 0;
  builder.AddListeningPort(config.listen, grpc::InsecureServerCredentials(), &port);
  builder.RegisterService(&service);
  builder.RegisterService(&admin);
  std::unique_ptr<grpc::Server> server = builder.BuildAndStart();
  if (!server || port == 0) {
    std::cerr << "b24gate: cannot listen on " << config.listen << std::endl;
    return 1;
  }
  std::printf("listening on %s:%d\n", HostOf(config.listen).c_str(), port);
  std::fflush(stdout);
  server->GetHealthCheckService()->SetServingStatus(true);

  int signal_number = 0;
  sigwait(&signals, &signal_number);
  std::cerr << "b24gate: signal " << signal_number << ", draining for up to "
            << absl::FormatDuration(config.shutdown_grace) << std::endl;
  server->GetHealthCheckService()->SetServingStatus(false);
  // At the deadline gRPC cancels the calls still running, but Shutdown()
  // returns only once their reactors finish, and a reactor waiting for an
  // upstream request finishes when the portal answers (up to
  // request_timeout), long past the grace period. The Gateway's destructor
  // would wait for those requests too. Nothing is left to save (rotated
  // tokens are persisted when they arrive), so after the grace period and a
  // moment for the cancellations to reach the clients, leave without waiting.
  const absl::Time deadline = absl::Now() + config.shutdown_grace;
  absl::Notification drained;
  std::thread drain([&] {
    server->Shutdown(absl::ToChronoTime(deadline));
    server->Wait();
    drained.Notify();
  });
  bool abandon = !drained.WaitForNotificationWithDeadline(deadline + absl::Seconds(1));
  for (Portal* portal : gateway.portals()) abandon = abandon || portal->Stats().in_flight > 0;
  if (abandon) {
    std::cerr << "b24gate: grace period over; abandoning upstream requests still in flight"
              << std::endl;
    std::fflush(nullptr);
    std::_Exit(0);
  }
  drain.join();
  return 0;
}

}  // namespace
}  // namespace b24gate

int main(int argc, char** argv) {
  absl::StatusOr<b24gate::ServerConfig> config = b24gate::Load(argc, argv);
  if (!config.ok()) {
    std::cerr << "b24gate: " << config.status().message() << std::endl;
    return 2;
  }
  if (config->help) {
    std::cout << b24gate::ConfigUsage();
    return 0;
  }
  return b24gate::RunServer(*config);
}
