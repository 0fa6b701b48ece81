// HttpRequestReader: a request read whole however its bytes are split, and
// every bound (head size, header count, body as sent, chunked, inflated)
// refused with its status and reason before more is kept.
#include "service/http_request_reader.h"

#include <gtest/gtest.h>
#include <zlib.h>

#include <string>

#include "absl/strings/str_cat.h"

namespace b24gate::http_request_reader_test {
namespace {

using Stage = HttpRequestReader::Stage;

constexpr char kHead[] = "POST /events/main?x=1 HTTP/1.1\r\nHost: g\r\nContent-Type: text/plain\r\n";

HttpReadLimits Limits(size_t head_bytes, size_t headers, size_t body_bytes) {
  HttpReadLimits limits;
  limits.max_head_bytes = head_bytes;
  limits.max_headers = headers;
  limits.max_body_bytes = body_bytes;
  return limits;
}

// `bytes` fed one at a time; the stage after the last.
Stage ByteByByte(HttpRequestReader& reader, const std::string& bytes) {
  for (char c : bytes) reader.Feed(std::string(1, c));
  return reader.stage();
}

std::string Deflated(const std::string& text) {
  uLongf size = compressBound(text.size());
  std::string packed(size, '\0');
  compress2(reinterpret_cast<Bytef*>(packed.data()), &size, reinterpret_cast<const Bytef*>(text.data()),
            text.size(), Z_BEST_COMPRESSION);
  packed.resize(size);
  return packed;
}

TEST(HttpRequestReader, ReadsARequestFedAByteAtATime) {
  HttpRequestReader reader(HttpReadLimits{});
  EXPECT_EQ(ByteByByte(reader, absl::StrCat(kHead, "Content-Length: 5\r\n\r\nhello and more")), Stage::kDone);
  EXPECT_EQ(reader.method(), "POST");
  EXPECT_EQ(reader.path(), "/events/main");
  EXPECT_EQ(reader.header("content-type"), "text/plain");
  EXPECT_EQ(reader.body(), "hello");
}

TEST(HttpRequestReader, ReadsChunkedAndDeflatedBodies) {
  HttpRequestReader chunked(HttpReadLimits{});
  EXPECT_EQ(chunked.Feed(absl::StrCat(kHead, "Transfer-Encoding: chunked\r\n\r\n3;x=y\r\nhel\r\n2\r\nlo\r\n0\r\n",
                                      "Trailer: t\r\n\r\n")),
            Stage::kDone);
  EXPECT_EQ(chunked.body(), "hello");
  HttpRequestReader deflated(HttpReadLimits{});
  const std::string packed = Deflated("hello");
  EXPECT_EQ(deflated.Feed(absl::StrCat(kHead, "Content-Encoding: deflate\r\nContent-Length: ", packed.size(),
                                       "\r\n\r\n", packed)),
            Stage::kDone);
  EXPECT_EQ(deflated.body(), "hello");
}

TEST(HttpRequestReader, RefusesAHeadOverTheBoundBeforeItEnds) {
  HttpRequestReader reader(Limits(100, 64, 64 * 1024));
  EXPECT_EQ(ByteByByte(reader, absl::StrCat(kHead, "X-Big: ", std::string(200, 'x'))), Stage::kRefused);
  EXPECT_EQ(reader.refusal().status, 431);
  EXPECT_EQ(reader.refusal().reason, "headers_too_large");
  HttpRequestReader line(Limits(100, 64, 64 * 1024));
  EXPECT_EQ(line.Feed("POST /" + std::string(200, 'p')), Stage::kRefused) << "a request line without its end";
}

TEST(HttpRequestReader, RefusesTooManyHeaders) {
  HttpRequestReader reader(Limits(8192, 3, 64 * 1024));
  EXPECT_EQ(reader.Feed(absl::StrCat(kHead, "A: 1\r\nB: 2\r\n\r\n")), Stage::kRefused);
  EXPECT_EQ(reader.refusal().status, 431);
}

TEST(HttpRequestReader, RefusesABodyOverTheBoundHoweverItIsSent) {
  const HttpReadLimits limits = Limits(8192, 64, 1000);
  HttpRequestReader declared(limits);
  EXPECT_EQ(declared.Feed(absl::StrCat(kHead, "Content-Length: 1001\r\n\r\n")), Stage::kRefused);
  HttpRequestReader chunked(limits);
  EXPECT_EQ(chunked.Feed(absl::StrCat(kHead, "Transfer-Encoding: chunked\r\n\r\n", "1f4\r\n",
                                      std::string(500, 'a'), "\r\n1f5\r\n")),
            Stage::kRefused);
  HttpRequestReader inflated(limits);
  const std::string packed = Deflated(std::string(100000, 'a'));
  EXPECT_EQ(inflated.Feed(absl::StrCat(kHead, "Content-Encoding: gzip\r\nContent-Length: ", packed.size(),
                                       "\r\n\r\n", packed)),
            Stage::kRefused);
  for (HttpRequestReader* r : {&declared, &chunked, &inflated}) {
    EXPECT_EQ(r->refusal().status, 413);
    EXPECT_EQ(r->refusal().reason, "too_large");
  }
}

// A compressed body that inflates past the bound and is corrupt further on
// is too large whether it comes in one read or a byte at a time (zlib can
// write past the bound in the very call that meets the corrupt byte).
TEST(HttpRequestReader, ACompressedBodyCorruptPastTheBoundIsTooLargeHoweverItIsSplit) {
  const HttpReadLimits limits = Limits(8192, 64, 1000);
  // 5,000 bytes: one call of the inflater's (16 KiB) writes them all and
  // meets the checksum.
  std::string packed = Deflated(std::string(5000, 'a'));
  packed.resize(packed.size() - 4);
  packed += "\xff\xff\xff\xff";  // the stream's checksum, wrong
  const std::string request =
      absl::StrCat(kHead, "Content-Encoding: deflate\r\nContent-Length: ", packed.size(), "\r\n\r\n", packed);
  HttpRequestReader whole(limits);
  HttpRequestReader pieces(limits);
  EXPECT_EQ(whole.Feed(request), Stage::kRefused);
  EXPECT_EQ(ByteByByte(pieces, request), Stage::kRefused);
  for (HttpRequestReader* r : {&whole, &pieces}) {
    EXPECT_EQ(r->refusal().status, 413);
    EXPECT_EQ(r->refusal().reason, "too_large");
  }
}

TEST(HttpRequestReader, RefusesFramingItWouldHaveToGuessAt) {
  for (const std::string& head :
       {"Content-Length: 5\r\nContent-Length: 6\r\n", "Content-Length: 5\r\nTransfer-Encoding: chunked\r\n",
        "Transfer-Encoding: gzip\r\n", "Content-Length: -5\r\n",
        "Content-Encoding: br\r\nContent-Length: 5\r\n"}) {
    HttpRequestReader reader(HttpReadLimits{});
    EXPECT_EQ(reader.Feed(absl::StrCat(kHead, head, "\r\nhello")), Stage::kRefused) << head;
    EXPECT_EQ(reader.refusal().reason, "malformed") << head;
  }
  HttpRequestReader bad_line(HttpReadLimits{});
  EXPECT_EQ(bad_line.Feed("GET\r\n\r\n"), Stage::kRefused);
}

TEST(HttpRequestReader, ABodyCutShortIsTruncatedAndAHeadCutShortAskedNothing) {
  HttpRequestReader body(HttpReadLimits{});
  EXPECT_EQ(body.Feed(absl::StrCat(kHead, "Content-Length: 5\r\n\r\nhel")), Stage::kBody);
  EXPECT_EQ(body.End(), Stage::kRefused);
  EXPECT_EQ(body.refusal().reason, "truncated");
  HttpRequestReader head(HttpReadLimits{});
  EXPECT_EQ(head.Feed("POST /events/main HTTP/1.1\r\nHo"), Stage::kHead);
  EXPECT_EQ(head.End(), Stage::kHead);
}

}  // namespace
}  // namespace b24gate::http_request_reader_test
