// HTTP transport: the engine's only way to reach a Bitrix24 portal.
//
// An HttpTransport sends requests asynchronously and calls each request's
// completion exactly once, on a transport-owned thread. Implementations must
// not block the caller of Send(). The production implementation is
// CurlTransport (libcurl multi interface, one event-loop thread); tests use
// fakes that answer synchronously or on demand.
//
// Thread-safety: Send() may be called from any thread concurrently.
#ifndef B24GATE_ENGINE_HTTP_HTTP_TRANSPORT_H_
#define B24GATE_ENGINE_HTTP_HTTP_TRANSPORT_H_

#include <functional>
#include <map>
#include <string>
#include <utility>
#include <vector>

#include "absl/time/time.h"

namespace b24gate {

struct TlsOptions {
  // Verify the server certificate and host name. Turning this off is the
  // equivalent of fast_bitrix24's `ssl=False`; it is logged as a warning.
  bool verify = true;
  // PEM file with extra CA certificates (e.g. a self-hosted portal's CA).
  // Empty: the system store.
  std::string ca_file;
};

struct HttpRequest {
  std::string method = "POST";  // "GET" or "POST"
  std::string url;               // full URL, query string included
  std::string content_type;      // for POST, e.g. "application/json"
  // Further request headers (name, value), e.g. Idempotency-Key.
  std::vector<std::pair<std::string, std::string>> headers;
  std::string body;
  // Whole-exchange timeout (connect + send + wait + receive).
  absl::Duration timeout = absl::Seconds(70);
  TlsOptions tls;
  // May be empty. Polled by the transport while the request runs (at least
  // every 100 ms); once it returns true nobody wants the answer any more, so
  // the transfer is aborted, freeing its connection, and answered as a
  // kAfterSend failure. Must be cheap, thread-safe and non-blocking.
  std::function<bool()> abandoned;
  // May be empty. Called on the transport's thread right before the request
  // is written to a connection (after connecting; again if the transport
  // has to write it anew before any answer). Returning false withdraws it:
  // nothing is written, and it is answered as a kNotSent failure. So a
  // sender can take back, without a race, work that is still waiting for a
  // connection. Must be cheap, thread-safe and non-blocking.
  std::function<bool()> starting;
};

// Where in the exchange a transport failure happened. It decides whether a
// request may have been executed by the server (see RetryClass).
enum class TransportFailure {
  kNone,
  kNotSent,     // DNS, connect, TLS handshake failed: the server never saw it.
  kAfterSend,   // timeout or reset after the request was sent.
  // The server answered, but the answer cannot be used: its body ended
  // before its Content-Length, or it was larger than the transport accepts.
  // The request was executed; what came of it is lost.
  kBadAnswer,
};

struct HttpResponse {
  TransportFailure failure = TransportFailure::kNone;
  // Human-readable failure text; never contains the URL (webhook secrets live
  // in URLs).
  std::string failure_message;
  // The failure will not heal by sending again (the portal's certificate
  // failed verification, a malformed URL): callers fail at once instead of
  // retrying. Only with failure == kNotSent.
  bool permanent = false;
  int status = 0;  // HTTP status when failure == kNone
  std::map<std::string, std::string> headers;  // lower-case names
  std::string body;
};

class HttpTransport {
 public:
  using Callback = std::function<void(HttpResponse)>;
  virtual ~HttpTransport() = default;
  // Starts `request`; `done` runs exactly once, never inside Send().
  virtual void Send(HttpRequest request, Callback done) = 0;
  // A hint that about `connections` requests to the origin of `url` (its
  // scheme, host and port; the rest of `url` is ignored) are about to go
  // at once: the transport may open connections to it ahead, so that they
  // find them ready, never more than `connections` open to it counting
  // those in use. `tls`: as those requests' will be. Never blocks; may do
  // nothing (the default).
  virtual void Warm(const std::string& url, int connections, const TlsOptions& tls) {
    (void)url, (void)connections, (void)tls;
  }
};

}  // namespace b24gate

#endif  // B24GATE_ENGINE_HTTP_HTTP_TRANSPORT_H_
