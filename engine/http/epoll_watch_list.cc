#include "engine/http/epoll_watch_list.h"

#include <sys/epoll.h>
#include <unistd.h>

namespace b24gate {
namespace {

// Readable sockets taken per epoll_wait call; more wait for the next call
// (level-triggered, none is lost).
constexpr int kReadyPerCall = 64;

}  // namespace

EpollWatchList::EpollWatchList() : epoll_fd_(::epoll_create1(EPOLL_CLOEXEC)) {}

EpollWatchList::~EpollWatchList() {
  if (epoll_fd_ >= 0) ::close(epoll_fd_);
}

void EpollWatchList::Add(int fd) {
  if (epoll_fd_ < 0) return;
  // EPOLLRDHUP: the peer's FIN, also when data sits unread before it.
  epoll_event event{};
  event.events = EPOLLIN | EPOLLRDHUP;
  event.data.fd = fd;
  if (::epoll_ctl(epoll_fd_, EPOLL_CTL_ADD, fd, &event) == 0) ++size_;
}

void EpollWatchList::Remove(int fd) {
  if (epoll_fd_ < 0) return;
  // The event argument is ignored for DEL but must be non-null before
  // Linux 2.6.9.
  epoll_event unused{};
  if (::epoll_ctl(epoll_fd_, EPOLL_CTL_DEL, fd, &unused) == 0) --size_;
}

void EpollWatchList::Ready(std::vector<int>* fds) {
  fds->clear();
  if (epoll_fd_ < 0 || size_ == 0) return;
  epoll_event events[kReadyPerCall];
  int n = ::epoll_wait(epoll_fd_, events, kReadyPerCall, 0);
  for (int i = 0; i < n; ++i) fds->push_back(events[i].data.fd);
}

}  // namespace b24gate
