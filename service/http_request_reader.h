// Reads one HTTP/1.1 request from bytes as they arrive, for the inbound
// endpoint (service/inbound_server.h): no I/O of its own, so the server can
// feed it from an event loop whatever the pace of the peer. Everything is
// bounded before it is kept: the request line and headers together
// (max_head_bytes) and their number (431, headers_too_large), and the body
// however it is sent, by Content-Length (refused unread when it declares
// more), chunked, or compressed (Content-Encoding gzip or deflate, inflated
// only up to the limit) (413, too_large). Anything that is not plain
// HTTP/1.1 framing (two lengths, a Transfer-Encoding other than chunked, a
// bad chunk size, an encoding we do not know) is refused 400 or 415,
// malformed, rather than guessed at: the request came from the internet.
//
// Thread-safety: not thread-safe; one per connection.
#ifndef B24GATE_SERVICE_HTTP_REQUEST_READER_H_
#define B24GATE_SERVICE_HTTP_REQUEST_READER_H_

#include <cstddef>
#include <map>
#include <memory>
#include <string>

#include "absl/strings/string_view.h"

namespace b24gate {

struct HttpReadLimits {
  size_t max_head_bytes = 8 * 1024;  // request line and headers, line ends included
  size_t max_headers = 64;
  size_t max_body_bytes = 64 * 1024;  // as sent, and again once inflated
};

// Why a request was refused: its HTTP status, the reason it is counted
// under, and a sentence for the sender.
struct HttpRefusal {
  int status = 0;
  std::string reason;
  std::string why;
};

class HttpRequestReader {
 public:
  enum class Stage {
    kHead,     // the request line and headers are not whole yet
    kBody,     // they are; the body is not
    kDone,     // the request is whole: body() is it
    kRefused,  // refusal() says why; nothing more is read
  };

  explicit HttpRequestReader(const HttpReadLimits& limits);
  ~HttpRequestReader();
  HttpRequestReader(const HttpRequestReader&) = delete;
  HttpRequestReader& operator=(const HttpRequestReader&) = delete;

  // Takes the next bytes of the connection; returns the stage after them.
  // Bytes after a whole request are ignored (one request per connection).
  Stage Feed(absl::string_view bytes);
  // The peer closed its side: a body not whole by now is refused
  // (truncated). A head not whole stays kHead: nothing was asked.
  Stage End();

  Stage stage() const { return stage_; }
  // REQUIRES: stage() is not kHead (for the accessors below).
  const std::string& method() const { return method_; }
  const std::string& path() const { return path_; }  // without its query
  // A header's value ("" when absent); `lower_name` in lower case.
  std::string header(const std::string& lower_name) const;
  // The sender waits for "100 Continue" before sending the body.
  bool expects_continue() const;
  // REQUIRES: stage() is kDone.
  const std::string& body() const { return body_; }
  // REQUIRES: stage() is kRefused.
  const HttpRefusal& refusal() const { return refusal_; }

 private:
  class Inflater;
  enum class Framing { kLength, kChunkSize, kChunkData, kChunkEnd, kTrailers };

  Stage Refuse(int status, const std::string& reason, const std::string& why);
  Stage FeedHead(absl::string_view bytes, size_t* used);
  Stage HeadLine(absl::string_view line);
  Stage StartBody();
  Stage FeedBody(absl::string_view bytes);
  Stage FeedChunked(absl::string_view* bytes);
  Stage ChunkLine(absl::string_view line);
  Stage TakeEntity(absl::string_view bytes);
  Stage FinishBody();

  const HttpReadLimits limits_;
  Stage stage_ = Stage::kHead;
  std::string line_;  // a line not yet ended (head, chunk size, trailer)
  size_t head_bytes_ = 0;
  std::string method_;
  std::string path_;
  std::map<std::string, std::string> headers_;  // lower-case names
  Framing framing_ = Framing::kLength;
  size_t remaining_ = 0;                // of the Content-Length, or of the chunk
  size_t entity_bytes_ = 0;             // body bytes as sent, before inflating
  std::unique_ptr<Inflater> inflater_;  // null: not compressed
  std::string body_;
  HttpRefusal refusal_;
};

}  // namespace b24gate

#endif  // B24GATE_SERVICE_HTTP_REQUEST_READER_H_
