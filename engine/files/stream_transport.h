// StreamTransport: HTTP transfers whose bodies are streamed through a
// BytePipe instead of held in memory -- the bytes of an upload's multipart
// POST, and a download's body. The engine's HttpTransport (one string in,
// one string out) stays for API calls; files need bodies of any size.
//
// One event-loop thread (libcurl multi) drives every transfer, whatever
// their number: a transfer waiting for its pipe is paused in libcurl
// (CURL_READFUNC_PAUSE / CURL_WRITEFUNC_PAUSE) and resumed by the pipe's
// wake callback, so no thread waits on a stream. At most `max_transfers`
// run at once; later ones wait in order, unstarted.
//
// An upload's body is `head`, then the pipe's bytes (as they are, or
// base64-encoded on the way), then `tail` (the multipart framing around the
// file, or the JSON around a file's base64 text). Its answer (a small JSON object) is
// collected up to `max_answer_bytes`. A download's body goes into the pipe
// when the answer is 2xx (206 when a range was asked for); any other
// answer's body is collected like an upload's answer. When the transfer
// ends, a download pipe that got the whole body is closed; otherwise the
// transfer's pipes are aborted, so the other side stops too.
//
// Nothing is ever sent twice: the body cannot be rewound, so libcurl fails
// a transfer rather than re-sending it on a new connection.
//
// Failure messages never contain the URL (it carries credentials).
//
// Thread-safety: Start() may be called from any thread. `done` runs on the
// loop thread, exactly once, with no lock held; it must not block. The
// destructor fails running transfers (kAfterSend) and waiting ones
// (kNotSent); it must not run on the loop thread.
#ifndef B24GATE_ENGINE_FILES_STREAM_TRANSPORT_H_
#define B24GATE_ENGINE_FILES_STREAM_TRANSPORT_H_

#include <cstdint>
#include <functional>
#include <memory>
#include <string>

#include "absl/time/time.h"
#include "engine/common/clock.h"
#include "engine/files/byte_pipe.h"
#include "engine/http/http_transport.h"

namespace b24gate {

struct StreamRequest {
  std::string url;
  // POST with `upload` as the body source; null: GET into `download`.
  std::shared_ptr<BytePipe> upload;
  std::string head;  // sent before the pipe's bytes
  std::string tail;  // sent after them
  // The pipe's byte count when known (Content-Length is then exact and a
  // different count fails the transfer); -1: chunked encoding.
  int64_t upload_size = -1;
  // The most bytes the pipe may carry; past it the transfer stops before
  // the body is whole (kTooLarge). -1: no limit.
  int64_t max_upload_size = -1;
  std::string content_type;  // of the POST body
  // The pipe's bytes go out base64-encoded (a file inside a JSON string);
  // upload_size, max_upload_size and bytes_sent still count the pipe's.
  bool base64 = false;
  std::shared_ptr<BytePipe> download;
  // A download follows up to this many redirects (a record's file link
  // answers with one to where its bytes are): to any https address, or
  // http when `url` is plain http -- never from https to http
  // (DecideDownloadRedirect); a refused one fails the transfer
  // (kRedirectRefused). 0: a redirect is the answer.
  int max_redirects = 0;
  // A download from this offset (an HTTP Range request); 0: the whole body.
  int64_t range_from = 0;
  // A download: runs once, on the loop thread, when the body asked for
  // begins -- before its first byte goes into the pipe (at the end, for an
  // empty body) -- with that answer's Content-Type ("" when it has none).
  // Not run when the answer is not that body (an error, an ignored range).
  std::function<void(const std::string& content_type)> on_body;
  TlsOptions tls;
  // No byte moved either way for this long: the transfer fails (kStalled),
  // whichever side stopped -- the far side, or the caller feeding or
  // draining the pipe (a gRPC client that stopped sending or reading).
  absl::Duration stall_timeout = absl::Seconds(60);
};

// Why our side stopped a transfer (the far side's failures are not here).
enum class LocalStop {
  kNone,
  kSizeMismatch,   // the upload's pipe held more or fewer bytes than declared
  kTooLarge,       // the upload's pipe held more than max_upload_size
  kPipeAborted,    // the other side of a pipe gave up
  kAnswerTooLarge,  // the answer passed max_answer_bytes
  kStalled,         // no byte moved for stall_timeout
  kRedirectRefused  // a download's redirect broke DecideDownloadRedirect
};

struct StreamResult {
  TransportFailure failure = TransportFailure::kNone;
  LocalStop local_stop = LocalStop::kNone;
  // The whole upload body (head, bytes, tail) was handed to the connection.
  // Until then the far side cannot hold a complete form, so an upload that
  // failed before it cannot have been stored.
  bool body_complete = false;
  std::string failure_message;  // never contains the URL
  int status = 0;
  std::string content_type;  // of the answer
  // The answer's body: an upload's whole answer, or a non-2xx download's.
  std::string answer;
  int64_t bytes_sent = 0;      // of the pipe's bytes, handed to the connection
  int64_t bytes_received = 0;  // of a download's body, put into the pipe
};

struct StreamTransportOptions {
  int max_transfers = 16;
  size_t max_answer_bytes = size_t{1} << 20;
  absl::Duration connect_timeout = absl::Seconds(10);
  std::string user_agent = "b24gate/0.1";
};

class StreamTransport {
 public:
  using Done = std::function<void(StreamResult)>;
  // `clock` (must outlive it) times the stall check: a FakeClock drives it
  // in tests. The loop looks at it at least once a second.
  explicit StreamTransport(const Clock* clock, StreamTransportOptions options = {});
  ~StreamTransport();

  StreamTransport(const StreamTransport&) = delete;
  StreamTransport& operator=(const StreamTransport&) = delete;

  // Starts (or queues) the transfer.
  void Start(StreamRequest request, Done done);

 private:
  class Loop;  // everything that touches libcurl
  std::unique_ptr<Loop> loop_;
};

}  // namespace b24gate

#endif  // B24GATE_ENGINE_FILES_STREAM_TRANSPORT_H_
