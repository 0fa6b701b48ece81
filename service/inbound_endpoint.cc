#include "service/inbound_endpoint.h"

#include <algorithm>

#include "absl/strings/ascii.h"
#include "absl/strings/match.h"
#include "absl/strings/numbers.h"
#include "absl/strings/str_cat.h"

namespace b24gate {
namespace {

constexpr absl::string_view kEventsPrefix = "/events/";

InboundServer::Options ServerOptions(const InboundPostLimits& limits) {
  InboundServer::Options options;
  options.limits.max_body_bytes = limits.max_bytes;
  return options;
}

// The portal a path /events/PORTAL names ("" when it names none): 1 to 64
// of A-Z a-z 0-9 _ . -
absl::string_view PortalOf(absl::string_view path) {
  if (!absl::StartsWith(path, kEventsPrefix)) return "";
  const absl::string_view name = path.substr(kEventsPrefix.size());
  const bool valid = !name.empty() && name.size() <= 64 && std::all_of(name.begin(), name.end(), [](char c) {
    return absl::ascii_isalnum(static_cast<unsigned char>(c)) || c == '_' || c == '.' || c == '-';
  });
  return valid ? name : "";
}

InboundServer::Reply Answer(const InboundEvents::Reply& reply) { return {reply.http_status, reply.body}; }

}  // namespace

InboundEndpoint::InboundEndpoint(const InboundPostLimits& limits) : server_(ServerOptions(limits)) {}

InboundEndpoint::~InboundEndpoint() { Stop(); }

absl::StatusOr<int> InboundEndpoint::Bind(const std::string& listen) {
  const size_t colon = listen.rfind(':');
  std::string host = listen.substr(0, colon);
  if (host.size() > 2 && host.front() == '[') host = host.substr(1, host.size() - 2);
  int wanted = -1;
  absl::StatusOr<int> port = absl::InvalidArgumentError("no port");
  if (colon != std::string::npos && absl::SimpleAtoi(listen.substr(colon + 1), &wanted) && wanted >= 0 &&
      wanted <= 65535) {
    port = server_.Bind(host, wanted);
  }
  if (!port.ok()) {
    return absl::InvalidArgumentError(absl::StrCat("events-listen \"", listen, "\": cannot listen there"));
  }
  return port;
}

void InboundEndpoint::Serve(InboundEvents* events, AppInstall* install) {
  events_ = events;
  install_ = install;
  server_.Serve(this);
}

void InboundEndpoint::Stop() { server_.Stop(); }

bool InboundEndpoint::Serves(absl::string_view method, absl::string_view path) const {
  return method == "POST" && (!PortalOf(path).empty() || (install_ != nullptr && path == "/app"));
}

// The body is whole and within the limit by now (the server refused it
// otherwise): what is left to check before the post is decided is its type.
InboundServer::Reply InboundEndpoint::Handle(const InboundServer::Request& request) {
  if (!absl::StartsWith(request.content_type, "application/x-www-form-urlencoded")) {
    return Answer(events_->Refused(415, "malformed", "the body must be application/x-www-form-urlencoded"));
  }
  if (request.path == "/app") return Answer(install_->Handle(request.body));
  return Answer(events_->Handle(std::string(PortalOf(request.path)), request.body));
}

InboundServer::Reply InboundEndpoint::Refused(const HttpRefusal& refusal) {
  return Answer(events_->Refused(refusal.status, refusal.reason, refusal.why));
}

}  // namespace b24gate
