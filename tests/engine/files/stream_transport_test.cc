// StreamTransport against a local HTTP server: bodies stream through pipes
// in both directions, a transfer waits (paused, no thread) for an empty or
// full pipe, a wrong declared size stops the body before it is whole, and a
// whole answer to a range request is not taken for the rest of the file.
#include "engine/files/stream_transport.h"

#include <sys/socket.h>
#include <unistd.h>

#include <gmock/gmock.h>
#include <gtest/gtest.h>
#include <httplib.h>

#include <atomic>
#include <memory>
#include <string>
#include <thread>

#include "absl/strings/ascii.h"
#include "absl/strings/escaping.h"
#include "absl/strings/match.h"
#include "absl/strings/str_cat.h"
#include "absl/synchronization/mutex.h"
#include "absl/synchronization/notification.h"
#include "absl/time/clock.h"
#include "engine/common/clock.h"
#include "tests/support/listening_socket.h"
#include "tests/support/self_signed_certificate.h"

namespace b24gate::stream_transport_test {
namespace {

using ::testing::HasSubstr;
using ::testing::Not;

class Server {
 public:
  Server() {
    server_.Post("/up", [this](const httplib::Request& req, httplib::Response& res,
                               const httplib::ContentReader& reader) {
      std::string body;
      const bool whole = reader([&](const char* data, size_t n) {
        body.append(data, n);
        return true;
      });
      absl::MutexLock lock(&mu_);
      received_ = body;
      whole_ = whole;
      content_type_ = req.get_header_value("Content-Type");
      res.set_content(R"({"result":{"ID":"7"}})", "application/json");
    });
    server_.Get("/down", [this](const httplib::Request&, httplib::Response& res) {
      res.set_content(payload_, "application/octet-stream");
    });
    server_.Get("/moved", [](const httplib::Request&, httplib::Response& res) {
      res.set_redirect("/down", 302);
    });
    server_.Get("/typed", [this](const httplib::Request&, httplib::Response& res) {
      res.set_content(payload_, "application/pdf");
    });
    server_.Get("/typed-moved", [](const httplib::Request&, httplib::Response& res) {
      res.set_content("<a href=/typed>moved</a>", "text/html");
      res.set_redirect("/typed", 302);
    });
    server_.Get("/empty", [](const httplib::Request&, httplib::Response& res) {
      res.set_content("", "text/plain");
    });
    server_.Get("/missing", [](const httplib::Request&, httplib::Response& res) {
      res.status = 404;
      res.set_content(R"({"error":"ERROR_NOT_FOUND"})", "application/json");
    });
    port_ = server_.bind_to_any_port("127.0.0.1");
    thread_ = std::thread([this] { server_.listen_after_bind(); });
    while (!server_.is_running()) std::this_thread::yield();
  }
  ~Server() {
    server_.stop();
    thread_.join();
  }
  std::string Url(const std::string& path) const {
    return "http://127.0.0.1:" + std::to_string(port_) + path;
  }
  std::string received() {
    absl::MutexLock lock(&mu_);
    return received_;
  }
  bool whole() {
    absl::MutexLock lock(&mu_);
    return whole_;
  }
  std::string payload_;

 private:
  httplib::Server server_;
  int port_ = 0;
  std::thread thread_;
  absl::Mutex mu_;
  std::string received_;
  bool whole_ = false;
  std::string content_type_;
};

// A portal that ignores ranges: answers its one connection's request with
// 200 and the whole body, whatever the request's Range (cpp-httplib would
// honour it).
class RangeIgnoringServer {
 public:
  explicit RangeIgnoringServer(std::string body) : body_(std::move(body)) {
    thread_ = std::thread([this] { ServeOne(); });
  }
  ~RangeIgnoringServer() {
    listener_.Shutdown();  // ends a pending accept
    thread_.join();
  }
  std::string Url() const { return "http://" + listener_.address() + "/file"; }
  bool range_asked() const { return range_asked_; }

 private:
  void ServeOne() {
    const int conn = listener_.Accept();
    if (conn < 0) return;
    std::string request;
    char buffer[4096];
    while (request.find("\r\n\r\n") == std::string::npos) {
      const ssize_t n = ::recv(conn, buffer, sizeof buffer, 0);
      if (n <= 0) break;
      request.append(buffer, static_cast<size_t>(n));
    }
    range_asked_ = absl::StrContains(absl::AsciiStrToLower(request), "\r\nrange: bytes=");
    const std::string answer = absl::StrCat("HTTP/1.1 200 OK\r\nContent-Type: application/octet-stream\r\n",
                                            "Content-Length: ", body_.size(),
                                            "\r\nConnection: close\r\n\r\n", body_);
    for (size_t sent = 0; sent < answer.size();) {
      const ssize_t n = ::send(conn, answer.data() + sent, answer.size() - sent, MSG_NOSIGNAL);
      if (n <= 0) break;
      sent += static_cast<size_t>(n);
    }
    ::close(conn);
  }

  const std::string body_;
  testing::ListeningSocket listener_{1};
  std::atomic<bool> range_asked_{false};
  std::thread thread_;
};

// Runs `request` and waits for its result.
StreamResult Transfer(StreamTransport& transport, StreamRequest request,
                 const std::function<void()>& meanwhile = [] {}) {
  absl::Notification done;
  StreamResult result;
  transport.Start(std::move(request), [&](StreamResult r) {
    result = std::move(r);
    done.Notify();
  });
  meanwhile();
  EXPECT_TRUE(done.WaitForNotificationWithTimeout(absl::Seconds(20)));
  return result;
}

// Runs `request`, calling `meanwhile` with its completion (it returns when
// the transfer ended or it gave up), and waits for the result.
StreamResult TransferWhile(StreamTransport& transport, StreamRequest request,
                           const std::function<void(absl::Notification*)>& meanwhile) {
  absl::Notification done;
  StreamResult result;
  transport.Start(std::move(request), [&](StreamResult r) {
    result = std::move(r);
    done.Notify();
  });
  meanwhile(&done);
  EXPECT_TRUE(done.WaitForNotificationWithTimeout(absl::Seconds(1)));
  return result;
}

std::string Pattern(size_t n) {
  std::string s(n, '\0');
  for (size_t i = 0; i < n; ++i) s[i] = static_cast<char>(i * 31 + i / 977);
  return s;
}

// Writes `bytes` into `pipe` in pieces of `piece` bytes, each when the pipe
// has room, then closes it.
void FeedAll(BytePipe& pipe, const std::string& bytes, size_t piece) {
  size_t at = 0;
  while (at < bytes.size()) {
    const size_t n = std::min(piece, bytes.size() - at);
    if (pipe.Write(absl::string_view(bytes).substr(at, n)) == BytePipe::WriteResult::kTaken) {
      at += n;
    } else {
      absl::SleepFor(absl::Milliseconds(1));
    }
  }
  pipe.Close();
}

TEST(StreamTransport, UploadBodyIsHeadThenThePipesBytesAsTheyComeThenTail) {
  Server server;
  StreamTransport transport(Clock::Real());
  auto pipe = std::make_shared<BytePipe>(4096);
  const std::string bytes = Pattern(200000);
  StreamRequest request;
  request.url = server.Url("/up");
  request.upload = pipe;
  request.head = "HEAD|";
  request.tail = "|TAIL";
  request.content_type = "application/x-test";
  // The feeder writes only when the pipe has room: the transfer pauses on
  // an empty pipe and is woken when more comes.
  StreamResult r = Transfer(transport, request, [&] { FeedAll(*pipe, bytes, 1000); });
  ASSERT_EQ(r.failure, TransportFailure::kNone) << r.failure_message;
  EXPECT_EQ(r.status, 200);
  EXPECT_TRUE(r.body_complete);
  EXPECT_EQ(r.bytes_sent, 200000);
  EXPECT_EQ(r.answer, R"({"result":{"ID":"7"}})");
  EXPECT_TRUE(server.received() == "HEAD|" + bytes + "|TAIL");
}

// Base64 mode: each length modulo 3 (the padding), in pieces that split
// the groups of three anywhere, with and without a declared size.
TEST(StreamTransport, Base64ModeEncodesThePipesBytesOnTheWay) {
  Server server;
  StreamTransport transport(Clock::Real());
  for (size_t size : {size_t{0}, size_t{1}, size_t{2}, size_t{300001}, size_t{1} << 20}) {
    for (bool declared : {false, true}) {
      SCOPED_TRACE(absl::StrCat(size, declared ? " declared" : ""));
      auto pipe = std::make_shared<BytePipe>(4096);
      const std::string bytes = Pattern(size);
      StreamRequest request;
      request.url = server.Url("/up");
      request.upload = pipe;
      request.head = "[\"";
      request.tail = "\"]";
      request.base64 = true;
      if (declared) request.upload_size = static_cast<int64_t>(size);
      StreamResult r = Transfer(transport, request, [&] { FeedAll(*pipe, bytes, 1001); });
      ASSERT_EQ(r.failure, TransportFailure::kNone) << r.failure_message;
      EXPECT_TRUE(r.body_complete);
      EXPECT_EQ(r.bytes_sent, static_cast<int64_t>(size));
      EXPECT_TRUE(server.received() == "[\"" + absl::Base64Escape(bytes) + "\"]");
    }
  }
}

TEST(StreamTransport, ADownloadFollowsRedirectsOnlyWhenAskedTo) {
  Server server;
  server.payload_ = Pattern(100000);
  StreamTransport transport(Clock::Real());
  for (int redirects : {0, 2}) {
    auto pipe = std::make_shared<BytePipe>(1 << 20);
    StreamRequest request;
    request.url = server.Url("/moved");
    request.download = pipe;
    request.max_redirects = redirects;
    StreamResult r = Transfer(transport, request);
    ASSERT_EQ(r.failure, TransportFailure::kNone) << r.failure_message;
    EXPECT_EQ(r.status, redirects > 0 ? 200 : 302);
    EXPECT_EQ(r.bytes_received, redirects > 0 ? 100000 : 0);
  }
}

// One transfer at a time, so each gets the easy handle the last one used:
// nothing that transfer set reaches the next -- a range, a redirect policy.
TEST(StreamTransport, ATransferKeepsNothingOfTheOneBefore) {
  Server server;
  server.payload_ = Pattern(100000);
  StreamTransport transport(Clock::Real());
  struct Case {
    const char* path;
    int64_t range_from;
    int redirects;
    int status;
    int64_t bytes;
  };
  for (const Case& c : {Case{"/down", 10, 0, 206, 99990}, Case{"/down", 0, 0, 200, 100000},
                        Case{"/moved", 0, 2, 200, 100000}, Case{"/moved", 0, 0, 302, 0}}) {
    SCOPED_TRACE(absl::StrCat(c.path, " from ", c.range_from, " redirects ", c.redirects));
    StreamRequest request;
    request.url = server.Url(c.path);
    request.download = std::make_shared<BytePipe>(1 << 20);
    request.range_from = c.range_from;
    request.max_redirects = c.redirects;
    StreamResult r = Transfer(transport, request);
    ASSERT_EQ(r.failure, TransportFailure::kNone) << r.failure_message;
    EXPECT_EQ(r.status, c.status);
    EXPECT_EQ(r.bytes_received, c.bytes);
  }
}

// on_body announces the body asked for, once, before its first byte is in
// the pipe, with the Content-Type of the answer that carries it (not a
// redirect's); an empty body is announced too; an error answer or a
// redirect not followed is no body.
TEST(StreamTransport, OnBodyComesOnceBeforeTheBytesWithTheServedType) {
  Server server;
  server.payload_ = Pattern(300000);
  StreamTransport transport(Clock::Real());
  struct Case {
    const char* path;
    int redirects;
    int calls;
    const char* type;
    int64_t bytes;
  };
  for (const Case& c : {Case{"/typed-moved", 2, 1, "application/pdf", 300000},
                        Case{"/empty", 0, 1, "text/plain", 0}, Case{"/missing", 0, 0, "", 0},
                        Case{"/typed-moved", 0, 0, "", 0}}) {
    SCOPED_TRACE(c.path);
    auto pipe = std::make_shared<BytePipe>(1 << 20);
    int calls = 0;
    std::string type;
    bool pipe_was_empty = false;
    StreamRequest request;
    request.url = server.Url(c.path);
    request.download = pipe;
    request.max_redirects = c.redirects;
    request.on_body = [&](const std::string& content_type) {
      ++calls;
      type = content_type;
      char byte;
      size_t n = 0;
      pipe_was_empty = pipe->Read(&byte, 1, &n) == BytePipe::ReadResult::kEmpty;
    };
    StreamResult r = Transfer(transport, request);
    ASSERT_EQ(r.failure, TransportFailure::kNone) << r.failure_message;
    EXPECT_EQ(calls, c.calls);
    EXPECT_EQ(type, c.type);
    EXPECT_EQ(r.bytes_received, c.bytes);
    if (c.calls > 0) EXPECT_TRUE(pipe_was_empty);
  }
}

// A resumed download whose portal ignores the Range answers 200 with the
// whole file: that is not the rest of the file, so none of it goes into the
// pipe and on_body never comes (the caller's call fails instead of getting
// the file's start appended to what it has).
TEST(StreamTransport, AWholeAnswerToARangeIsNotTakenForTheRest) {
  RangeIgnoringServer server(Pattern(100000));
  StreamTransport transport(Clock::Real());
  auto pipe = std::make_shared<BytePipe>(1 << 20);
  bool began = false;
  StreamRequest request;
  request.url = server.Url();
  request.download = pipe;
  request.range_from = 10;
  request.on_body = [&](const std::string&) { began = true; };
  StreamResult r = Transfer(transport, request);
  EXPECT_TRUE(server.range_asked());
  EXPECT_EQ(r.status, 200);
  EXPECT_FALSE(began);
  EXPECT_EQ(r.bytes_received, 0);
  EXPECT_TRUE(pipe->aborted());
}

TEST(StreamTransport, ADeclaredSizeTheStreamMissesStopsTheBodyBeforeItIsWhole) {
  Server server;
  StreamTransport transport(Clock::Real());
  for (int64_t declared : {int64_t{10}, int64_t{5000}}) {
    auto pipe = std::make_shared<BytePipe>(1 << 16);
    pipe->Write(Pattern(1000));
    pipe->Close();
    StreamRequest request;
    request.url = server.Url("/up");
    request.upload = pipe;
    request.upload_size = declared;
    request.tail = "end";
    StreamResult r = Transfer(transport, request);
    EXPECT_NE(r.failure, TransportFailure::kNone) << declared;
    EXPECT_EQ(r.local_stop, LocalStop::kSizeMismatch) << declared;
    EXPECT_FALSE(r.body_complete) << declared;
  }
}

TEST(StreamTransport, DownloadWaitsForItsReaderAndDeliversEveryByte) {
  Server server;
  server.payload_ = Pattern(3 << 20);
  StreamTransport transport(Clock::Real());
  auto pipe = std::make_shared<BytePipe>(8192);
  StreamRequest request;
  request.url = server.Url("/down");
  request.download = pipe;
  std::string got;
  // A slow reader: the transfer is paused whenever the small pipe is full.
  absl::Notification started;
  std::thread reader([&] {
    char buf[3000];
    size_t n = 0;
    while (true) {
      BytePipe::ReadResult r = pipe->Read(buf, sizeof(buf), &n);
      if (r == BytePipe::ReadResult::kData) got.append(buf, n);
      if (r == BytePipe::ReadResult::kEnd || r == BytePipe::ReadResult::kAborted) break;
      if (r == BytePipe::ReadResult::kEmpty) absl::SleepFor(absl::Microseconds(200));
    }
  });
  StreamResult r = Transfer(transport, request);
  reader.join();
  ASSERT_EQ(r.failure, TransportFailure::kNone) << r.failure_message;
  EXPECT_EQ(r.status, 200);
  EXPECT_EQ(r.bytes_received, 3 << 20);
  EXPECT_TRUE(got == server.payload_) << got.size();
}

// A caller that stops feeding an upload (or draining a download) leaves the
// transfer paused; after stall_timeout without a byte on the transport's
// clock it fails, freeing its slot, instead of waiting for ever. The clock is
// a FakeClock moved far past the timeout while the transfer sits paused: a
// transport that read the real clock would wait the whole 60 s.
TEST(StreamTransport, ATransferNoByteMovesForFailsByItsClock) {
  Server server;
  server.payload_ = Pattern(1 << 20);
  FakeClock clock;
  StreamTransport transport(&clock);
  // The loop looks at the clock at least once a second; the clock moves on
  // until the transfer is gone (for 20 s of real time at most).
  auto advance_until_done = [&clock](absl::Notification* done) {
    for (int i = 0; i < 400 && !done->WaitForNotificationWithTimeout(absl::Milliseconds(50)); ++i) {
      clock.Advance(absl::Minutes(2));
    }
  };
  auto up = std::make_shared<BytePipe>(4096);
  up->Write("some bytes, then nothing");
  StreamRequest upload;
  upload.url = server.Url("/up");
  upload.upload = up;
  upload.stall_timeout = absl::Seconds(60);
  StreamResult r = TransferWhile(transport, upload, advance_until_done);
  EXPECT_EQ(r.local_stop, LocalStop::kStalled) << r.failure_message;
  EXPECT_FALSE(r.body_complete);
  EXPECT_TRUE(up->aborted());

  auto down = std::make_shared<BytePipe>(4096);  // never read
  StreamRequest download;
  download.url = server.Url("/down");
  download.download = down;
  download.stall_timeout = absl::Seconds(60);
  r = TransferWhile(transport, download, advance_until_done);
  EXPECT_EQ(r.local_stop, LocalStop::kStalled) << r.failure_message;
  EXPECT_LT(r.bytes_received, 1 << 20);
}

TEST(StreamTransport, AnAbandonedDownloadEndsTheTransfer) {
  Server server;
  server.payload_ = Pattern(4 << 20);
  StreamTransport transport(Clock::Real());
  auto pipe = std::make_shared<BytePipe>(4096);
  StreamRequest request;
  request.url = server.Url("/down");
  request.download = pipe;
  StreamResult r = Transfer(transport, request, [&] {
    char buf[100];
    size_t n = 0;
    while (pipe->Read(buf, sizeof(buf), &n) != BytePipe::ReadResult::kData) {
      absl::SleepFor(absl::Milliseconds(1));
    }
    pipe->Abort();
  });
  EXPECT_NE(r.failure, TransportFailure::kNone);
  EXPECT_EQ(r.local_stop, LocalStop::kPipeAborted);
  EXPECT_LT(r.bytes_received, 4 << 20);
}

// A download over https whose link redirects to plain http: refused before
// libcurl follows (the link's auth token would go out in cleartext), the
// plain server never asked, nothing put into the pipe, the pipe aborted, and
// the message names the target's origin only. Another https host (a storage
// host) is followed.
class StreamTransportTls : public ::testing::Test {
 protected:
  static void SetUpTestSuite() {
    dir_ = testing::SelfSignedCertificate();
    ASSERT_FALSE(dir_.empty()) << "openssl could not make a certificate";
  }

  // An https server whose /link answers 302 to `target`.
  struct Linking {
    explicit Linking(std::string target)
        : server((dir_ + "/cert.pem").c_str(), (dir_ + "/key.pem").c_str()) {
      server.Get("/link", [target](const httplib::Request&, httplib::Response& res) {
        res.set_redirect(target, 302);
      });
      server.Get("/down", [](const httplib::Request&, httplib::Response& res) {
        res.set_content("stored bytes", "application/octet-stream");
      });
      port = server.bind_to_any_port("127.0.0.1");
      thread = std::thread([this] { server.listen_after_bind(); });
      while (!server.is_running()) std::this_thread::yield();
    }
    ~Linking() {
      server.stop();
      thread.join();
    }
    std::string Url(const std::string& path) const {
      return absl::StrCat("https://127.0.0.1:", port, path);
    }
    httplib::SSLServer server;
    int port = 0;
    std::thread thread;
  };

  static StreamRequest Download(const Linking& from, std::shared_ptr<BytePipe> pipe) {
    StreamRequest request;
    request.url = from.Url("/link?auth=s3cr3t");
    request.download = std::move(pipe);
    request.max_redirects = 3;
    request.tls.ca_file = dir_ + "/cert.pem";
    return request;
  }

  static std::string dir_;
};

std::string StreamTransportTls::dir_;

TEST_F(StreamTransportTls, ADownloadIsNeverRedirectedFromHttpsToHttp) {
  std::atomic<int> plain_requests{0};
  httplib::Server plain;
  plain.Get(".*", [&](const httplib::Request&, httplib::Response& res) {
    ++plain_requests;
    res.set_content("cleartext", "application/octet-stream");
  });
  const int plain_port = plain.bind_to_any_port("127.0.0.1");
  std::thread plain_thread([&] { plain.listen_after_bind(); });
  Linking link(absl::StrCat("http://127.0.0.1:", plain_port, "/file?auth=s3cr3t"));
  StreamTransport transport(Clock::Real());
  auto pipe = std::make_shared<BytePipe>(1 << 20);
  bool body_announced = false;
  StreamRequest request = Download(link, pipe);
  request.on_body = [&](const std::string&) { body_announced = true; };
  StreamResult r = Transfer(transport, std::move(request));
  plain.stop();
  plain_thread.join();
  EXPECT_NE(r.failure, TransportFailure::kNone);
  EXPECT_EQ(r.local_stop, LocalStop::kRedirectRefused);
  EXPECT_THAT(r.failure_message, HasSubstr("from https to plain http"));
  EXPECT_THAT(r.failure_message, HasSubstr(absl::StrCat("http://127.0.0.1:", plain_port)));
  EXPECT_THAT(r.failure_message, Not(HasSubstr("s3cr3t")));
  EXPECT_EQ(plain_requests, 0) << "the link's token went out in cleartext";
  EXPECT_EQ(r.bytes_received, 0);
  EXPECT_FALSE(body_announced);
  char byte = 0;
  size_t n = 0;
  EXPECT_EQ(pipe->Read(&byte, 1, &n), BytePipe::ReadResult::kAborted);
}

TEST_F(StreamTransportTls, ADownloadFollowsARedirectToAnotherHttpsOrigin) {
  Linking storage("/unused");
  Linking link(storage.Url("/down"));
  StreamTransport transport(Clock::Real());
  auto pipe = std::make_shared<BytePipe>(1 << 20);
  StreamResult r = Transfer(transport, Download(link, pipe));
  ASSERT_EQ(r.failure, TransportFailure::kNone) << r.failure_message;
  EXPECT_EQ(r.status, 200);
  EXPECT_EQ(r.bytes_received, static_cast<int64_t>(std::string("stored bytes").size()));
}

}  // namespace
}  // namespace b24gate::stream_transport_test
