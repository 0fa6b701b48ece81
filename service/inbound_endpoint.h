// The inbound HTTP endpoint Bitrix24 posts events to (--events-listen):
// POST /events/PORTAL, decided by InboundEvents, and the application's
// install and uninstall events at POST /app (AppInstall). It faces the
// internet, so it runs on InboundServer (service/inbound_server.h): one
// event-loop thread reads every connection, each within a total time for
// its headers and for its body, at most 512 connections at a time, and a
// fixed pool of workers handles the requests that arrived whole. Every
// refusal, of a post or of a connection, is counted through
// InboundEvents::Refused under its reason.
//
// Thread-safety: Bind, Serve and Stop from one thread; requests run on the
// server's threads.
#ifndef B24GATE_SERVICE_INBOUND_ENDPOINT_H_
#define B24GATE_SERVICE_INBOUND_ENDPOINT_H_

#include <string>

#include "absl/status/statusor.h"
#include "service/app_install.h"
#include "service/inbound_events.h"
#include "service/inbound_server.h"

namespace b24gate {

class InboundEndpoint : private InboundServer::Handler {
 public:
  // `limits.max_bytes` bounds the body of every request, whatever its path.
  explicit InboundEndpoint(const InboundPostLimits& limits);
  ~InboundEndpoint() override;  // Stop()

  // Binds `listen` (HOST:PORT, validated); returns the bound port.
  // INVALID_ARGUMENT naming events-listen when it cannot bind.
  absl::StatusOr<int> Bind(const std::string& listen);
  // Serves with `events`, and `install` (null: /app is not served) for
  // POST /app. Both must outlive the endpoint.
  // REQUIRES: Bind() succeeded; called once.
  void Serve(InboundEvents* events, AppInstall* install);
  // Stops accepting, answers the requests already whole.
  void Stop();

 private:
  bool Serves(absl::string_view method, absl::string_view path) const override;
  InboundServer::Reply Handle(const InboundServer::Request& request) override;
  InboundServer::Reply Refused(const HttpRefusal& refusal) override;

  InboundServer server_;
  InboundEvents* events_ = nullptr;
  AppInstall* install_ = nullptr;
};

}  // namespace b24gate

#endif  // B24GATE_SERVICE_INBOUND_ENDPOINT_H_
