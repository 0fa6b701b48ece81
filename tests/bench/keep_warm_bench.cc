// keep_warm_bench: what the transport loop's keeping warm costs per loop
// turn, with 1 to 5,000 portals kept warm, before and after the watched
// sockets were kept up to date one change at a time.
//
// In-process, no network: each portal's idle connections are eventfds
// (pollable, never readable, like an idle keep-alive socket), all portals
// were used within keep_warm_for, and a few transfers run. Each turn one
// transfer ends and another starts (a portal goes idle, another busy), and
// the new transfer's answer arrives on one of its portal's sockets: a curl
// event as the loop sees it under load.
// Both write and read the answer's eventfd (the network's part, the same
// two system calls in each).
//   before: the old turn, modelled on the code it replaced: a hash set of the
//           running transfers' origins, a pass over every open socket to
//           build the list of watched ones, and a poll of that list (what
//           curl_multi_poll does with the extra descriptors it is handed).
//   after:  KeepWarmSet told of the changes, a poll of the one epoll
//           descriptor, and when the answer's socket is named, its removal
//           from the list (its portal is busy) until its portal is idle.
// Prints microseconds per turn (wall clock: noisy on a shared machine) and
// the elements each turn touches (deterministic).
//
// usage: keep_warm_bench [--sockets N] [--turns N]
#include <poll.h>
#include <sys/eventfd.h>
#include <unistd.h>

#include <chrono>
#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <string>
#include <unordered_map>
#include <vector>

#include "absl/container/flat_hash_map.h"
#include "absl/container/flat_hash_set.h"
#include "absl/strings/str_cat.h"
#include "absl/time/time.h"
#include "engine/http/epoll_watch_list.h"
#include "engine/http/keep_warm_set.h"

namespace b24gate {
namespace {

constexpr int kRunning = 8;  // transfers in flight at any time

// Counts the changes KeepWarmSet makes, passing them on to epoll.
class CountingList : public WatchList {
 public:
  void Add(int fd) override {
    ++changes;
    epoll.Add(fd);
  }
  void Remove(int fd) override {
    ++changes;
    epoll.Remove(fd);
  }
  EpollWatchList epoll;
  long changes = 0;
};

struct Portals {
  std::vector<std::string> origins;
  std::vector<std::vector<int>> fds;  // by origin
  ~Portals() {
    for (const auto& list : fds) {
      for (int fd : list) ::close(fd);
    }
  }
};

Portals Make(int origins, int sockets) {
  Portals p;
  for (int i = 0; i < origins; ++i) {
    p.origins.push_back(absl::StrCat("https://portal", i, ".bitrix24.com:443"));
    p.fds.emplace_back();
    for (int s = 0; s < sockets; ++s) p.fds.back().push_back(::eventfd(0, EFD_NONBLOCK));
  }
  return p;
}

double Micros(std::chrono::steady_clock::duration d, int turns) {
  return std::chrono::duration<double, std::micro>(d).count() / turns;
}

// The old turn's work; returns microseconds per turn, and the elements
// looked at per turn in *touched.
double Before(const Portals& p, int turns, long* touched) {
  struct Socket {
    std::string origin;
    bool closed = false;
  };
  std::unordered_map<int, Socket> sockets;
  absl::flat_hash_map<std::string, absl::Time> used;
  for (size_t i = 0; i < p.origins.size(); ++i) {
    used[p.origins[i]] = absl::Now();
    for (int fd : p.fds[i]) sockets[fd] = Socket{p.origins[i]};
  }
  std::vector<std::string> running;
  for (int r = 0; r < kRunning; ++r) running.push_back(p.origins[r % p.origins.size()]);
  *touched = 0;
  const uint64_t one = 1;
  uint64_t drained = 0;
  auto start = std::chrono::steady_clock::now();
  for (int turn = 0; turn < turns; ++turn) {
    const size_t origin = (turn * 7919) % p.origins.size();
    running[turn % kRunning] = p.origins[origin];
    // The answer, as in After(); the old turn did not watch busy portals.
    const int answer = p.fds[origin][turn % p.fds[origin].size()];
    if (::write(answer, &one, sizeof one) < 0) return -1;
    absl::flat_hash_set<absl::string_view> busy;
    for (const std::string& origin : running) busy.insert(origin);
    std::vector<pollfd> idle;
    for (const auto& [fd, socket] : sockets) {
      if (!socket.closed && used.contains(socket.origin) && !busy.contains(socket.origin)) {
        idle.push_back({fd, POLLIN, 0});
      }
    }
    ::poll(idle.data(), idle.size(), 0);
    if (::read(answer, &drained, sizeof drained) < 0) return -1;
    *touched += static_cast<long>(running.size() + sockets.size());
  }
  auto took = std::chrono::steady_clock::now() - start;
  *touched /= turns;
  return Micros(took, turns);
}

// The new turn's work; returns microseconds per turn, and the list's
// changes per turn in *changes.
double After(const Portals& p, int turns, double* changes) {
  CountingList list;
  KeepWarmSet set(absl::Minutes(5), &list);
  const absl::Time now = absl::Now();
  std::vector<std::string> running;
  std::vector<int> ready;
  const uint64_t one = 1;
  uint64_t drained = 0;
  for (size_t i = 0; i < p.origins.size(); ++i) {
    set.Used(p.origins[i], now, {});
    for (int fd : p.fds[i]) set.Counted(fd, p.origins[i]);
  }
  for (int r = 0; r < kRunning; ++r) {
    running.push_back(p.origins[r % p.origins.size()]);
    set.Started(running.back());
  }
  list.changes = 0;
  auto start = std::chrono::steady_clock::now();
  for (int turn = 0; turn < turns; ++turn) {
    std::string& slot = running[turn % kRunning];
    set.Finished(slot, now);
    const size_t origin = (turn * 7919) % p.origins.size();
    slot = p.origins[origin];
    set.Started(slot);
    set.Used(slot, now, {});
    set.Expire(now);
    const int answer = p.fds[origin][turn % p.fds[origin].size()];
    if (::write(answer, &one, sizeof one) < 0) return -1;
    pollfd poll_fd{list.epoll.fd(), POLLIN, 0};
    ::poll(&poll_fd, 1, 0);
    if (poll_fd.revents != 0) {
      list.epoll.Ready(&ready);
      for (int fd : ready) set.Readable(fd);
    }
    if (::read(answer, &drained, sizeof drained) < 0) return -1;  // libcurl reads it
  }
  auto took = std::chrono::steady_clock::now() - start;
  *changes = static_cast<double>(list.changes) / turns;
  return Micros(took, turns);
}

int Main(int argc, char** argv) {
  int sockets = 2;
  int turns = 3000;
  for (int i = 1; i + 1 < argc; i += 2) {
    if (std::strcmp(argv[i], "--sockets") == 0) sockets = std::atoi(argv[i + 1]);
    if (std::strcmp(argv[i], "--turns") == 0) turns = std::atoi(argv[i + 1]);
  }
  std::printf("%d idle connections per portal, %d transfers running, %d turns\n", sockets,
              kRunning, turns);
  std::printf("%8s %9s %14s %14s %16s %16s\n", "portals", "sockets", "before us/turn",
              "after us/turn", "before touched", "after changes");
  for (int origins : {1, 100, 1000, 5000}) {
    Portals p = Make(origins, sockets);
    if (p.fds.back().back() < 0) {
      std::printf("%8d: not enough descriptors (ulimit -n)\n", origins);
      continue;
    }
    long touched = 0;
    double changes = 0;
    double before = Before(p, turns, &touched);
    double after = After(p, turns, &changes);
    std::printf("%8d %9d %14.2f %14.2f %16ld %16.2f\n", origins, origins * sockets, before,
                after, touched, changes);
  }
  std::fflush(stdout);
  return std::system("uptime") == 0 ? 0 : 1;
}

}  // namespace
}  // namespace b24gate

int main(int argc, char** argv) { return b24gate::Main(argc, argv); }
