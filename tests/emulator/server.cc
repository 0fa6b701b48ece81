#include "tests/emulator/server.h"

#include <fcntl.h>
#include <sys/socket.h>
#include <unistd.h>

#include <algorithm>
#include <cstdio>
#include <cstdlib>
#include <string_view>
#include <utility>

#include <httplib.h>

#include "absl/strings/ascii.h"
#include "absl/strings/match.h"
#include "absl/strings/numbers.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/strip.h"
#include "absl/time/clock.h"
#include "absl/time/time.h"
#include "tests/emulator/connection_socket.h"
#include "tests/emulator/php_json.h"
#include "tests/emulator/query_parser.h"
#include "tests/emulator/reply_turns.h"

namespace b24emu {
namespace {

// cpp-httplib (as built by Debian) listens with a backlog of 5, which drops
// SYNs when many clients connect at once; its listening socket is protected,
// so a subclass can raise the backlog after binding.
template <typename Base>
class TunedServer : public Base {
 public:
  using Base::Base;
  void RaiseBacklog(int backlog) { ::listen(this->svr_sock_, backlog); }
};

// Resets the connection without a response: linger 0 makes the close send
// RST, and dup2 closes the socket while leaving cpp-httplib a harmless
// /dev/null descriptor under the same number (no double close, no fd reuse
// race); cpp-httplib's own write then fails and it closes that descriptor.
bool DropConnection(const httplib::Request& req) {
  const int fd = ConnectionSocket(req);
  if (fd < 0) return false;
  linger l{1, 0};
  setsockopt(fd, SOL_SOCKET, SO_LINGER, &l, sizeof(l));
  const int devnull = open("/dev/null", O_RDWR | O_CLOEXEC);
  if (devnull < 0) return false;
  const bool ok = dup2(devnull, fd) >= 0;
  close(devnull);
  return ok;
}

void SplitTarget(const std::string& target, std::string* path, std::string* query) {
  const size_t q = target.find('?');
  *path = target.substr(0, q);
  *query = q == std::string::npos ? "" : target.substr(q + 1);
}

// Serves a stored file's bytes, read in pieces as the client takes them
// (cpp-httplib answers Range requests from the same provider).
void ServeStoredFile(const StoredFile& file, httplib::Response& res) {
  const int fd = ::open(file.path.c_str(), O_RDONLY | O_CLOEXEC);
  if (fd < 0) {
    res.status = 404;
    res.set_content("gone", "text/plain");
    return;
  }
  res.set_header("Content-Disposition", absl::StrCat("attachment; filename=\"", file.name, "\""));
  res.set_content_provider(
      static_cast<size_t>(file.size),
      file.content_type.empty() ? "application/octet-stream" : file.content_type,
      [fd](size_t offset, size_t length, httplib::DataSink& sink) {
        char buffer[64 * 1024];
        const ssize_t n =
            ::pread(fd, buffer, std::min(length, sizeof(buffer)), static_cast<off_t>(offset));
        return n > 0 && sink.write(buffer, static_cast<size_t>(n));
      },
      [fd](bool) { ::close(fd); });
}

// The `cut` fault: reads half of the body (64 KiB when its length is not
// given) and stops, for the caller to drop the connection (DropConnection).
// False when the body ended first (the fault then acts after it).
bool CutWhileReading(const httplib::Request& req, const httplib::ContentReader& reader) {
  const size_t length = static_cast<size_t>(req.get_header_value<uint64_t>("Content-Length"));
  const size_t cut_at = length > 0 ? length / 2 : size_t{64} << 10;
  size_t read = 0;
  auto count = [&](const char*, size_t n) {
    read += n;
    return read < cut_at;
  };
  // A multipart body is only read through the multipart reader (its parts'
  // bytes are what is counted).
  if (req.is_multipart_form_data()) {
    return !reader([](const httplib::MultipartFormData&) { return true; }, count);
  }
  return !reader(count);
}

// A request body counted against ServerOptions::max_request_size. A body
// over it is still read to its end, its bytes dropped: a web server reads on
// before it refuses (nginx too), else the client, still sending, may meet a
// reset instead of the answer.
class BodyLimit {
 public:
  BodyLimit(const httplib::Request& req, int64_t max) : max_(max) {
    const auto declared = static_cast<int64_t>(req.get_header_value<uint64_t>("Content-Length"));
    over_ = max_ > 0 && declared > max_;
  }
  // Counts `n` more bytes: false once the body is over the limit (drop them).
  bool Take(size_t n) {
    read_ += static_cast<int64_t>(n);
    if (max_ > 0 && read_ > max_) over_ = true;
    return !over_;
  }
  bool over() const { return over_; }

 private:
  const int64_t max_;
  int64_t read_ = 0;
  bool over_ = false;
};

// The web server's refusal of a body over the limit (nginx's page: the docs
// name no error of their own; the portal never sees the request).
void SendTooLarge(httplib::Response& res) {
  res.status = 413;
  res.set_content(
      "<html>\r\n<head><title>413 Request Entity Too Large</title></head>\r\n<body>\r\n"
      "<center><h1>413 Request Entity Too Large</h1></center>\r\n<hr><center>nginx</center>\r\n"
      "</body>\r\n</html>\r\n",
      "text/html");
}

// res.set_content without its copy of the body (a list batch's is 170 KB).
void SetBody(httplib::Response& res, std::string body, const std::string& content_type) {
  res.set_content("", 0, content_type);
  res.body = std::move(body);
}

// A REST reply between its handler and cpp-httplib's logger, which runs on
// the same thread once the reply's last byte is written: when it was due,
// and the portal whose stats count it (held alive until then).
struct DueReply {
  const httplib::Request* request = nullptr;
  std::shared_ptr<Portal> portal;
  absl::Time due;
};
thread_local DueReply due_reply;

void SendJson(httplib::Response& res, int status, const nlohmann::json& body) {
  res.status = status;
  res.set_content(body.dump(), "application/json; charset=utf-8");
}

}  // namespace

EmulatorServer::EmulatorServer(ServerOptions options, PortalSet* portals)
    : EmulatorServer(std::move(options), portals->first(), portals) {}

EmulatorServer::EmulatorServer(ServerOptions options, Portal* portal)
    : EmulatorServer(std::move(options), portal, nullptr) {}

EmulatorServer::EmulatorServer(ServerOptions options, Portal* portal, PortalSet* portals)
    : options_(std::move(options)), portal_(portal), portals_(portals) {
  if (tls()) {
    server_ = std::make_unique<TunedServer<httplib::SSLServer>>(options_.tls_cert_file.c_str(),
                                                               options_.tls_key_file.c_str());
  } else {
    server_ = std::make_unique<TunedServer<httplib::Server>>();
  }
  const size_t threads = static_cast<size_t>(options_.threads);
  server_->new_task_queue = [threads] { return new httplib::ThreadPool(threads); };
  server_->set_keep_alive_max_count(static_cast<size_t>(1) << 30);
  server_->set_keep_alive_timeout(options_.keep_alive_timeout_seconds);
  // A request body may pause for up to 60 s between reads, as nginx's
  // client_body_timeout allows in front of a portal (cpp-httplib's own 5 s
  // cut streamed uploads short that wait their turn on a loaded machine).
  server_->set_read_timeout(60, 0);
  server_->set_tcp_nodelay(true);
  // Called once a response is written: a REST reply's lateness, from its
  // due time to its last byte (stats "reply_lateness_max_ms"), and the
  // access log's line (null: none).
  server_->set_logger([this, log = options_.access_log](const httplib::Request& req,
                                                       const httplib::Response& res) {
    if (due_reply.request == &req) {
      due_reply.portal->stats().RecordReplyWritten(options_.clock->Now() - due_reply.due);
      due_reply = DueReply{};
    }
    if (log != nullptr) log->Write(req.method, req.path, res.status, res.body.size());
  });
  InstallHandlers();
}

EmulatorServer::~EmulatorServer() { Stop(); }

std::shared_ptr<Portal> EmulatorServer::Route(const httplib::Request& req) const {
  if (portals_ != nullptr) return portals_->ForHost(req.get_header_value("Host"));
  return std::shared_ptr<Portal>(std::shared_ptr<Portal>(), portal_);  // not owned
}

void EmulatorServer::InstallHandlers() {
  const bool https = tls();
  auto is_https = [https](const httplib::Request& req) {
    return https || absl::EqualsIgnoreCase(req.get_header_value("X-Forwarded-Proto"), "https");
  };

  // REST: the request is read here (not by cpp-httplib's form parser, which
  // sorts fields and caps form bodies at 8 KiB).
  auto rest = [this, is_https](const httplib::Request& req, httplib::Response& res,
                               const httplib::ContentReader* reader) {
    // Working a reply out: the default turns (a held reply's short ones
    // would only multiply this work's switches).
    UseReplyTurns(false);
    const std::shared_ptr<Portal> portal = Route(req);
    Stats& stats = portal->stats();
    stats.Enter();
    RestRequest r;
    r.target = req.target;
    SplitTarget(req.target, &r.path, &r.params.query);
    r.params.content_type = req.get_header_value("Content-Type");
    r.https = is_https(req);
    r.host = req.get_header_value("Host");
    r.http_method = req.method;
    if (req.has_header("Idempotency-Key")) r.idempotency_key = req.get_header_value("Idempotency-Key");
    const std::string authorization = req.get_header_value("Authorization");
    if (absl::string_view bearer = authorization; absl::ConsumePrefix(&bearer, "Bearer ")) {
      r.bearer = std::string(bearer);
    }
    // Long values (a file's base64 in a field) of a classic call go to disk
    // as they arrive (REST 3.0 takes no file values).
    const bool v3 = absl::StartsWith(MergeSlashes(r.path), "/rest/api/");
    BodySpool spool(portal->spool_dir(), v3 ? BodySpool::Encoding::kNone
                                             : BodySpool::EncodingOf(r.params.content_type));
    r.spool = &spool;
    BodyLimit limit(req, options_.max_request_size);
    if (reader != nullptr) {
      r.fault = portal->DrawFault(r.path);
      if (*r.fault == FaultKind::kCut) {
        // Cut inside the body; a body too short for that is cut after it
        // (HandleRest drops the connection).
        if (CutWhileReading(req, *reader) && DropConnection(req)) {
          res.status = 500;  // never reaches the client
          stats.Exit();
          return;
        }
      } else if (req.is_multipart_form_data()) {
        r.params.multipart = true;
        auto& parts = r.params.parts;
        (*reader)(
            [&parts](const httplib::MultipartFormData& file) {
              parts.emplace_back(file.name, "");
              return true;
            },
            [&parts, &limit](const char* data, size_t n) {
              if (limit.Take(n)) parts.back().second.append(data, n);
              return true;
            });
      } else {
        (*reader)([&spool, &limit](const char* data, size_t n) {
          return !limit.Take(n) || spool.Feed(data, n);
        });
        r.params.body = spool.TakeText();
      }
    }
    if (limit.over()) {  // the web server's refusal: the portal never saw it
      stats.CountTooLarge();
      SendTooLarge(res);
      stats.Exit();
      return;
    }
    // The modelled processing time is the portal's whole time on the
    // request, from when its bytes had arrived: the emulator's own work on
    // it, and any wait for a busy thread to read it, are part of it, not
    // added (a portal's front end takes requests in on many machines).
    const absl::Time received = options_.clock->Ago(
        options_.request_age ? options_.request_age(req) : LastDataAge(ConnectionSocket(req)));
    // The portal's run starts there too: a keyed write's answer is kept as
    // finished at received + processing, when it leaves, not later (a
    // repeat sent on the answer would otherwise run again as an overlap).
    r.arrived = received;
    HttpReply reply = portal->HandleRest(r);
    if (reply.delay > absl::ZeroDuration()) {
      // Held until due: short turns, to run as soon as it is (reply_turns.h).
      UseReplyTurns(true);
      options_.clock->WaitUntil(received + reply.delay, stopping_);
    }
    if (reply.drop_connection && DropConnection(req)) {
      res.status = 500;  // never reaches the client
    } else {
      due_reply = DueReply{&req, portal, received + reply.delay};
      res.status = reply.status;
      for (const auto& [name, value] : reply.headers) res.set_header(name, value);
      SetBody(res, std::move(reply.body), reply.content_type);
    }
    stats.Exit();
  };
  // The Drive's byte endpoints, before the REST route that would take
  // them for OAuth methods.
  InstallFileHandlers(is_https);
  // Repeated slashes anywhere (a client that joins "https://host/" and
  // "/rest/..." sends "//rest/..."): the Portal merges them, as nginx does.
  server_->Get("/+rest/.*", [rest](const httplib::Request& req, httplib::Response& res) {
    rest(req, res, nullptr);
  });
  server_->Post("/+rest/.*", [rest](const httplib::Request& req, httplib::Response& res,
                                    const httplib::ContentReader& reader) {
    rest(req, res, &reader);
  });

  auto token = [this, is_https](const httplib::Request& req, httplib::Response& res) {
    HttpParamsSource source;
    std::string path;
    SplitTarget(req.target, &path, &source.query);
    source.content_type = req.get_header_value("Content-Type");
    source.body = req.body;
    absl::StatusOr<nlohmann::ordered_json> params = ParseRequestParams(source);
    if (!params.ok()) params = nlohmann::ordered_json::object();
    std::string url =
        absl::StrCat(is_https(req) ? "https://" : "http://", req.get_header_value("Host"));
    std::shared_ptr<Portal> portal = Route(req);
    // The OAuth server is one host for every portal: a refresh token that
    // did not come to its portal's own host names its portal itself.
    if (portals_ != nullptr && portal.get() == portal_) {
      auto token = params->is_object() ? params->find("refresh_token") : params->end();
      if (token != params->end() && token->is_string()) {
        portal = portals_->ForRefreshToken(token->get<std::string>(), &url);
      }
    }
    HttpReply reply = portal->HandleToken(*params, url);
    res.status = reply.status;
    res.set_content(reply.body, reply.content_type);
  };
  server_->Get("/+oauth/+token/*", token);
  server_->Post("/+oauth/+token/*", token);

  InstallControlHandlers();
  if (portals_ != nullptr) InstallPortalSetHandlers();
}

void EmulatorServer::InstallControlHandlers() {
  server_->Get("/_emulator/stats", [this](const httplib::Request& req, httplib::Response& res) {
    SendJson(res, 200, Route(req)->StatsJson());
  });
  server_->Get("/_emulator/disk/files/([0-9]+)", [this](const httplib::Request& req,
                                                          httplib::Response& res) {
    int64_t id = 0;
    std::optional<nlohmann::json> file;
    if (absl::SimpleAtoi(req.matches[1].str(), &id)) file = Route(req)->InspectFile(id);
    if (!file) return SendJson(res, 404, {{"error", "no such file"}});
    SendJson(res, 200, *file);
  });
  server_->Get("/_emulator/commands", [this](const httplib::Request& req, httplib::Response& res) {
    SendJson(res, 200, Route(req)->stats().CommandsJson());
  });
  server_->Post("/_emulator/reset", [this](const httplib::Request& req, httplib::Response& res) {
    Route(req)->Reset();
    SendJson(res, 200, {{"ok", true}});
  });
  server_->Post("/_emulator/expire-tokens", [this](const httplib::Request& req, httplib::Response& res) {
    Route(req)->ExpireTokens();
    SendJson(res, 200, {{"ok", true}});
  });
  server_->Get("/_emulator/faults", [this](const httplib::Request& req, httplib::Response& res) {
    SendJson(res, 200, {{"spec", Route(req)->DescribeFaults()}});
  });
  server_->Post("/_emulator/faults", [this](const httplib::Request& req, httplib::Response& res) {
    std::string spec = req.body;
    if (absl::StartsWith(absl::StripLeadingAsciiWhitespace(spec), "{")) {
      const nlohmann::json j = nlohmann::json::parse(spec, nullptr, /*allow_exceptions=*/false);
      if (!j.is_object() || !j.contains("spec") || !j["spec"].is_string()) {
        SendJson(res, 400, {{"error", "expected {\"spec\": \"...\"}"}});
        return;
      }
      spec = j["spec"].get<std::string>();
    }
    const std::shared_ptr<Portal> portal = Route(req);
    const absl::Status status = portal->SetFaults(spec);
    if (!status.ok()) {
      SendJson(res, 400, {{"error", std::string(status.message())}});
      return;
    }
    SendJson(res, 200, {{"spec", portal->DescribeFaults()}});
  });
}

void EmulatorServer::InstallPortalSetHandlers() {
  server_->Get("/_emulator/portals", [this](const httplib::Request&, httplib::Response& res) {
    SendJson(res, 200, portals_->List());
  });
  server_->Post("/_emulator/portals", [this](const httplib::Request& req, httplib::Response& res) {
    absl::StatusOr<std::vector<NewPortal>> specs = ParseNewPortals(req.body);
    if (!specs.ok()) return SendJson(res, 400, {{"error", std::string(specs.status().message())}});
    nlohmann::json created = nlohmann::json::array();
    for (const NewPortal& spec : *specs) {
      absl::StatusOr<nlohmann::json> portal = portals_->Create(spec);
      if (!portal.ok()) {
        const int status = portal.status().code() == absl::StatusCode::kAlreadyExists ? 409 : 400;
        return SendJson(res, status, {{"error", std::string(portal.status().message())},
                                      {"created", std::move(created)}});
      }
      created.push_back(std::move(*portal));
    }
    SendJson(res, 200, {{"created", std::move(created)}});
  });
  server_->Delete("/_emulator/portals/([a-z0-9-]+)",
                  [this](const httplib::Request& req, httplib::Response& res) {
    const nlohmann::json body = nlohmann::json::parse(req.body, nullptr, false);
    const bool clean = body.is_object() && body.contains("clean") && body["clean"].is_boolean() &&
                       body["clean"].get<bool>();
    absl::StatusOr<nlohmann::json> removed = portals_->Remove(req.matches[1], clean);
    if (!removed.ok()) return SendJson(res, 404, {{"error", std::string(removed.status().message())}});
    SendJson(res, 200, *removed);
  });
}

void EmulatorServer::InstallFileHandlers(std::function<bool(const httplib::Request&)> is_https) {
  auto file_request = [is_https](const httplib::Request& req) {
    FileRequest r;
    std::string path;
    SplitTarget(req.target, &path, &r.query);
    r.https = is_https(req);
    r.host = req.get_header_value("Host");
    return r;
  };
  auto send = [](httplib::Response& res, const HttpReply& reply) {
    res.status = reply.status;
    res.set_content(reply.body, reply.content_type);
  };
  // Second step of an upload: the multipart part named by the first step's
  // `field` goes straight into a file, piece by piece as it arrives.
  server_->Post("/+rest/+upload\\.json", [this, file_request, send](
                                              const httplib::Request& req, httplib::Response& res,
                                              const httplib::ContentReader& reader) {
    UploadSlot slot;
    DiskCaller caller;
    const std::shared_ptr<Portal> portal = Route(req);
    FaultKind fault = FaultKind::kNone;
    HttpReply reply = portal->OpenUpload(file_request(req), &slot, &caller, &fault);
    if (reply.status != 200) return send(res, reply);
    if (fault == FaultKind::kCut) {
      // Half the body (or all of a short one), then the connection is gone:
      // the form never completed, nothing is filed.
      CutWhileReading(req, reader);
      portal->AbandonUpload(slot);
      DropConnection(req);
      res.status = 500;  // never reaches the client
      return;
    }
    FILE* out = std::fopen(slot.temp_path.c_str(), "wb");
    bool in_field = false;
    bool found = false;
    bool write_failed = out == nullptr;
    int64_t size = 0;
    std::string file_name;
    std::string content_type;
    // A body cut short (the client went away mid-file) leaves an incomplete
    // form, which a portal never files: the reader reports it.
    bool complete = false;
    BodyLimit limit(req, options_.max_request_size);
    if (req.is_multipart_form_data()) {
      complete = reader(
          [&](const httplib::MultipartFormData& part) {
            in_field = !found && part.name == slot.field;
            if (in_field) {
              found = true;
              file_name = part.filename;
              content_type = part.content_type;
            }
            return true;
          },
          [&](const char* data, size_t n) {
            if (!limit.Take(n) || !in_field || write_failed) return true;
            write_failed = std::fwrite(data, 1, n, out) != n;
            size += static_cast<int64_t>(n);
            return true;
          });
    }
    if (out != nullptr) write_failed = std::fclose(out) != 0 || write_failed;
    if (limit.over()) {  // the web server's refusal: nothing is filed
      portal->stats().CountTooLarge();
      portal->AbandonUpload(slot);
      return SendTooLarge(res);
    }
    if (!complete || !found || write_failed) {
      portal->AbandonUpload(slot);
      return send(res, HttpReply{400, "application/json; charset=utf-8",
                                 absl::StrCat("{\"error\":\"ERROR_ARGUMENT\",\"error_description\":"
                                              "\"No file in the form field '", slot.field,
                                              "'\"}")});
    }
    const absl::Time finishing = options_.clock->Now();
    HttpReply done = portal->FinishUpload(slot, size, file_name, content_type, caller, fault);
    if (done.delay > absl::ZeroDuration()) {
      options_.clock->WaitUntil(finishing + done.delay, stopping_);
    }
    if (done.drop_connection && DropConnection(req)) {
      res.status = 500;  // never reaches the client
      return;
    }
    send(res, done);
  });
  // A DOWNLOAD_URL: the file's bytes, read in pieces as the client takes
  // them (cpp-httplib answers Range requests from the same provider).
  server_->Get("/+rest/+download\\.json", [this, file_request, send](const httplib::Request& req,
                                                                  httplib::Response& res) {
    StoredFile file;
    HttpReply reply = Route(req)->OpenDownload(file_request(req), &file);
    if (reply.status != 200) return send(res, reply);
    ServeStoredFile(file, res);
  });
  // An attached object's DOWNLOAD_URL: a redirect to the file's own link.
  server_->Get("/+bitrix/+tools/+disk/+uf\\.php", [this, file_request](const httplib::Request& req,
                                                                     httplib::Response& res) {
    HttpReply reply = Route(req)->OpenAttachedLink(file_request(req));
    res.status = reply.status;
    for (const auto& [name, value] : reply.headers) res.set_header(name, value);
    res.set_content(reply.body, reply.content_type);
  });
  // A file field's download link -- a deal's downloadUrl, an item's
  // urlMachine (on a REST path) -- authorized like a REST call, redirects to
  // the file's own link, which serves the bytes.
  auto file_link = [this, file_request](const CrmFileField& field) {
    return [this, file_request, &field](const httplib::Request& req, httplib::Response& res) {
      HttpReply reply = Route(req)->OpenCrmFileLink(file_request(req), field);
      res.status = reply.status;
      for (const auto& [name, value] : reply.headers) res.set_header(name, value);
      res.set_content(reply.body, reply.content_type);
    };
  };
  server_->Get("/+bitrix/+components/+bitrix/+crm\\.deal\\.show/+show_file\\.php",
               file_link(CrmFiles::kDeal));
  server_->Get("/+rest/+crm\\.controller\\.item\\.getFile\\.json", file_link(CrmFiles::kItem));
  server_->Get("/+upload/+b24emu-crm/+([0-9a-f]+)", [this, send](const httplib::Request& req,
                                                               httplib::Response& res) {
    StoredFile file;
    HttpReply reply = Route(req)->OpenCrmFile(req.matches[1], &file);
    if (reply.status != 200) return send(res, reply);
    ServeStoredFile(file, res);
  });
}

absl::StatusOr<int> EmulatorServer::Bind() {
  if (!server_->is_valid()) {
    return absl::InvalidArgumentError("cannot load the TLS certificate or key");
  }
  int port = options_.port;
  if (port == 0) {
    port = server_->bind_to_any_port(options_.host);
    if (port < 0) return absl::UnavailableError(absl::StrCat("cannot bind ", options_.host));
  } else if (!server_->bind_to_port(options_.host, port)) {
    return absl::UnavailableError(absl::StrCat("cannot bind ", options_.host, ":", port));
  }
  if (tls()) {
    static_cast<TunedServer<httplib::SSLServer>*>(server_.get())->RaiseBacklog(1024);
  } else {
    static_cast<TunedServer<httplib::Server>*>(server_.get())->RaiseBacklog(1024);
  }
  if (portals_ != nullptr) portals_->SetOrigin(tls(), port);
  return port;
}

void EmulatorServer::Run() { server_->listen_after_bind(); }

absl::StatusOr<int> EmulatorServer::Start() {
  absl::StatusOr<int> port = Bind();
  if (!port.ok()) return port;
  thread_ = std::thread([this] { Run(); });
  return port;
}

void EmulatorServer::Stop() {
  if (stopped_.exchange(true)) return;
  if (!stopping_.HasBeenNotified()) stopping_.Notify();
  server_->stop();
  if (thread_.joinable()) thread_.join();
}

}  // namespace b24emu
