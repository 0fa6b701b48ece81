#include "tests/support/free_port.h"

#include <arpa/inet.h>
#include <fcntl.h>
#include <netinet/in.h>
#include <sys/file.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <unistd.h>

#include <fstream>
#include <random>
#include <string>

namespace b24gate::testing {
namespace {

// Where the reservations are: one lock file per port, for every test
// process of the machine.
constexpr char kLockDir[] = "/tmp/b24gate-test-ports";

// The ports to hand out: below the kernel's ephemeral range (from which
// outgoing connections and servers on port 0 take theirs), else above it.
void Candidates(int* first, int* last) {
  int low = 32768, high = 60999;
  std::ifstream range("/proc/sys/net/ipv4/ip_local_port_range");
  range >> low >> high;
  if (low > 12000) {
    *first = 10000;
    *last = low - 1;
  } else {
    *first = high + 1;
    *last = 65535;
  }
}

// Whether a listening socket can bind `port` on 127.0.0.1 now.
bool Bindable(int port) {
  int fd = socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
  if (fd < 0) return false;
  int on = 1;
  setsockopt(fd, SOL_SOCKET, SO_REUSEADDR, &on, sizeof on);  // as servers do
  sockaddr_in addr{};
  addr.sin_family = AF_INET;
  addr.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  addr.sin_port = htons(static_cast<uint16_t>(port));
  const bool ok = bind(fd, reinterpret_cast<sockaddr*>(&addr), sizeof addr) == 0;
  close(fd);
  return ok;
}

// The lock of `port`, or -1 when another process (or caller) holds it.
int Lock(int port) {
  const std::string path = std::string(kLockDir) + "/" + std::to_string(port);
  int fd = open(path.c_str(), O_RDWR | O_CREAT | O_CLOEXEC, 0666);
  if (fd < 0) return -1;
  if (flock(fd, LOCK_EX | LOCK_NB) != 0) {
    close(fd);
    return -1;
  }
  return fd;
}

}  // namespace

int FreePort() {
  mkdir(kLockDir, 01777);
  int first = 0, last = 0;
  Candidates(&first, &last);
  const int n = last - first + 1;
  const int start = static_cast<int>(std::random_device{}() % static_cast<unsigned>(n));
  for (int i = 0; i < n; ++i) {
    const int port = first + (start + i) % n;
    const int lock = Lock(port);
    if (lock < 0) continue;
    if (Bindable(port)) return port;  // the lock stays held: the reservation
    close(lock);                      // another program listens there
  }
  return 0;
}

}  // namespace b24gate::testing
