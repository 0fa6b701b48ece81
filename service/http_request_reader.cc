#include "service/http_request_reader.h"

#include <zlib.h>

#include <algorithm>
#include <utility>
#include <vector>

#include "absl/strings/ascii.h"
#include "absl/strings/match.h"
#include "absl/strings/numbers.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_split.h"

namespace b24gate {
namespace {

// A chunk-size line is a hex number and perhaps extensions: nothing a
// sender needs more than this for.
constexpr size_t kMaxChunkLine = 256;

bool IsToken(absl::string_view s) {
  return !s.empty() && std::all_of(s.begin(), s.end(), [](char c) {
    return absl::ascii_isalnum(static_cast<unsigned char>(c)) ||
           absl::string_view("!#$%&'*+-.^_`|~").find(c) != absl::string_view::npos;
  });
}

// Takes from `bytes` up to and including the next '\n' into `line`.
// Whether the line ended.
bool TakeLine(absl::string_view* bytes, std::string* line, size_t* taken) {
  const size_t nl = bytes->find('\n');
  *taken = nl == absl::string_view::npos ? bytes->size() : nl + 1;
  line->append(bytes->data(), *taken);
  bytes->remove_prefix(*taken);
  return nl != absl::string_view::npos;
}

// `line` without its "\n" or "\r\n".
absl::string_view Unterminated(const std::string& line) {
  absl::string_view s = line;
  s.remove_suffix(1);
  if (!s.empty() && s.back() == '\r') s.remove_suffix(1);
  return s;
}

}  // namespace

// Inflates a gzip or zlib ("deflate", as HTTP names it) stream into at
// most a given number of bytes.
class HttpRequestReader::Inflater {
 public:
  enum class Result { kOk, kTooLarge, kBad };

  // 15 + 32: a window of up to 32 KiB, and either header, as HTTP senders
  // mix them up.
  Inflater() { ready_ = inflateInit2(&zs_, 15 + 32) == Z_OK; }
  ~Inflater() {
    if (ready_) inflateEnd(&zs_);
  }

  Result Inflate(absl::string_view in, std::string* out, size_t limit) {
    if (!ready_) return Result::kBad;
    if (ended_) return Result::kOk;  // bytes after the stream: ignored
    zs_.next_in = reinterpret_cast<Bytef*>(const_cast<char*>(in.data()));
    zs_.avail_in = static_cast<uInt>(in.size());
    char buf[16 * 1024];
    do {
      zs_.next_out = reinterpret_cast<Bytef*>(buf);
      zs_.avail_out = sizeof buf;
      const int rc = inflate(&zs_, Z_NO_FLUSH);
      // The size first: the call that meets a corrupt byte may have written
      // past the limit already, and which of the two is reported must not
      // depend on how the body was split into reads.
      const size_t n = sizeof buf - zs_.avail_out;
      if (n > limit - out->size()) return Result::kTooLarge;
      if (rc != Z_OK && rc != Z_BUF_ERROR && rc != Z_STREAM_END) return Result::kBad;
      out->append(buf, n);
      if (rc == Z_STREAM_END) ended_ = true;
      if (rc != Z_OK) break;
    } while (zs_.avail_in > 0 || zs_.avail_out == 0);
    return Result::kOk;
  }

  bool ended() const { return ended_; }

 private:
  z_stream zs_{};
  bool ready_ = false;
  bool ended_ = false;
};

HttpRequestReader::HttpRequestReader(const HttpReadLimits& limits) : limits_(limits) {}

HttpRequestReader::~HttpRequestReader() = default;

std::string HttpRequestReader::header(const std::string& lower_name) const {
  auto it = headers_.find(lower_name);
  return it == headers_.end() ? "" : it->second;
}

bool HttpRequestReader::expects_continue() const {
  return absl::AsciiStrToLower(header("expect")) == "100-continue";
}

HttpRequestReader::Stage HttpRequestReader::Feed(absl::string_view bytes) {
  if (stage_ == Stage::kHead) {
    size_t used = 0;
    FeedHead(bytes, &used);
    bytes.remove_prefix(used);
  }
  if (stage_ == Stage::kBody) FeedBody(bytes);
  return stage_;
}

HttpRequestReader::Stage HttpRequestReader::End() {
  if (stage_ == Stage::kBody) {
    return Refuse(400, "truncated", "the body ended before its Content-Length or last chunk");
  }
  return stage_;
}

HttpRequestReader::Stage HttpRequestReader::Refuse(int status, const std::string& reason, const std::string& why) {
  refusal_ = {status, reason, why};
  stage_ = Stage::kRefused;
  return stage_;
}

HttpRequestReader::Stage HttpRequestReader::FeedHead(absl::string_view bytes, size_t* used) {
  while (!bytes.empty() && stage_ == Stage::kHead) {
    size_t taken = 0;
    const bool ended = TakeLine(&bytes, &line_, &taken);
    *used += taken;
    head_bytes_ += taken;
    if (head_bytes_ > limits_.max_head_bytes) {
      return Refuse(431, "headers_too_large",
                    absl::StrCat("the request line and headers are over ", limits_.max_head_bytes, " bytes"));
    }
    if (!ended) break;
    const std::string line = std::move(line_);
    line_.clear();
    HeadLine(Unterminated(line));
  }
  return stage_;
}

HttpRequestReader::Stage HttpRequestReader::HeadLine(absl::string_view line) {
  if (method_.empty()) {
    if (line.empty()) return stage_;  // empty lines before the request line are allowed
    std::vector<absl::string_view> parts = absl::StrSplit(line, ' ');
    if (parts.size() != 3 || !IsToken(parts[0]) || !absl::StartsWith(parts[1], "/") ||
        (parts[2] != "HTTP/1.1" && parts[2] != "HTTP/1.0")) {
      return Refuse(400, "malformed", "the request line is not METHOD /PATH HTTP/1.1");
    }
    method_ = std::string(parts[0]);
    path_ = std::string(parts[1].substr(0, parts[1].find('?')));
    return stage_;
  }
  if (line.empty()) return StartBody();
  if (headers_.size() >= limits_.max_headers) {
    return Refuse(431, "headers_too_large", absl::StrCat("more than ", limits_.max_headers, " headers"));
  }
  const size_t colon = line.find(':');
  if (colon == absl::string_view::npos || !IsToken(line.substr(0, colon))) {
    return Refuse(400, "malformed", "a header line is not NAME: VALUE");
  }
  const std::string name = absl::AsciiStrToLower(line.substr(0, colon));
  const std::string value(absl::StripAsciiWhitespace(line.substr(colon + 1)));
  auto [it, added] = headers_.emplace(name, value);
  if (added) return stage_;
  // A repeated Content-Length must agree: two lengths are how a request is
  // smuggled past a proxy that reads the other one.
  if (name == "content-length" && it->second != value) {
    return Refuse(400, "malformed", "two different Content-Length headers");
  }
  if (name != "content-length") absl::StrAppend(&it->second, ", ", value);
  return stage_;
}

HttpRequestReader::Stage HttpRequestReader::StartBody() {
  const std::string chunked = absl::AsciiStrToLower(header("transfer-encoding"));
  const std::string length = header("content-length");
  const std::string encoding = absl::AsciiStrToLower(header("content-encoding"));
  stage_ = Stage::kBody;
  uint64_t declared = 0;
  if (!chunked.empty()) {
    if (chunked != "chunked") return Refuse(400, "malformed", "a Transfer-Encoding other than chunked");
    if (!length.empty()) return Refuse(400, "malformed", "both Content-Length and Transfer-Encoding");
    framing_ = Framing::kChunkSize;
  } else if (!length.empty()) {
    if (length.size() > 18 || !std::all_of(length.begin(), length.end(), absl::ascii_isdigit) ||
        !absl::SimpleAtoi(length, &declared)) {
      return Refuse(400, "malformed", "Content-Length is not a number");
    }
    if (declared > limits_.max_body_bytes) {
      return Refuse(413, "too_large", absl::StrCat("the body is over ", limits_.max_body_bytes, " bytes"));
    }
  }
  remaining_ = static_cast<size_t>(declared);
  if (encoding == "gzip" || encoding == "x-gzip" || encoding == "deflate") {
    inflater_ = std::make_unique<Inflater>();
  } else if (!encoding.empty() && encoding != "identity") {
    return Refuse(415, "malformed", "a Content-Encoding other than gzip or deflate");
  }
  if (framing_ == Framing::kLength && remaining_ == 0) return FinishBody();
  return stage_;
}

HttpRequestReader::Stage HttpRequestReader::FeedBody(absl::string_view bytes) {
  if (framing_ != Framing::kLength) return FeedChunked(&bytes);
  const size_t n = std::min(remaining_, bytes.size());
  remaining_ -= n;
  if (TakeEntity(bytes.substr(0, n)) == Stage::kBody && remaining_ == 0) FinishBody();
  return stage_;
}

HttpRequestReader::Stage HttpRequestReader::FeedChunked(absl::string_view* bytes) {
  while (!bytes->empty() && stage_ == Stage::kBody) {
    if (framing_ == Framing::kChunkData) {
      const size_t n = std::min(remaining_, bytes->size());
      remaining_ -= n;
      if (remaining_ == 0) framing_ = Framing::kChunkEnd;
      TakeEntity(bytes->substr(0, n));
      bytes->remove_prefix(n);
      continue;
    }
    size_t taken = 0;
    const bool ended = TakeLine(bytes, &line_, &taken);
    if (line_.size() > kMaxChunkLine) return Refuse(400, "malformed", "a chunk size or trailer line is too long");
    if (!ended) break;
    const std::string line = std::move(line_);
    line_.clear();
    ChunkLine(Unterminated(line));
  }
  return stage_;
}

HttpRequestReader::Stage HttpRequestReader::ChunkLine(absl::string_view line) {
  switch (framing_) {
    case Framing::kChunkSize: {
      const absl::string_view hex = absl::StripAsciiWhitespace(line.substr(0, line.find(';')));
      uint64_t size = 0;
      if (hex.empty() || hex.size() > 15 || !absl::SimpleHexAtoi(hex, &size) || hex.front() == '-' ||
          hex.front() == '+') {
        return Refuse(400, "malformed", "a chunk size is not a hex number");
      }
      if (size > limits_.max_body_bytes - entity_bytes_) {
        return Refuse(413, "too_large", absl::StrCat("the body is over ", limits_.max_body_bytes, " bytes"));
      }
      remaining_ = static_cast<size_t>(size);
      framing_ = size == 0 ? Framing::kTrailers : Framing::kChunkData;
      return stage_;
    }
    case Framing::kChunkEnd:
      if (!line.empty()) return Refuse(400, "malformed", "a chunk is longer than its size");
      framing_ = Framing::kChunkSize;
      return stage_;
    case Framing::kTrailers:
      if (line.empty()) return FinishBody();
      head_bytes_ += line.size();
      if (head_bytes_ > limits_.max_head_bytes) {
        return Refuse(431, "headers_too_large",
                      absl::StrCat("the headers and trailers are over ", limits_.max_head_bytes, " bytes"));
      }
      return stage_;
    default:
      return stage_;
  }
}

HttpRequestReader::Stage HttpRequestReader::TakeEntity(absl::string_view bytes) {
  entity_bytes_ += bytes.size();
  const std::string too_large = absl::StrCat("the body is over ", limits_.max_body_bytes, " bytes");
  if (entity_bytes_ > limits_.max_body_bytes) return Refuse(413, "too_large", too_large);
  if (!inflater_) {
    body_.append(bytes.data(), bytes.size());
    return stage_;
  }
  switch (inflater_->Inflate(bytes, &body_, limits_.max_body_bytes)) {
    case Inflater::Result::kTooLarge:
      return Refuse(413, "too_large", too_large);
    case Inflater::Result::kBad:
      return Refuse(400, "malformed", "the body is not the gzip or deflate stream its Content-Encoding says");
    default:
      return stage_;
  }
}

HttpRequestReader::Stage HttpRequestReader::FinishBody() {
  if (inflater_ && !inflater_->ended()) {
    return Refuse(400, "malformed", "the compressed body ends before its stream does");
  }
  stage_ = Stage::kDone;
  return stage_;
}

}  // namespace b24gate
