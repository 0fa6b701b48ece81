#include "engine/http/open_sockets.h"

#include <poll.h>
#include <sys/socket.h>

namespace b24gate {

void OpenSockets::Opened(int fd, const std::string& origin) {
  Closed(fd);  // a number the kernel handed out again
  sockets_[fd] = Socket{origin};
  ++counted_[origin];
}

void OpenSockets::Closed(int fd) {
  auto it = sockets_.find(fd);
  if (it == sockets_.end()) return;
  if (!it->second.closed) MarkClosed(&it->second);
  sockets_.erase(it);
}

int OpenSockets::To(const std::string& origin) const {
  auto it = counted_.find(origin);
  return it == counted_.end() ? 0 : it->second;
}

int OpenSockets::FindClosed(const std::string& origin) {
  int found = 0;
  for (auto& [fd, socket] : sockets_) {
    if (socket.closed || socket.origin != origin || !PeerClosed(fd)) continue;
    MarkClosed(&socket);
    ++found;
  }
  return found;
}

std::vector<int> OpenSockets::Watched(
    const std::function<bool(const std::string&)>& watch) const {
  std::vector<int> fds;
  for (const auto& [fd, socket] : sockets_) {
    if (!socket.closed && watch(socket.origin)) fds.push_back(fd);
  }
  return fds;
}

std::optional<std::string> OpenSockets::CheckReadable(int fd) {
  auto it = sockets_.find(fd);
  if (it == sockets_.end() || it->second.closed) return std::nullopt;
  if (!PeerClosed(fd) && !HasData(fd)) return std::nullopt;
  MarkClosed(&it->second);
  return it->second.origin;
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

void OpenSockets::MarkClosed(Socket* socket) {
  socket->closed = true;
  auto it = counted_.find(socket->origin);
  if (it != counted_.end() && --it->second == 0) counted_.erase(it);
}

}  // namespace b24gate
