#include "service/inbound_endpoint.h"

#include <httplib.h>

#include "absl/strings/match.h"
#include "absl/strings/numbers.h"
#include "absl/strings/str_cat.h"

namespace b24gate {

InboundEndpoint::InboundEndpoint(const InboundPostLimits& limits)
    : server_(std::make_unique<httplib::Server>()) {
  server_->new_task_queue = [] { return new httplib::ThreadPool(kWorkers); };
  server_->set_payload_max_length(limits.max_bytes);
  server_->set_read_timeout(kIoTimeoutSeconds, 0);
  server_->set_write_timeout(kIoTimeoutSeconds, 0);
  server_->set_keep_alive_timeout(kIoTimeoutSeconds);
}

namespace {

// The form body, or the refusal of any other content type.
bool IsForm(const httplib::Request& req, InboundEvents* events, httplib::Response& res) {
  if (absl::StartsWith(req.get_header_value("Content-Type"), "application/x-www-form-urlencoded")) {
    return true;
  }
  events->CountRefused("malformed");
  res.status = 415;
  res.set_content("refused: the body must be application/x-www-form-urlencoded", "text/plain");
  return false;
}

void Answer(const InboundEvents::Reply& reply, httplib::Response& res) {
  res.status = reply.http_status;
  res.set_content(reply.body, "text/plain");
}

}  // namespace

void InboundEndpoint::Serve(InboundEvents* events, AppInstall* install) {
  server_->Post(R"(/events/([A-Za-z0-9_.-]{1,64}))",
                [events](const httplib::Request& req, httplib::Response& res) {
                  if (IsForm(req, events, res)) Answer(events->Handle(req.matches[1], req.body), res);
                });
  if (install != nullptr) {
    server_->Post("/app", [events, install](const httplib::Request& req, httplib::Response& res) {
      if (IsForm(req, events, res)) Answer(install->Handle(req.body), res);
    });
  }
  // The pool refuses a body over the limit before any handler runs.
  httplib::Server::HandlerWithResponse on_error = [events](const httplib::Request&,
                                                           httplib::Response& res) {
    if (res.status == 413) events->CountRefused("too_large");
    return httplib::Server::HandlerResponse::Unhandled;
  };
  server_->set_error_handler(std::move(on_error));
  thread_ = std::thread([this] { server_->listen_after_bind(); });
}

InboundEndpoint::~InboundEndpoint() { Stop(); }

absl::StatusOr<int> InboundEndpoint::Bind(const std::string& listen) {
  const size_t colon = listen.rfind(':');
  std::string host = listen.substr(0, colon);
  if (host.size() > 2 && host.front() == '[') host = host.substr(1, host.size() - 2);
  int wanted = -1;
  int port = -1;
  if (colon != std::string::npos && absl::SimpleAtoi(listen.substr(colon + 1), &wanted)) {
    port = wanted == 0 ? server_->bind_to_any_port(host) : (server_->bind_to_port(host, wanted) ? wanted : -1);
  }
  if (port <= 0) {
    return absl::InvalidArgumentError(absl::StrCat("events-listen \"", listen, "\": cannot listen there"));
  }
  return port;
}

void InboundEndpoint::Stop() {
  if (!thread_.joinable()) return;
  server_->stop();
  thread_.join();
}

}  // namespace b24gate
