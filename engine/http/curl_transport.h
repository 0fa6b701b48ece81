// CurlTransport: the production HttpTransport, on libcurl's multi interface.
//
// One event-loop thread, owned by the transport, drives every transfer:
// Send() queues the request and wakes the loop (curl_multi_wakeup), the loop
// starts it and polls all transfers together (curl_multi_poll), so many
// requests are in flight without a thread each. Connections are kept alive
// and reused; HTTPS connections negotiate HTTP/2 when the server offers it and
// then multiplex requests, HTTP/1.1 ones run one request each, in parallel. Redirects are not followed: the engine re-sends a
// 302 itself (as POST, with its body) and reads the `location` header.
//
// Failures are classified for the retry policy: DNS, connect and TLS
// handshake errors are kNotSent (the portal never saw the request); anything
// after that, and anything uncertain, is kAfterSend (a write may have run); an
// answer cut short of its Content-Length or over max_answer_bytes is
// kBadAnswer.
// Failure messages never contain the request's path or query, where webhook
// secrets live.
//
// libcurl stays out of this header: it is used in the .cc files of
// engine/http (this transport, easy_handle_pool) and in
// engine/files/stream_transport.cc.
//
// Thread-safety: Send() may be called from any thread, including from a
// completion. Completions run on the loop thread, one at a time; they must
// not block (they delay every other transfer). The destructor must not run on
// the loop thread (i.e. not from a completion).
#ifndef B24GATE_ENGINE_HTTP_CURL_TRANSPORT_H_
#define B24GATE_ENGINE_HTTP_CURL_TRANSPORT_H_

#include <cstdint>
#include <memory>
#include <string>

#include "absl/time/time.h"
#include "absl/strings/string_view.h"
#include "engine/http/http_transport.h"

namespace b24gate {

struct CurlTransportOptions {
  // Open connections across all hosts, and to one host; further requests
  // wait for a free one. 0: no limit. The defaults set none: each portal
  // bounds its own requests in flight (max_concurrency, which the operator
  // may raise at run time), and a transport-wide cap below the sum would let
  // one portal's held requests delay another portal's calls.
  int max_total_connections = 0;
  int max_connections_per_host = 0;
  // Largest answer body (after decompression) read; a larger one ends as
  // kBadAnswer. Bitrix24's largest answers (a batch of 50 list pages) are a
  // few megabytes; the bound is on memory, not on use.
  size_t max_answer_bytes = size_t{256} << 20;
  // TCP connect plus TLS handshake; counts against the request's timeout too.
  absl::Duration connect_timeout = absl::Seconds(10);
  std::string user_agent = "b24gate/0.1";
  // Idle connections kept for reuse, across all hosts. libcurl's own
  // default is 4 per transfer running, so that when a burst ends, each
  // transfer leaving closes one connection more: a portal's 8 connections
  // warmed ahead, or kept from its last burst, were down to 4 or fewer
  // when its next burst came.
  int max_idle_connections = 256;
  // The path Warm() asks for (HEAD) to open a connection.
  std::string warm_path = "/favicon.ico";
  // For this long after a request to an origin, the transport watches that
  // origin's idle connections and, when the server closes one (its
  // keep-alive limit passed), opens one in its place with a HEAD for
  // warm_path, so the next request after a quiet spell finds one ready
  // instead of connecting (TCP + TLS) on its own path. Where the server
  // announces its limit (Keep-Alive: timeout=N, N of 3 s or more), the
  // connections are replaced 2 s before it instead, so that no request
  // takes one as the server closes it. Origins not asked for longer are
  // left alone: their connections expire with the server's limit. Zero:
  // never. (libcurl reuses no connection idle within 1 s of an announced
  // limit either way.)
  absl::Duration keep_warm_for = absl::Minutes(5);
};

class CurlTransport : public HttpTransport {
 public:
  // Starts the loop thread. libcurl's global state is initialised once per
  // process, on first construction.
  explicit CurlTransport(CurlTransportOptions options = {});
  // Stops the loop. Requests in flight complete with kAfterSend, queued ones
  // with kNotSent, both with the message "transport shut down".
  // REQUIRES: not called from a completion.
  ~CurlTransport() override;

  CurlTransport(const CurlTransport&) = delete;
  CurlTransport& operator=(const CurlTransport&) = delete;

  // Supports "GET" and "POST" (any other method is sent as a custom verb
  // with the body, if any). Never blocks on the network.
  void Send(HttpRequest request, Callback done) override;
  // Opens the missing connections with a HEAD request each for the
  // origin's /favicon.ico (options.warm_path): libcurl keeps a connection
  // in its cache only once a request has run on it (a connect-only one is
  // never reused, and 7.88 cannot be handed a connected socket), and a
  // static file is the cheapest request there is: the web server answers
  // it, the portal's REST API never sees it, nor its request budget.
  // Connections counted: every socket open to the origin that its server
  // has not closed (looked at on each call), and requests to it waiting
  // for one.
  void Warm(const std::string& url, int connections, const TlsOptions& tls) override;
  // Connections Warm() or the keeping warm (keep_warm_for) is opening now
  // (their HEAD request not answered).
  int warming() const;
  // Connections opened for callers' requests, on their path (not ahead):
  // each added a TCP (and TLS) handshake to a call.
  int64_t request_path_connects() const;
  // Connections opened ahead, by Warm() or in place of one the server
  // closed.
  int64_t ahead_connects() const;
  // Idle connections of origins kept warm replaced ahead (keep_warm_for):
  // before the idle limit their server announces (Keep-Alive: timeout=N),
  // or after the server closed them (no limit announced, or one under 3 s).
  int64_t replaced_before_limit() const;
  int64_t replaced_after_close() const;

 private:
  class Loop;  // everything that touches libcurl
  std::unique_ptr<Loop> loop_;
};

// How an HTTP/2 stream error (CURLE_HTTP2_STREAM) ended, from libcurl's error
// text: kNotSent when the server refused the stream (REFUSED_STREAM: surely
// not executed), kAfterSend for any other reset. Exposed for tests.
TransportFailure Http2StreamFailure(absl::string_view curl_error_text);

}  // namespace b24gate

#endif  // B24GATE_ENGINE_HTTP_CURL_TRANSPORT_H_
