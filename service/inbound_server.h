// The HTTP server under the inbound endpoint: small requests from the
// internet, one per connection, answered by a Handler. It is our own rather
// than cpp-httplib's because httplib ties a thread to each connection for as
// long as the peer keeps it (its timeouts are per read, so a byte every few
// seconds keeps a thread forever): a few slow or idle clients would hold
// every thread of a bounded pool, and an unbounded one is a thread per
// connection. libmicrohttpd and libevent's evhttp have the same per-read
// (inactivity) timeouts and neither bounds the time to the end of the
// headers. Here one thread reads every connection with epoll, and a
// connection costs a file descriptor and a few KiB, never a thread:
//
//   - each connection has until head_time after it was accepted to send its
//     request line and headers, and body_time after that for its body, in
//     total however it trickles; then it is answered 408 and closed (slow);
//   - at most max_connections are open; one more is answered 503 and closed
//     at once (busy);
//   - the request line and headers, and the body, are bounded as
//     HttpRequestReader says, for every path;
//   - only a whole request reaches a worker (a fixed pool of `workers`
//     threads), where Handle may block on a durable write;
//   - every answer closes the connection, after reading (and dropping) for
//     at most linger_time what the peer still sends, so that it sees the
//     answer rather than a reset.
//
// Thread-safety: Bind, Serve and Stop from one thread; the Handler is
// called on the loop thread (Serves, Refused) and on the workers (Handle).
#ifndef B24GATE_SERVICE_INBOUND_SERVER_H_
#define B24GATE_SERVICE_INBOUND_SERVER_H_

#include <chrono>
#include <cstdint>
#include <deque>
#include <memory>
#include <string>
#include <thread>
#include <unordered_map>
#include <vector>

#include "absl/base/thread_annotations.h"
#include "absl/status/statusor.h"
#include "absl/strings/string_view.h"
#include "absl/synchronization/mutex.h"
#include "service/http_request_reader.h"

namespace b24gate {

class InboundServer {
 public:
  struct Request {
    std::string method;
    std::string path;  // without its query
    std::string content_type;
    std::string body;  // inflated when it was compressed
  };
  struct Reply {
    int status = 200;
    std::string body;  // text/plain
  };

  class Handler {
   public:
    virtual ~Handler() = default;
    // Whether requests of `method` to `path` are served; any other is
    // answered 404 as soon as its head is read, and not counted.
    virtual bool Serves(absl::string_view method, absl::string_view path) const = 0;
    // A whole request. On a worker thread; may block.
    virtual Reply Handle(const Request& request) = 0;
    // A request or connection the server refused (HttpRefusal's reasons,
    // slow and busy): counts it. On the loop thread: must not block.
    virtual Reply Refused(const HttpRefusal& refusal) = 0;
  };

  struct Options {
    HttpReadLimits limits;
    int workers = 4;
    size_t max_connections = 512;
    std::chrono::milliseconds head_time{10000};   // from accept to the end of the headers
    std::chrono::milliseconds body_time{20000};   // from then to the end of the body
    std::chrono::milliseconds write_time{5000};   // to send the answer
    std::chrono::milliseconds linger_time{2000};  // to read what follows it
  };

  explicit InboundServer(const Options& options);
  ~InboundServer();  // Stop()

  // Binds `host`:`port` (0: any free port); returns the bound port.
  absl::StatusOr<int> Bind(const std::string& host, int port);
  // Serves with `handler` (must outlive the server) on threads of its own.
  // REQUIRES: Bind() succeeded; called once.
  void Serve(Handler* handler);
  // Stops accepting, answers the requests already whole, closes the rest.
  void Stop();

 private:
  using Time = std::chrono::steady_clock::time_point;
  struct Conn;
  struct Job {
    uint64_t conn;
    Request request;
  };
  struct Done {
    uint64_t conn;
    Reply reply;
  };

  void Loop();
  void Work();
  void Accept(Time now);
  void OnEvent(Conn& conn, uint32_t events, Time now);
  void Read(Conn& conn, Time now);
  void OnRequest(Conn& conn, HttpRequestReader::Stage before, Time now);
  void StartWriting(Conn& conn, const Reply& reply, Time now);
  void Write(Conn& conn, Time now);
  void Linger(Conn& conn);
  void TakeReplies(Time now);
  void Sweep(Time now);
  void Control(int op, int fd, uint32_t events, uint64_t id);
  void Watch(Conn& conn, uint32_t events);
  void Close(Conn& conn);
  bool Stopped();
  bool HasJobOrDone() const ABSL_EXCLUSIVE_LOCKS_REQUIRED(mu_);

  const Options options_;
  Handler* handler_ = nullptr;
  int listen_fd_ = -1;
  int epoll_fd_ = -1;
  int wake_fd_ = -1;  // eventfd: a reply is ready, or Stop was called
  std::thread loop_;
  std::vector<std::thread> workers_;

  // The loop thread's own. A closed connection (fd -1) is forgotten at the
  // end of the loop's turn, so that no reference to it dangles within one.
  std::unordered_map<uint64_t, std::unique_ptr<Conn>> conns_;
  std::vector<uint64_t> closed_;  // closed in this turn of the loop
  uint64_t next_id_ = 2;   // 0: the listening socket, 1: wake_fd_
  bool accepting_ = true;  // false while out of file descriptors

  absl::Mutex mu_;
  std::deque<Job> jobs_ ABSL_GUARDED_BY(mu_);
  std::deque<Done> done_ ABSL_GUARDED_BY(mu_);
  bool stopping_ ABSL_GUARDED_BY(mu_) = false;      // Stop called: the loop winds down
  bool workers_done_ ABSL_GUARDED_BY(mu_) = false;  // the loop has ended: so do the workers
};

}  // namespace b24gate

#endif  // B24GATE_SERVICE_INBOUND_SERVER_H_
