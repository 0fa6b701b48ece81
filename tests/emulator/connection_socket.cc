#include "tests/emulator/connection_socket.h"

#include <dirent.h>
#include <netdb.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <sys/socket.h>
#include <time.h>

#include <algorithm>
#include <cstdlib>
#include <string>

#include <httplib.h>
#include <openssl/ssl.h>

namespace b24emu {
namespace {

// The coarsest kernel tick (HZ=100), when the running kernel's is unknown.
constexpr absl::Duration kCoarsestJiffy = absl::Milliseconds(10);

// The numeric host of a socket address, formatted like cpp-httplib does.
bool SocketEndpoint(int fd, bool peer, std::string* host, int* port) {
  sockaddr_storage addr{};
  socklen_t len = sizeof(addr);
  const int rc = peer ? getpeername(fd, reinterpret_cast<sockaddr*>(&addr), &len)
                      : getsockname(fd, reinterpret_cast<sockaddr*>(&addr), &len);
  if (rc != 0) return false;
  char buf[NI_MAXHOST];
  char serv[NI_MAXSERV];
  if (getnameinfo(reinterpret_cast<sockaddr*>(&addr), len, buf, sizeof(buf), serv, sizeof(serv),
                  NI_NUMERICHOST | NI_NUMERICSERV) != 0) {
    return false;
  }
  *host = buf;
  *port = std::atoi(serv);
  return true;
}

bool IsConnectionOf(int fd, const httplib::Request& req) {
  std::string host;
  int port = 0;
  if (!SocketEndpoint(fd, /*peer=*/true, &host, &port)) return false;
  if (port != req.remote_port || host != req.remote_addr) return false;
  if (!SocketEndpoint(fd, /*peer=*/false, &host, &port)) return false;
  return port == req.local_port && host == req.local_addr;
}

int FindConnectionSocket(const httplib::Request& req) {
  DIR* dir = opendir("/proc/self/fd");
  if (dir == nullptr) return -1;
  int found = -1;
  while (dirent* entry = readdir(dir)) {
    const int fd = std::atoi(entry->d_name);
    if (fd <= 2 || fd == dirfd(dir)) continue;
    if (!IsConnectionOf(fd, req)) continue;
    found = fd;
    break;
  }
  closedir(dir);
  return found;
}

}  // namespace

int ConnectionSocket(const httplib::Request& req) {
  if (req.ssl != nullptr) return SSL_get_fd(req.ssl);
  thread_local int last = -1;
  if (last >= 0 && IsConnectionOf(last, req)) return last;
  last = FindConnectionSocket(req);
  return last;
}

absl::Duration AgeRounding() {
  static const absl::Duration rounding = [] {
    timespec resolution{};
    if (clock_getres(CLOCK_MONOTONIC_COARSE, &resolution) != 0) return kCoarsestJiffy;
    const absl::Duration tick = absl::DurationFromTimespec(resolution);
    if (tick <= absl::ZeroDuration() || tick > kCoarsestJiffy) return kCoarsestJiffy;
    const absl::Duration ms = absl::Milliseconds(1);
    return tick % ms == absl::ZeroDuration() ? tick : absl::Ceil(tick, ms) + ms;
  }();
  return rounding;
}

absl::Duration LastDataAge(int fd) {
  if (fd < 0) return absl::ZeroDuration();
  tcp_info info{};
  socklen_t len = sizeof(info);
  if (getsockopt(fd, IPPROTO_TCP, TCP_INFO, &info, &len) != 0) return absl::ZeroDuration();
  // last_data_recv counts the jiffies from the one the bytes came in to the
  // current one, so it can exceed the real age by up to a jiffy.
  return std::max(absl::ZeroDuration(),
                  absl::Milliseconds(info.tcpi_last_data_recv) - AgeRounding());
}

}  // namespace b24emu
