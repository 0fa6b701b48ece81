// EpollWatchList: a WatchList kept in an epoll instance.
//
// The transport's loop passes fd() to curl_multi_poll as its one extra
// descriptor: it turns readable when any watched socket does, and Ready()
// then names those. Handing libcurl the watched sockets one by one, as
// before, cost every loop turn a copy of the list into libcurl's poll array
// and a kernel poll over all of them: with thousands of portals' idle
// connections, tens of microseconds at every curl event.
//
// Level-triggered: a socket that stays readable is named again by the next
// Ready() until it leaves the list (the loop removes each one it finds
// closed).
//
// Thread-safety: none; the transport's loop thread only.
#ifndef B24GATE_ENGINE_HTTP_EPOLL_WATCH_LIST_H_
#define B24GATE_ENGINE_HTTP_EPOLL_WATCH_LIST_H_

#include <cstddef>
#include <vector>

#include "engine/http/watch_list.h"

namespace b24gate {

class EpollWatchList : public WatchList {
 public:
  EpollWatchList();
  ~EpollWatchList() override;
  EpollWatchList(const EpollWatchList&) = delete;
  EpollWatchList& operator=(const EpollWatchList&) = delete;

  void Add(int fd) override;
  void Remove(int fd) override;
  // The descriptor to poll for readability; -1 if the kernel gave none
  // (then nothing is watched and connections are replaced only when a
  // request or Warm() finds them closed).
  int fd() const { return epoll_fd_; }
  // Sockets in the list.
  size_t size() const { return size_; }
  // The watched sockets readable now (never waits).
  void Ready(std::vector<int>* fds);

 private:
  const int epoll_fd_;
  size_t size_ = 0;
};

}  // namespace b24gate

#endif  // B24GATE_ENGINE_HTTP_EPOLL_WATCH_LIST_H_
