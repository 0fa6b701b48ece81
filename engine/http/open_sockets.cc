#include "engine/http/open_sockets.h"

#include <poll.h>
#include <sys/socket.h>

namespace b24gate {

void OpenSockets::Opened(int fd, const std::string& origin) {
  Closed(fd);  // a number the kernel handed out again
  sockets_[fd] = Socket{origin};
  counted_[origin].insert(fd);
  if (keep_warm_ != nullptr) keep_warm_->Counted(fd, origin);
}

void OpenSockets::Closed(int fd) {
  auto it = sockets_.find(fd);
  if (it == sockets_.end()) return;
  if (!it->second.closed) MarkClosed(fd, &it->second);
  sockets_.erase(it);
}

int OpenSockets::To(const std::string& origin) const {
  auto it = counted_.find(origin);
  return it == counted_.end() ? 0 : static_cast<int>(it->second.size());
}

int OpenSockets::FindClosed(const std::string& origin) {
  auto counted = counted_.find(origin);
  if (counted == counted_.end()) return 0;
  // A copy: MarkClosed takes each one found out of the origin's set.
  const absl::flat_hash_set<int> fds = counted->second;
  int found = 0;
  for (int fd : fds) {
    if (!PeerClosed(fd)) continue;
    MarkClosed(fd, &sockets_.at(fd));
    ++found;
  }
  return found;
}

std::optional<std::string> OpenSockets::CheckReadable(int fd) {
  auto it = sockets_.find(fd);
  if (it == sockets_.end() || it->second.closed) return std::nullopt;
  if (!PeerClosed(fd) && !HasData(fd)) return std::nullopt;
  MarkClosed(fd, &it->second);
  return it->second.origin;
}

bool OpenSockets::Retire(int fd) {
  auto it = sockets_.find(fd);
  if (it == sockets_.end() || it->second.closed) return false;
  MarkClosed(fd, &it->second);
  ::shutdown(fd, SHUT_RDWR);
  return true;
}

bool OpenSockets::PeerClosed(int fd) {
  pollfd look{fd, POLLIN | POLLRDHUP, 0};
  if (::poll(&look, 1, 0) <= 0) return false;
  return (look.revents & (POLLRDHUP | POLLHUP | POLLERR | POLLNVAL)) != 0;
}

bool OpenSockets::HasData(int fd) {
  char byte;
  return ::recv(fd, &byte, 1, MSG_PEEK | MSG_DONTWAIT) > 0;
}

void OpenSockets::MarkClosed(int fd, Socket* socket) {
  socket->closed = true;
  // Before the caller closes it: a closed number may not stay watched.
  if (keep_warm_ != nullptr) keep_warm_->Uncounted(fd);
  auto it = counted_.find(socket->origin);
  if (it == counted_.end()) return;
  it->second.erase(fd);
  if (it->second.empty()) counted_.erase(it);
}

}  // namespace b24gate
