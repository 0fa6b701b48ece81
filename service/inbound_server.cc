#include "service/inbound_server.h"

#include <netdb.h>
#include <netinet/in.h>
#include <sys/epoll.h>
#include <sys/eventfd.h>
#include <sys/socket.h>
#include <unistd.h>

#include <cerrno>
#include <utility>

#include "absl/strings/str_cat.h"

namespace b24gate {
namespace {

constexpr uint64_t kListenId = 0;
constexpr uint64_t kWakeId = 1;
// How often deadlines are looked at: they are met to within this.
constexpr int kSweepMillis = 100;
// What a lingering connection may still send before it is closed anyway.
constexpr size_t kMaxLingerBytes = 1 << 20;

const char* Phrase(int status) {
  switch (status) {
    case 200:
      return "OK";
    case 400:
      return "Bad Request";
    case 403:
      return "Forbidden";
    case 404:
      return "Not Found";
    case 408:
      return "Request Timeout";
    case 409:
      return "Conflict";
    case 413:
      return "Payload Too Large";
    case 415:
      return "Unsupported Media Type";
    case 431:
      return "Request Header Fields Too Large";
    case 503:
      return "Service Unavailable";
    default:
      return status < 500 ? "Client Error" : "Server Error";
  }
}

std::string Format(const InboundServer::Reply& reply) {
  return absl::StrCat("HTTP/1.1 ", reply.status, " ", Phrase(reply.status),
                      "\r\nContent-Type: text/plain\r\nContent-Length: ", reply.body.size(),
                      "\r\nConnection: close\r\n\r\n", reply.body);
}

// What fits in the socket's buffer now: for a short answer to a peer about
// to be dropped, which must not wait for it.
void SendNow(int fd, const std::string& bytes) {
  (void)send(fd, bytes.data(), bytes.size(), MSG_NOSIGNAL | MSG_DONTWAIT);
}

int64_t Seconds(std::chrono::milliseconds d) {
  return std::chrono::duration_cast<std::chrono::seconds>(d).count();
}

}  // namespace

struct InboundServer::Conn {
  enum class Phase {
    kReading,    // the request, until its deadline
    kHandling,   // with a worker; not watched, no deadline
    kWriting,    // the answer, until its deadline
    kLingering,  // answered; dropping what the peer still sends
  };

  Conn(uint64_t id, int fd, const HttpReadLimits& limits, Time deadline)
      : id(id), fd(fd), deadline(deadline), reader(limits) {}

  const uint64_t id;
  int fd;  // -1 once closed
  bool watched = false;
  Phase phase = Phase::kReading;
  Time deadline;
  HttpRequestReader reader;
  std::string out;
  size_t written = 0;
  size_t lingered = 0;
};

InboundServer::InboundServer(const Options& options) : options_(options) {}

InboundServer::~InboundServer() {
  Stop();
  if (listen_fd_ >= 0) close(listen_fd_);
}

absl::StatusOr<int> InboundServer::Bind(const std::string& host, int port) {
  addrinfo hints{};
  hints.ai_family = AF_UNSPEC;
  hints.ai_socktype = SOCK_STREAM;
  hints.ai_flags = AI_PASSIVE | AI_NUMERICSERV;
  addrinfo* found = nullptr;
  if (getaddrinfo(host.empty() ? nullptr : host.c_str(), std::to_string(port).c_str(), &hints, &found) != 0) {
    return absl::InvalidArgumentError(absl::StrCat("cannot resolve \"", host, "\""));
  }
  for (addrinfo* a = found; a != nullptr && listen_fd_ < 0; a = a->ai_next) {
    const int fd = socket(a->ai_family, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
    const int on = 1;
    if (fd >= 0 && setsockopt(fd, SOL_SOCKET, SO_REUSEADDR, &on, sizeof on) == 0 &&
        bind(fd, a->ai_addr, a->ai_addrlen) == 0 && listen(fd, SOMAXCONN) == 0) {
      listen_fd_ = fd;
    } else if (fd >= 0) {
      close(fd);
    }
  }
  freeaddrinfo(found);
  sockaddr_storage bound{};
  socklen_t size = sizeof bound;
  if (listen_fd_ < 0 || getsockname(listen_fd_, reinterpret_cast<sockaddr*>(&bound), &size) != 0) {
    return absl::InvalidArgumentError(absl::StrCat("cannot listen on ", host, ":", port));
  }
  return ntohs(bound.ss_family == AF_INET6 ? reinterpret_cast<sockaddr_in6*>(&bound)->sin6_port
                                           : reinterpret_cast<sockaddr_in*>(&bound)->sin_port);
}

void InboundServer::Serve(Handler* handler) {
  handler_ = handler;
  epoll_fd_ = epoll_create1(EPOLL_CLOEXEC);
  wake_fd_ = eventfd(0, EFD_NONBLOCK | EFD_CLOEXEC);
  Control(EPOLL_CTL_ADD, listen_fd_, EPOLLIN, kListenId);
  Control(EPOLL_CTL_ADD, wake_fd_, EPOLLIN, kWakeId);
  for (int i = 0; i < options_.workers; ++i) workers_.emplace_back([this] { Work(); });
  loop_ = std::thread([this] { Loop(); });
}

void InboundServer::Stop() {
  if (!loop_.joinable()) return;
  {
    absl::MutexLock lock(&mu_);
    stopping_ = true;
  }
  const uint64_t one = 1;
  (void)write(wake_fd_, &one, sizeof one);
  loop_.join();
  {
    absl::MutexLock lock(&mu_);
    workers_done_ = true;
  }
  for (std::thread& t : workers_) t.join();
  workers_.clear();
  close(epoll_fd_);
  close(wake_fd_);
}

void InboundServer::Loop() {
  epoll_event events[64];
  Time next_sweep = std::chrono::steady_clock::now();
  for (;;) {
    const int n = epoll_wait(epoll_fd_, events, 64, kSweepMillis);
    const Time now = std::chrono::steady_clock::now();
    for (int i = 0; i < n; ++i) {
      const uint64_t id = events[i].data.u64;
      if (id == kListenId) {
        Accept(now);
      } else if (id == kWakeId) {
        uint64_t count;
        (void)read(wake_fd_, &count, sizeof count);
        TakeReplies(now);
      } else if (auto it = conns_.find(id); it != conns_.end() && it->second->fd >= 0) {
        OnEvent(*it->second, events[i].events, now);
      }
    }
    if (now >= next_sweep) {
      Sweep(now);
      next_sweep = now + std::chrono::milliseconds(kSweepMillis);
    }
    const bool stopped = Stopped();
    for (uint64_t id : closed_) conns_.erase(id);
    closed_.clear();
    if (stopped) break;
  }
  for (auto& [id, conn] : conns_) Close(*conn);
  conns_.clear();
  closed_.clear();
}

// After Stop: no new connections, none still reading or lingering; done
// once every request that was whole has been answered (or its answer's
// deadline passed).
bool InboundServer::Stopped() {
  {
    absl::MutexLock lock(&mu_);
    if (!stopping_) return false;
  }
  if (listen_fd_ >= 0) {
    epoll_ctl(epoll_fd_, EPOLL_CTL_DEL, listen_fd_, nullptr);
    close(listen_fd_);
    listen_fd_ = -1;
  }
  bool answering = false;
  for (auto& [id, conn] : conns_) {
    if (conn->fd < 0) continue;
    if (conn->phase == Conn::Phase::kReading || conn->phase == Conn::Phase::kLingering) {
      Close(*conn);
    } else {
      answering = true;
    }
  }
  return !answering;
}

bool InboundServer::HasJobOrDone() const { return !jobs_.empty() || workers_done_; }

void InboundServer::Work() {
  for (;;) {
    Job job;
    {
      absl::MutexLock lock(&mu_);
      mu_.Await(absl::Condition(this, &InboundServer::HasJobOrDone));
      if (jobs_.empty()) return;
      job = std::move(jobs_.front());
      jobs_.pop_front();
    }
    Reply reply = handler_->Handle(job.request);
    {
      absl::MutexLock lock(&mu_);
      done_.push_back({job.conn, std::move(reply)});
    }
    const uint64_t one = 1;
    (void)write(wake_fd_, &one, sizeof one);
  }
}

void InboundServer::Accept(Time now) {
  for (;;) {
    const int fd = accept4(listen_fd_, nullptr, nullptr, SOCK_NONBLOCK | SOCK_CLOEXEC);
    if (fd < 0 && (errno == EINTR || errno == ECONNABORTED)) continue;
    if (fd < 0 && (errno == EMFILE || errno == ENFILE)) {
      // Out of descriptors: wait for a connection to close rather than
      // being woken again and again by the one waiting.
      Control(EPOLL_CTL_MOD, listen_fd_, 0, kListenId);
      accepting_ = false;
    }
    if (fd < 0) return;
    if (conns_.size() >= options_.max_connections) {
      const HttpRefusal busy{503, "busy", absl::StrCat(options_.max_connections, " connections are open already")};
      SendNow(fd, Format(handler_->Refused(busy)));
      close(fd);
      continue;
    }
    auto conn = std::make_unique<Conn>(next_id_++, fd, options_.limits, now + options_.head_time);
    Watch(*conn, EPOLLIN);
    conns_.emplace(conn->id, std::move(conn));
  }
}

void InboundServer::OnEvent(Conn& conn, uint32_t events, Time now) {
  switch (conn.phase) {
    case Conn::Phase::kReading:
      Read(conn, now);
      return;
    case Conn::Phase::kWriting:
      if ((events & (EPOLLERR | EPOLLHUP)) != 0) {
        Close(conn);
      } else {
        Write(conn, now);
      }
      return;
    case Conn::Phase::kLingering:
      Linger(conn);
      return;
    case Conn::Phase::kHandling:
      return;
  }
}

void InboundServer::Read(Conn& conn, Time now) {
  char buf[16 * 1024];
  while (conn.phase == Conn::Phase::kReading) {
    const ssize_t n = recv(conn.fd, buf, sizeof buf, 0);
    if (n < 0 && errno == EINTR) continue;
    if (n < 0 && (errno == EAGAIN || errno == EWOULDBLOCK)) return;
    const HttpRequestReader::Stage before = conn.reader.stage();
    if (n <= 0) {
      // Closed: a request not begun was never asked; one cut short is
      // refused (truncated), the answer sent in case the peer still reads.
      if (conn.reader.End() == HttpRequestReader::Stage::kHead) {
        Close(conn);
      } else {
        OnRequest(conn, before, now);
      }
      return;
    }
    conn.reader.Feed(absl::string_view(buf, static_cast<size_t>(n)));
    if (conn.reader.stage() != HttpRequestReader::Stage::kHead) OnRequest(conn, before, now);
  }
}

void InboundServer::OnRequest(Conn& conn, HttpRequestReader::Stage before, Time now) {
  using Stage = HttpRequestReader::Stage;
  HttpRequestReader& r = conn.reader;
  if (r.stage() == Stage::kRefused) return StartWriting(conn, handler_->Refused(r.refusal()), now);
  if (before == Stage::kHead) {
    if (!handler_->Serves(r.method(), r.path())) return StartWriting(conn, Reply{404, "not found"}, now);
    conn.deadline = now + options_.body_time;
    if (r.stage() == Stage::kBody && r.expects_continue()) SendNow(conn.fd, "HTTP/1.1 100 Continue\r\n\r\n");
  }
  if (r.stage() != Stage::kDone) return;
  conn.phase = Conn::Phase::kHandling;
  epoll_ctl(epoll_fd_, EPOLL_CTL_DEL, conn.fd, nullptr);
  conn.watched = false;
  absl::MutexLock lock(&mu_);
  jobs_.push_back({conn.id, Request{r.method(), r.path(), r.header("content-type"), r.body()}});
}

void InboundServer::StartWriting(Conn& conn, const Reply& reply, Time now) {
  conn.out = Format(reply);
  conn.written = 0;
  conn.phase = Conn::Phase::kWriting;
  conn.deadline = now + options_.write_time;
  Write(conn, now);
}

void InboundServer::Write(Conn& conn, Time now) {
  while (conn.written < conn.out.size()) {
    const ssize_t n = send(conn.fd, conn.out.data() + conn.written, conn.out.size() - conn.written, MSG_NOSIGNAL);
    if (n < 0 && errno == EINTR) continue;
    if (n < 0 && (errno == EAGAIN || errno == EWOULDBLOCK)) return Watch(conn, EPOLLOUT);
    if (n <= 0) return Close(conn);
    conn.written += static_cast<size_t>(n);
  }
  // Answered: the peer reads it whole if what it still sends is read
  // rather than left to make the close a reset.
  shutdown(conn.fd, SHUT_WR);
  conn.phase = Conn::Phase::kLingering;
  conn.deadline = now + options_.linger_time;
  Watch(conn, EPOLLIN);
}

void InboundServer::Linger(Conn& conn) {
  char buf[16 * 1024];
  for (;;) {
    const ssize_t n = recv(conn.fd, buf, sizeof buf, 0);
    if (n < 0 && errno == EINTR) continue;
    if (n < 0 && (errno == EAGAIN || errno == EWOULDBLOCK)) return;
    conn.lingered += n > 0 ? static_cast<size_t>(n) : 0;
    if (n <= 0 || conn.lingered > kMaxLingerBytes) return Close(conn);
  }
}

void InboundServer::TakeReplies(Time now) {
  std::deque<Done> done;
  {
    absl::MutexLock lock(&mu_);
    done.swap(done_);
  }
  for (Done& d : done) {
    auto it = conns_.find(d.conn);
    if (it != conns_.end() && it->second->fd >= 0) StartWriting(*it->second, d.reply, now);
  }
}

// A connection past its deadline is closed; one still reading its request
// is told so first, and counted (slow), idle ones included.
void InboundServer::Sweep(Time now) {
  for (auto& [id, conn] : conns_) {
    if (conn->fd < 0 || conn->phase == Conn::Phase::kHandling || now < conn->deadline) continue;
    if (conn->phase == Conn::Phase::kReading) {
      const bool head = conn->reader.stage() == HttpRequestReader::Stage::kHead;
      const HttpRefusal slow{408, "slow",
                             head ? absl::StrCat("the request line and headers did not arrive within ",
                                                 Seconds(options_.head_time), " s")
                                  : absl::StrCat("the body did not arrive within ", Seconds(options_.body_time),
                                                 " s of the headers")};
      SendNow(conn->fd, Format(handler_->Refused(slow)));
    }
    Close(*conn);
  }
}

void InboundServer::Control(int op, int fd, uint32_t events, uint64_t id) {
  epoll_event e{};
  e.events = events;
  e.data.u64 = id;
  epoll_ctl(epoll_fd_, op, fd, &e);
}

void InboundServer::Watch(Conn& conn, uint32_t events) {
  Control(conn.watched ? EPOLL_CTL_MOD : EPOLL_CTL_ADD, conn.fd, events, conn.id);
  conn.watched = true;
}

// Closes now; the loop forgets the connection after the events at hand.
void InboundServer::Close(Conn& conn) {
  if (conn.fd < 0) return;
  if (conn.watched) epoll_ctl(epoll_fd_, EPOLL_CTL_DEL, conn.fd, nullptr);
  close(conn.fd);
  conn.fd = -1;
  closed_.push_back(conn.id);
  if (!accepting_ && listen_fd_ >= 0) {
    Control(EPOLL_CTL_MOD, listen_fd_, EPOLLIN, kListenId);
    accepting_ = true;
  }
}

}  // namespace b24gate
