#include "engine/http/curl_transport.h"

#include <curl/curl.h>
#include <sys/socket.h>
#include <unistd.h>

#include <algorithm>
#include <atomic>
#include <map>
#include <memory>
#include <optional>
#include <string>
#include <thread>
#include <unordered_map>
#include <utility>
#include <vector>

#include "absl/base/thread_annotations.h"
#include "absl/strings/ascii.h"
#include "absl/strings/match.h"
#include "absl/strings/numbers.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_split.h"
#include "absl/strings/string_view.h"
#include "absl/synchronization/mutex.h"
#include "engine/http/easy_handle_pool.h"
#include "engine/http/epoll_watch_list.h"
#include "engine/http/keep_alive_header.h"
#include "engine/http/keep_warm_set.h"
#include "engine/http/open_sockets.h"

namespace b24gate {
namespace {

// Upper bound on one curl_multi_poll() wait. New requests wake the loop
// through curl_multi_wakeup(); this only bounds how stale a missed wake-up
// could leave it.
constexpr int kMaxPollMillis = 1000;
// How often transfers that may be abandoned (HttpRequest::abandoned) are
// checked.
constexpr int kAbandonPollMillis = 100;

constexpr char kShutDown[] = "transport shut down";

// Easy handles kept between requests: enough for a burst's completions to
// serve the next burst without making new ones, few enough that idle
// handles cost little memory.
constexpr size_t kMaxIdleHandles = 64;

void InitCurlOnce() {
  // curl_global_init is not thread-safe; a function-local static is.
  static const CURLcode result = curl_global_init(CURL_GLOBAL_DEFAULT);
  (void)result;
}

// scheme://host:port of `url` (the default port spelt out), or "" when it
// does not parse.
std::string OriginOf(const std::string& url) {
  CURLU* parsed = curl_url();
  std::string origin;
  char* scheme = nullptr;
  char* host = nullptr;
  char* port = nullptr;
  if (parsed != nullptr && curl_url_set(parsed, CURLUPART_URL, url.c_str(), 0) == CURLUE_OK &&
      curl_url_get(parsed, CURLUPART_SCHEME, &scheme, 0) == CURLUE_OK &&
      curl_url_get(parsed, CURLUPART_HOST, &host, 0) == CURLUE_OK &&
      curl_url_get(parsed, CURLUPART_PORT, &port, CURLU_DEFAULT_PORT) == CURLUE_OK) {
    origin = absl::StrCat(scheme, "://", host, ":", port);
  }
  curl_free(scheme);
  curl_free(host);
  curl_free(port);
  curl_url_cleanup(parsed);
  return origin;
}

// One request on its way: owns the request (curl reads the URL and body from
// it), the easy handle (lent by the loop's pool) and the response being
// assembled.
struct Transfer {
  HttpRequest request;
  HttpTransport::Callback done;
  HttpResponse response;
  EasyHandlePool* pool = nullptr;
  CURL* easy = nullptr;
  curl_slist* headers = nullptr;
  bool withdrawn = false;  // request.starting said no: nothing was written
  // OnPrereq ran: the request has been (or is being) written once.
  bool prepared = false;
  // libcurl wanted to write the request a second time; it was stopped.
  bool resend_refused = false;
  std::string origin;  // OriginOf(request.url)
  OpenSockets* sockets = nullptr;
  // A HEAD that opens a connection ahead (Warm, or in place of one the
  // server closed), not a caller's request.
  bool warm = false;
  // Opens a connection of its own even when one is idle (CURLOPT_FRESH_CONNECT).
  bool fresh = false;
  // Connections opened, by whose path (the loop's counts): a caller's
  // request's, or ahead (warm).
  std::atomic<int64_t>* request_path_connects = nullptr;
  std::atomic<int64_t>* ahead_connects = nullptr;
  // A connection is the transfer's (opened for it or reused): it no longer
  // waits for one.
  bool connected = false;
  size_t max_answer_bytes = 0;
  bool answer_too_large = false;
  char error[CURL_ERROR_SIZE] = {};

  ~Transfer() {
    // Reset (by the pool) before the header list it points at goes.
    if (easy != nullptr) pool->Give(easy);
    if (headers != nullptr) curl_slist_free_all(headers);
  }
};

// CURLOPT_PREREQFUNCTION: runs once the connection is ready, before the
// request is written; asks the sender whether it still wants it sent.
int OnPrereq(void* data, char*, char*, int, int) {
  auto* transfer = static_cast<Transfer*>(data);
  transfer->connected = true;
  // A second call is libcurl sending the request again by itself, on a new
  // connection, after a reused one died before any answer: a second
  // execution of a write the portal may already have run. Never.
  if (transfer->prepared) {
    transfer->resend_refused = true;
    return CURL_PREREQFUNC_ABORT;
  }
  transfer->prepared = true;
  if (!transfer->request.starting || transfer->request.starting()) return CURL_PREREQFUNC_OK;
  transfer->withdrawn = true;
  return CURL_PREREQFUNC_ABORT;
}

// CURLOPT_OPENSOCKETFUNCTION: opens the socket as libcurl would, and counts
// it for the transfer's origin.
curl_socket_t OnOpenSocket(void* data, curlsocktype, curl_sockaddr* address) {
  auto* transfer = static_cast<Transfer*>(data);
  curl_socket_t fd = ::socket(address->family, address->socktype, address->protocol);
  if (fd != CURL_SOCKET_BAD) {
    transfer->sockets->Opened(fd, transfer->origin);
    ++*(transfer->warm ? transfer->ahead_connects : transfer->request_path_connects);
  }
  transfer->connected = true;
  return fd;
}

// CURLOPT_CLOSESOCKETFUNCTION: the connection keeps it from the transfer
// that opened it, so its data is the loop's OpenSockets, not a transfer.
int OnCloseSocket(void* data, curl_socket_t fd) {
  static_cast<OpenSockets*>(data)->Closed(fd);
  return ::close(fd);
}

// Room for the whole body at its first bytes, when the answer gives its
// length: a 170 KB list batch grown 16 KB at a time took five
// reallocations and copies (1.17 ms of this thread's CPU per answer, 0.72
// ms with the room made once), each also a turn on the allocator's lock.
// Never more than the transport's limit; a length that lies costs address
// space, not memory, as pages never written are never backed.
void ReserveForBody(Transfer* transfer) {
  const auto& headers = transfer->response.headers;
  auto it = headers.find("content-length");
  size_t length = 0;
  if (it == headers.end() || !absl::SimpleAtoi(it->second, &length)) return;
  transfer->response.body.reserve(std::min(length, transfer->max_answer_bytes));
}

size_t OnBody(char* data, size_t size, size_t count, void* user) {
  auto* transfer = static_cast<Transfer*>(user);
  std::string& body = transfer->response.body;
  if (body.empty()) ReserveForBody(transfer);
  // Counted after decompression, so a small compressed bomb is caught too.
  if (size * count > transfer->max_answer_bytes - body.size()) {
    transfer->answer_too_large = true;
    return 0;  // curl aborts the transfer (CURLE_WRITE_ERROR)
  }
  body.append(data, size * count);
  return size * count;
}

size_t OnHeader(char* data, size_t size, size_t count, void* user) {
  auto* transfer = static_cast<Transfer*>(user);
  absl::string_view line(data, size * count);
  auto& headers = transfer->response.headers;
  if (absl::StartsWith(line, "HTTP/")) {
    headers.clear();  // a new response begins (e.g. after "100 Continue")
    return line.size();
  }
  size_t colon = line.find(':');
  if (colon == absl::string_view::npos) return line.size();
  std::string name = absl::AsciiStrToLower(line.substr(0, colon));
  std::string value(absl::StripAsciiWhitespace(line.substr(colon + 1)));
  auto [it, inserted] = headers.emplace(std::move(name), value);
  if (!inserted) absl::StrAppend(&it->second, ", ", value);
  return line.size();
}

// kNotSent only where the server cannot have received the request.
TransportFailure Classify(CURLcode code, CURL* easy, absl::string_view error_text) {
  switch (code) {
    case CURLE_PARTIAL_FILE:  // the body ended before its Content-Length
      return TransportFailure::kBadAnswer;
    case CURLE_HTTP2_STREAM:
      return Http2StreamFailure(error_text);
    case CURLE_UNSUPPORTED_PROTOCOL:
    case CURLE_URL_MALFORMAT:
    case CURLE_COULDNT_RESOLVE_PROXY:
    case CURLE_COULDNT_RESOLVE_HOST:
    case CURLE_COULDNT_CONNECT:
    case CURLE_SSL_CONNECT_ERROR:
    case CURLE_PEER_FAILED_VERIFICATION:
    case CURLE_SSL_CERTPROBLEM:
    case CURLE_SSL_CIPHER:
    case CURLE_SSL_CACERT_BADFILE:
    case CURLE_SSL_CRL_BADFILE:
    case CURLE_SSL_ISSUER_ERROR:
    case CURLE_SSL_PINNEDPUBKEYNOTMATCH:
    case CURLE_SSL_INVALIDCERTSTATUS:
    case CURLE_SSL_ENGINE_NOTFOUND:
    case CURLE_SSL_ENGINE_SETFAILED:
    case CURLE_SSL_ENGINE_INITFAILED:
    case CURLE_SSL_CLIENTCERT:
    case CURLE_USE_SSL_FAILED:
      return TransportFailure::kNotSent;
    case CURLE_OPERATION_TIMEDOUT: {
      // A connect timeout sent nothing: no connection was made and not one
      // byte of the request was handed to a connection.
      curl_off_t connect_time = 0;
      curl_off_t request_size = 0;
      curl_easy_getinfo(easy, CURLINFO_CONNECT_TIME_T, &connect_time);
      curl_easy_getinfo(easy, CURLINFO_REQUEST_SIZE, &request_size);
      return connect_time == 0 && request_size == 0
                 ? TransportFailure::kNotSent
                 : TransportFailure::kAfterSend;
    }
    default:
      // Timeouts, resets, empty or truncated answers: the request may have
      // run, which is what a write's retry policy must assume.
      return TransportFailure::kAfterSend;
  }
}

// True if `text` quotes any meaningful piece of the URL after the host:
// webhook codes and tokens live in the path and query.
bool QuotesUrlSecrets(absl::string_view text, absl::string_view url) {
  size_t authority = url.find("://");
  authority = authority == absl::string_view::npos ? 0 : authority + 3;
  size_t rest = url.find_first_of("/?#", authority);
  if (rest == absl::string_view::npos) return false;
  for (absl::string_view piece : absl::StrSplit(
           url.substr(rest), absl::ByAnyChar("/?&=#"), absl::SkipEmpty())) {
    if (piece.size() >= 3 && absl::StrContains(text, piece)) return true;
  }
  return false;
}

std::string FailureMessage(CURLcode code, const Transfer& transfer) {
  absl::string_view detail = transfer.error;
  if (detail.empty() || QuotesUrlSecrets(detail, transfer.request.url)) {
    detail = curl_easy_strerror(code);
  }
  return absl::StrCat("curl error ", static_cast<int>(code), ": ", detail);
}

template <typename T>
void SetOpt(CURL* easy, CURLoption option, T value, CURLcode* first_error) {
  CURLcode result = curl_easy_setopt(easy, option, value);
  if (result != CURLE_OK && *first_error == CURLE_OK) *first_error = result;
}

void Complete(std::unique_ptr<Transfer> transfer) {
  HttpResponse response = std::move(transfer->response);
  HttpTransport::Callback done = std::move(transfer->done);
  transfer.reset();  // release curl resources before user code runs
  done(std::move(response));
}

// Failures that sending again cannot cure: the peer's certificate or our
// trust settings are wrong, or the URL is. (A refused connection or a TLS
// handshake cut short may heal; those stay retryable.)
bool IsPermanent(CURLcode code) {
  switch (code) {
    case CURLE_UNSUPPORTED_PROTOCOL:
    case CURLE_URL_MALFORMAT:
    case CURLE_PEER_FAILED_VERIFICATION:
    case CURLE_SSL_CERTPROBLEM:
    case CURLE_SSL_CACERT_BADFILE:
    case CURLE_SSL_CRL_BADFILE:
    case CURLE_SSL_ISSUER_ERROR:
    case CURLE_SSL_PINNEDPUBKEYNOTMATCH:
    case CURLE_SSL_INVALIDCERTSTATUS:
    case CURLE_SSL_CLIENTCERT:
      return true;
    default:
      return false;
  }
}

void Fail(std::unique_ptr<Transfer> transfer, TransportFailure failure,
          std::string message, bool permanent = false) {
  transfer->response = HttpResponse();
  transfer->response.failure = failure;
  transfer->response.failure_message = std::move(message);
  transfer->response.permanent = permanent && failure == TransportFailure::kNotSent;
  Complete(std::move(transfer));
}

// The options of the exchange itself: where, callbacks, protocol, timeouts
// and TLS. Returns the first option libcurl refused.
CURLcode ConfigureExchange(CURL* easy, Transfer* transfer, const CurlTransportOptions& options) {
  const HttpRequest& request = transfer->request;
  CURLcode setup = CURLE_OK;
  SetOpt(easy, CURLOPT_URL, request.url.c_str(), &setup);
  if (transfer->fresh) SetOpt(easy, CURLOPT_FRESH_CONNECT, 1L, &setup);
  SetOpt(easy, CURLOPT_PROTOCOLS_STR, "http,https", &setup);
  SetOpt(easy, CURLOPT_NOSIGNAL, 1L, &setup);
  SetOpt(easy, CURLOPT_ERRORBUFFER, transfer->error, &setup);
  SetOpt(easy, CURLOPT_WRITEFUNCTION, &OnBody, &setup);
  SetOpt(easy, CURLOPT_WRITEDATA, transfer, &setup);
  SetOpt(easy, CURLOPT_HEADERFUNCTION, &OnHeader, &setup);
  SetOpt(easy, CURLOPT_HEADERDATA, transfer, &setup);
  SetOpt(easy, CURLOPT_USERAGENT, options.user_agent.c_str(), &setup);
  SetOpt(easy, CURLOPT_ACCEPT_ENCODING, "", &setup);  // all built-in codings
  SetOpt(easy, CURLOPT_FOLLOWLOCATION, 0L, &setup);
  SetOpt(easy, CURLOPT_HTTP_VERSION,
         static_cast<long>(CURL_HTTP_VERSION_2TLS), &setup);
  // Over TLS, let a request wait for a connection that may multiplex
  // (HTTP/2) rather than open another one: ALPN settles the question at
  // the handshake. Over plain HTTP nothing does until the first answer, so
  // waiting would queue every request behind one the portal holds.
  if (absl::StartsWithIgnoreCase(request.url, "https://")) {
    SetOpt(easy, CURLOPT_PIPEWAIT, 1L, &setup);
  }
  SetOpt(easy, CURLOPT_TCP_KEEPALIVE, 1L, &setup);
  SetOpt(easy, CURLOPT_TIMEOUT_MS,
         static_cast<long>(absl::ToInt64Milliseconds(request.timeout)),
         &setup);
  SetOpt(
      easy, CURLOPT_CONNECTTIMEOUT_MS,
      static_cast<long>(absl::ToInt64Milliseconds(options.connect_timeout)),
      &setup);
  SetOpt(easy, CURLOPT_SSL_VERIFYPEER, request.tls.verify ? 1L : 0L, &setup);
  SetOpt(easy, CURLOPT_SSL_VERIFYHOST, request.tls.verify ? 2L : 0L, &setup);
  if (!request.tls.ca_file.empty()) {
    SetOpt(easy, CURLOPT_CAINFO, request.tls.ca_file.c_str(), &setup);
  }
  return setup;
}

// The method, the body and the headers. Returns the first option libcurl
// refused. The body is curl's to send from request.body (CURLOPT_POSTFIELDS),
// so a body under 64 KB leaves with the head in one write; through a read
// callback the two went in two writes, and on loopback the server's thread,
// woken by the head, often ran before the body was written (0.6-0.8 ms per
// request, 3.4 ms once, traced on small 20k). POSTFIELDS lets curl rewind and
// send the body again by itself; OnPrereq refuses that second sending.
CURLcode ConfigureBody(CURL* easy, Transfer* transfer) {
  const HttpRequest& request = transfer->request;
  CURLcode setup = CURLE_OK;
  if (request.method == "GET") {
    SetOpt(easy, CURLOPT_HTTPGET, 1L, &setup);
  } else if (request.method == "HEAD") {
    SetOpt(easy, CURLOPT_NOBODY, 1L, &setup);
  } else {
    if (request.method != "POST") {
      SetOpt(easy, CURLOPT_CUSTOMREQUEST, request.method.c_str(), &setup);
    }
    SetOpt(easy, CURLOPT_POST, 1L, &setup);
    SetOpt(easy, CURLOPT_POSTFIELDSIZE_LARGE,
           static_cast<curl_off_t>(request.body.size()), &setup);
    SetOpt(easy, CURLOPT_POSTFIELDS, request.body.data(), &setup);
  }
  if (!request.content_type.empty()) {
    transfer->headers = curl_slist_append(
        transfer->headers,
        absl::StrCat("Content-Type: ", request.content_type).c_str());
  }
  for (const auto& [name, value] : request.headers) {
    transfer->headers =
        curl_slist_append(transfer->headers, absl::StrCat(name, ": ", value).c_str());
  }
  // "Expect: 100-continue" would add a round trip to every large POST.
  transfer->headers = curl_slist_append(transfer->headers, "Expect:");
  SetOpt(easy, CURLOPT_HTTPHEADER, transfer->headers, &setup);
  // Also tells when the transfer has its connection (Transfer::connected).
  SetOpt(easy, CURLOPT_PREREQFUNCTION, &OnPrereq, &setup);
  SetOpt(easy, CURLOPT_PREREQDATA, transfer, &setup);
  SetOpt(easy, CURLOPT_OPENSOCKETFUNCTION, &OnOpenSocket, &setup);
  SetOpt(easy, CURLOPT_OPENSOCKETDATA, transfer, &setup);
  SetOpt(easy, CURLOPT_CLOSESOCKETFUNCTION, &OnCloseSocket, &setup);
  SetOpt(easy, CURLOPT_CLOSESOCKETDATA, transfer->sockets, &setup);
  return setup;
}

}  // namespace

TransportFailure Http2StreamFailure(absl::string_view curl_error_text) {
  // RFC 9113 section 8.7: a stream reset with REFUSED_STREAM was closed
  // before any of it was processed, so the request is safe to send again.
  // libcurl names the HTTP/2 error code in its message ("... was not closed
  // cleanly: REFUSED_STREAM (err 7)").
  return absl::StrContains(curl_error_text, "REFUSED_STREAM") ? TransportFailure::kNotSent
                                                               : TransportFailure::kAfterSend;
}

// The event loop. Owns the multi handle and every running transfer; only
// its thread touches them. Other threads hand over requests through
// `queued_`.
class CurlTransport::Loop {
 public:
  explicit Loop(CurlTransportOptions options)
      : options_(std::move(options)), multi_(curl_multi_init()) {
    curl_multi_setopt(multi_, CURLMOPT_PIPELINING, CURLPIPE_MULTIPLEX);
    curl_multi_setopt(multi_, CURLMOPT_MAX_TOTAL_CONNECTIONS,
                      static_cast<long>(options_.max_total_connections));
    curl_multi_setopt(multi_, CURLMOPT_MAX_HOST_CONNECTIONS,
                      static_cast<long>(options_.max_connections_per_host));
    curl_multi_setopt(multi_, CURLMOPT_MAXCONNECTS,
                      static_cast<long>(options_.max_idle_connections));
    thread_ = std::thread([this] { Run(); });
  }

  ~Loop() {
    {
      absl::MutexLock lock(&mu_);
      stopping_ = true;
    }
    curl_multi_wakeup(multi_);
    thread_.join();
    curl_multi_cleanup(multi_);
  }

  void Enqueue(std::unique_ptr<Transfer> transfer) {
    {
      absl::MutexLock lock(&mu_);
      queued_.push_back(std::move(transfer));
    }
    curl_multi_wakeup(multi_);
  }

  // What Warm() asked for.
  struct WarmWish {
    std::string origin;
    int connections = 0;
    TlsOptions tls;
  };

  int warming() const { return warming_.load(); }
  int64_t request_path_connects() const { return request_path_connects_.load(); }
  int64_t ahead_connects() const { return ahead_connects_.load(); }
  int64_t replaced_before_limit() const { return replaced_before_limit_.load(); }
  int64_t replaced_after_close() const { return replaced_after_close_.load(); }

  void EnqueueWarm(WarmWish wish) {
    {
      absl::MutexLock lock(&mu_);
      wishes_.push_back(std::move(wish));
    }
    curl_multi_wakeup(multi_);
  }

 private:
  void Run() {
    bool idle_readable = false;  // the last poll found a watched socket readable
    while (true) {
      std::vector<std::unique_ptr<Transfer>> fresh;
      std::vector<WarmWish> wishes;
      bool stopping;
      {
        absl::MutexLock lock(&mu_);
        fresh.swap(queued_);
        wishes.swap(wishes_);
        stopping = stopping_;
      }
      if (stopping) {
        for (auto& transfer : fresh) {
          Fail(std::move(transfer), TransportFailure::kNotSent, kShutDown);
        }
        break;
      }
      for (auto& transfer : fresh) Start(std::move(transfer));
      // After the requests that came with them: those count as waiting.
      for (const WarmWish& wish : wishes) WarmUp(wish);
      int still_running = 0;
      curl_multi_perform(multi_, &still_running);
      ReapFinished();
      bool watching = AbortAbandoned();
      // Looked at once libcurl has read its transfers' data and run their
      // completions: what is still readable is a close (or a running
      // transfer's data still coming), and an answer on a watched socket
      // costs no system call on its way to its caller.
      if (idle_readable) ReplaceClosed();
      // The idle sockets kept warm, all behind one descriptor.
      curl_waitfd idle{watch_list_.fd(), CURL_WAIT_POLLIN, 0};
      curl_multi_poll(multi_, &idle, WatchIdle() ? 1 : 0, PollMillis(watching), nullptr);
      idle_readable = idle.revents != 0;
      ReplaceDue();
    }
    for (auto& [easy, transfer] : running_) {
      curl_multi_remove_handle(multi_, easy);
      Fail(std::move(transfer), TransportFailure::kAfterSend, kShutDown);
    }
    running_.clear();
    // Completions above may have sent more requests: refuse them too, so
    // every callback still runs exactly once.
    while (true) {
      std::vector<std::unique_ptr<Transfer>> late;
      {
        absl::MutexLock lock(&mu_);
        late.swap(queued_);
      }
      if (late.empty()) break;
      for (auto& transfer : late) {
        Fail(std::move(transfer), TransportFailure::kNotSent, kShutDown);
      }
    }
  }

  void Start(std::unique_ptr<Transfer> transfer) {
    CURL* easy = pool_.Take();
    if (easy == nullptr) {
      Fail(std::move(transfer), TransportFailure::kNotSent,
           "curl_easy_init failed");
      return;
    }
    transfer->pool = &pool_;
    transfer->easy = easy;
    transfer->origin = OriginOf(transfer->request.url);
    transfer->sockets = &sockets_;
    transfer->request_path_connects = &request_path_connects_;
    transfer->ahead_connects = &ahead_connects_;
    transfer->max_answer_bytes = options_.max_answer_bytes;
    CURLcode setup = ConfigureExchange(easy, transfer.get(), options_);
    if (setup == CURLE_OK) setup = ConfigureBody(easy, transfer.get());
    // No connection idle to within 1 s of the server's announced limit:
    // the server may close it as the request arrives.
    if (std::optional<long> age = keep_warm_.MaxAgeSeconds(transfer->origin)) {
      SetOpt(easy, CURLOPT_MAXAGE_CONN, *age, &setup);
    }
    if (setup != CURLE_OK) {
      std::string message =
          absl::StrCat("curl setup failed: ", curl_easy_strerror(setup));
      Fail(std::move(transfer), TransportFailure::kNotSent, std::move(message));
      return;
    }
    if (curl_multi_add_handle(multi_, easy) != CURLM_OK) {
      Fail(std::move(transfer), TransportFailure::kNotSent,
           "curl_multi_add_handle failed");
      return;
    }
    // Busy before used: an origin kept warm from now on is busy, so its
    // sockets join the watched list when it is idle, not now.
    keep_warm_.Started(transfer->origin);
    if (!transfer->warm && options_.keep_warm_for > absl::ZeroDuration()) {
      keep_warm_.Used(transfer->origin, absl::Now(), transfer->request.tls);
    }
    running_[easy] = std::move(transfer);
  }

  // Opens what `wish` lacks: one HEAD request per connection, each on a
  // connection of its own while none is idle (libcurl reuses idle ones
  // first). Those waiting for a connection count as connections.
  void WarmUp(const WarmWish& wish) {
    if (wish.origin.empty()) return;
    sockets_.FindClosed(wish.origin);  // those no request can use
    int have = sockets_.To(wish.origin);
    for (const auto& [easy, transfer] : running_) {
      if (transfer->origin == wish.origin && !transfer->connected) ++have;
    }
    for (int i = have; i < wish.connections; ++i) StartWarm(wish.origin, wish.tls, false);
  }

  // One HEAD for the origin's warm_path, to open a connection (`fresh`: a
  // new one even if one is idle).
  void StartWarm(const std::string& origin, const TlsOptions& tls, bool fresh) {
    auto transfer = std::make_unique<Transfer>();
    transfer->request.method = "HEAD";
    transfer->request.url = absl::StrCat(origin, options_.warm_path);
    transfer->request.timeout = options_.connect_timeout + absl::Seconds(5);
    transfer->request.tls = tls;
    transfer->warm = true;
    transfer->fresh = fresh;
    transfer->done = [this](HttpResponse) { warming_--; };
    warming_++;
    Start(std::move(transfer));
  }

  // Whether any socket is watched (the poll then waits on the list's
  // descriptor too). Origins not used within options_.keep_warm_for stop
  // being kept warm first: their connections are left to expire.
  bool WatchIdle() {
    if (keep_warm_.kept() > 0) keep_warm_.Expire(absl::Now());
    return watch_list_.size() > 0 && watch_list_.fd() >= 0;
  }

  // Opens a connection, in the background, in place of each watched one
  // the server closed: the next request finds one ready instead of opening
  // one on its own path.
  // All are looked at before any is replaced: a replacement makes its
  // origin busy, and the origin's other closed sockets would wait for it.
  void ReplaceClosed() {
    watch_list_.Ready(&ready_);
    closed_.clear();
    for (int fd : ready_) {
      if (!keep_warm_.Readable(fd)) continue;  // a busy origin's
      std::optional<std::string> origin = sockets_.CheckReadable(fd);
      if (origin) closed_.push_back(std::move(*origin));
    }
    for (const std::string& origin : closed_) {
      const TlsOptions* tls = keep_warm_.Kept(origin);
      if (tls == nullptr) continue;
      ++replaced_after_close_;
      StartWarm(origin, *tls, true);
    }
  }

  // The poll's bound: wakes for the abandoned transfers, and for the next
  // origin due for replacing its connections ahead.
  int PollMillis(bool watching) {
    const int most = watching ? kAbandonPollMillis : kMaxPollMillis;
    const absl::Time due = keep_warm_.NextDue();
    if (due == absl::InfiniteFuture()) return most;
    // Rounded up: a wake-up just before the due time would find nothing due.
    const int64_t until = absl::ToInt64Milliseconds(due - absl::Now()) + 1;
    return static_cast<int>(std::clamp<int64_t>(until, 0, most));
  }

  // Closes and replaces the connections of each origin due (its server's
  // idle limit is near): a fresh connection each, opened ahead with a HEAD,
  // before the server closes the old one under a request.
  void ReplaceDue() {
    if (keep_warm_.NextDue() == absl::InfiniteFuture()) return;
    keep_warm_.TakeDue(absl::Now(), &due_);
    for (const KeepWarmSet::Due& due : due_) {
      const TlsOptions* kept = keep_warm_.Kept(due.origin);
      if (kept == nullptr) continue;
      const TlsOptions tls = *kept;  // StartWarm may move the origin's entry
      for (int fd : due.fds) {
        if (!sockets_.Retire(fd)) continue;
        ++replaced_before_limit_;
        StartWarm(due.origin, tls, true);
      }
    }
  }

  // Aborts the transfers nobody waits for any more; returns whether any
  // running transfer can be abandoned (so the loop wakes often enough).
  bool AbortAbandoned() {
    bool watching = false;
    for (auto it = running_.begin(); it != running_.end();) {
      const HttpRequest& request = it->second->request;
      if (!request.abandoned) {
        ++it;
        continue;
      }
      if (!request.abandoned()) {
        watching = true;
        ++it;
        continue;
      }
      curl_multi_remove_handle(multi_, it->first);
      std::unique_ptr<Transfer> transfer = std::move(it->second);
      it = running_.erase(it);
      keep_warm_.Finished(transfer->origin, absl::Now());
      Fail(std::move(transfer), TransportFailure::kAfterSend,
           "abandoned by its caller; the transfer was aborted");
    }
    return watching;
  }

  // What the server's Keep-Alive header says of its idle limit.
  void LearnIdleLimit(const Transfer& transfer) {
    auto header = transfer.response.headers.find("keep-alive");
    if (header == transfer.response.headers.end()) return;
    if (std::optional<absl::Duration> limit = KeepAliveTimeout(header->second)) {
      keep_warm_.Limit(transfer.origin, *limit);
    }
  }

  void ReapFinished() {
    int left = 0;
    while (CURLMsg* message = curl_multi_info_read(multi_, &left)) {
      if (message->msg != CURLMSG_DONE) continue;
      CURL* easy = message->easy_handle;
      CURLcode code = message->data.result;  // `message` dies on removal
      curl_multi_remove_handle(multi_, easy);
      auto it = running_.find(easy);
      if (it == running_.end()) continue;
      std::unique_ptr<Transfer> transfer = std::move(it->second);
      running_.erase(it);
      LearnIdleLimit(*transfer);
      keep_warm_.Finished(transfer->origin, absl::Now());
      if (code != CURLE_OK && transfer->resend_refused) {
        Fail(std::move(transfer), TransportFailure::kAfterSend,
             "the connection closed before the answer; the request was not sent again");
        continue;
      }
      if (code != CURLE_OK && transfer->withdrawn) {
        Fail(std::move(transfer), TransportFailure::kNotSent,
             "withdrawn by its sender before it was sent");
        continue;
      }
      if (transfer->answer_too_large) {
        std::string text = absl::StrCat("the answer is larger than ", transfer->max_answer_bytes,
                                        " bytes (the transport's limit); it was not read");
        Fail(std::move(transfer), TransportFailure::kBadAnswer, std::move(text));
        continue;
      }
      if (code != CURLE_OK) {
        TransportFailure failure = Classify(code, easy, transfer->error);
        std::string text = FailureMessage(code, *transfer);
        Fail(std::move(transfer), failure, std::move(text), IsPermanent(code));
        continue;
      }
      long status = 0;
      curl_easy_getinfo(easy, CURLINFO_RESPONSE_CODE, &status);
      transfer->response.status = static_cast<int>(status);
      Complete(std::move(transfer));
    }
  }

  const CurlTransportOptions options_;
  CURLM* const multi_;
  std::thread thread_;

  absl::Mutex mu_;
  std::vector<std::unique_ptr<Transfer>> queued_ ABSL_GUARDED_BY(mu_);
  std::vector<WarmWish> wishes_ ABSL_GUARDED_BY(mu_);
  bool stopping_ ABSL_GUARDED_BY(mu_) = false;

  // Loop thread only. curl_multi_cleanup (in ~Loop's body) closes the
  // cached connections through OnCloseSocket: these three outlive it. The
  // sockets tell keep_warm_ what counts; keep_warm_ tells watch_list_
  // what to watch.
  EpollWatchList watch_list_;
  KeepWarmSet keep_warm_{options_.keep_warm_for, &watch_list_};
  OpenSockets sockets_{&keep_warm_};
  // ReplaceClosed's, kept for their capacity.
  std::vector<int> ready_;
  std::vector<std::string> closed_;
  std::vector<KeepWarmSet::Due> due_;  // ReplaceDue's, likewise
  EasyHandlePool pool_{kMaxIdleHandles};
  std::atomic<int> warming_{0};
  std::atomic<int64_t> request_path_connects_{0};
  std::atomic<int64_t> ahead_connects_{0};
  std::atomic<int64_t> replaced_before_limit_{0};
  std::atomic<int64_t> replaced_after_close_{0};
  std::unordered_map<CURL*, std::unique_ptr<Transfer>> running_;
};

CurlTransport::CurlTransport(CurlTransportOptions options) {
  InitCurlOnce();
  loop_ = std::make_unique<Loop>(std::move(options));
}

CurlTransport::~CurlTransport() = default;

void CurlTransport::Warm(const std::string& url, int connections, const TlsOptions& tls) {
  // Parsed here, off the loop's thread; only the origin travels on.
  std::string origin = OriginOf(url);
  if (origin.empty() || connections < 1) return;
  loop_->EnqueueWarm({std::move(origin), connections, tls});
}

int CurlTransport::warming() const { return loop_->warming(); }

int64_t CurlTransport::request_path_connects() const { return loop_->request_path_connects(); }

int64_t CurlTransport::ahead_connects() const { return loop_->ahead_connects(); }

int64_t CurlTransport::replaced_before_limit() const { return loop_->replaced_before_limit(); }

int64_t CurlTransport::replaced_after_close() const { return loop_->replaced_after_close(); }

void CurlTransport::Send(HttpRequest request, Callback done) {
  auto transfer = std::make_unique<Transfer>();
  transfer->request = std::move(request);
  transfer->done = std::move(done);
  loop_->Enqueue(std::move(transfer));
}

}  // namespace b24gate
