#include "service/inbound_endpoint.h"

#include <httplib.h>

#include <optional>
#include <utility>

#include "absl/strings/match.h"
#include "absl/strings/numbers.h"
#include "absl/strings/str_cat.h"

namespace b24gate {

InboundEndpoint::InboundEndpoint(const InboundPostLimits& limits)
    : server_(std::make_unique<httplib::Server>()) {
  server_->new_task_queue = [] { return new httplib::ThreadPool(kWorkers); };
  // A body over the limit is refused with 413 (one whose Content-Length
  // says so, unread).
  server_->set_payload_max_length(limits.max_bytes);
  server_->set_read_timeout(kIoTimeoutSeconds, 0);
  server_->set_write_timeout(kIoTimeoutSeconds, 0);
  server_->set_keep_alive_timeout(kIoTimeoutSeconds);
}

namespace {

// A post's body as it arrived.
struct Body {
  std::string text;
  bool whole = false;      // read to its end
  bool too_large = false;  // more than the limit, declared or sent
};

// Reads the body, whatever its type, keeping at most `limit` bytes of it
// however it is sent (chunked, or inflating from a Content-Encoding), not
// relying on what httplib's own payload limit covers. A multipart body is
// read with httplib's multipart reader (its plain one cannot take one).
Body ReadBody(const httplib::Request& req, const httplib::Response& res, const httplib::ContentReader& read,
              size_t limit) {
  Body body;
  auto keep = [&body, limit](const char* data, size_t n) {
    if (n > limit - body.text.size()) {
      body.too_large = true;
      return false;
    }
    body.text.append(data, n);
    return true;
  };
  body.whole = req.is_multipart_form_data()
                   ? read([](const httplib::MultipartFormData&) { return true; }, keep)
                   : read(keep);
  // httplib answers 413 itself for a declared length over the limit.
  body.too_large = body.too_large || res.status == 413;
  return body;
}

void Answer(const InboundEvents::Reply& reply, httplib::Response& res) {
  res.status = reply.http_status;
  res.set_content(reply.body, "text/plain");
}

// The body of a post if it is a whole form within the limit; otherwise the
// post is refused here and counted. The body is read before anything is
// decided, so that no rest of it is taken for the next request on the
// connection; one that could not be read whole closes the connection.
std::optional<std::string> FormBody(const httplib::Request& req, const httplib::ContentReader& read,
                                    size_t limit, InboundEvents* events, httplib::Response& res) {
  Body body = ReadBody(req, res, read, limit);
  if (!body.whole) res.set_header("Connection", "close");
  if (body.too_large) {
    Answer(events->Refused(413, "too_large", absl::StrCat("the body is over ", limit, " bytes")), res);
  } else if (!absl::StartsWith(req.get_header_value("Content-Type"), "application/x-www-form-urlencoded")) {
    Answer(events->Refused(415, "malformed", "the body must be application/x-www-form-urlencoded"), res);
  } else if (!body.whole) {
    Answer(events->Refused(400, "truncated", "the body ended before its Content-Length or last chunk"), res);
  } else {
    return std::move(body.text);
  }
  return std::nullopt;
}

}  // namespace

void InboundEndpoint::Serve(InboundEvents* events, AppInstall* install) {
  const size_t limit = events->limits().max_bytes;
  server_->Post(R"(/events/([A-Za-z0-9_.-]{1,64}))",
                [events, limit](const httplib::Request& req, httplib::Response& res,
                                const httplib::ContentReader& read) {
                  std::optional<std::string> body = FormBody(req, read, limit, events, res);
                  if (body) Answer(events->Handle(req.matches[1], *body), res);
                });
  if (install != nullptr) {
    server_->Post("/app", [events, install, limit](const httplib::Request& req, httplib::Response& res,
                                                   const httplib::ContentReader& read) {
      std::optional<std::string> body = FormBody(req, read, limit, events, res);
      if (body) Answer(install->Handle(*body), res);
    });
  }
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
