// HTTP/1.1 requests over raw sockets, for the tests of the inbound endpoint:
// they send what no HTTP client would (a body cut short, headers trickled,
// nothing at all) and read whatever answer comes.
#ifndef B24GATE_TESTS_E2E_RAW_HTTP_H_
#define B24GATE_TESTS_E2E_RAW_HTTP_H_

#include <arpa/inet.h>
#include <netinet/in.h>
#include <sys/socket.h>
#include <sys/time.h>
#include <unistd.h>

#include <string>

#include "absl/strings/str_cat.h"

namespace b24gate::e2e {

// A request, and how much of it is sent.
struct Raw {
  std::string bytes;
  size_t send = std::string::npos;  // all
};

inline Raw Post(const std::string& path, const std::string& body,
                const std::string& type = "application/x-www-form-urlencoded") {
  return {absl::StrCat("POST ", path, " HTTP/1.1\r\nHost: gateway\r\nContent-Type: ", type,
                       "\r\nContent-Length: ", body.size(), "\r\nConnection: close\r\n\r\n", body)};
}

// A connected socket to `address` (IPv4 HOST:PORT); -1 when it cannot be.
inline int Connect(const std::string& address) {
  const size_t colon = address.rfind(':');
  sockaddr_in to{};
  to.sin_family = AF_INET;
  to.sin_port = htons(static_cast<uint16_t>(std::stoi(address.substr(colon + 1))));
  inet_pton(AF_INET, address.substr(0, colon).c_str(), &to.sin_addr);
  const int fd = socket(AF_INET, SOCK_STREAM, 0);
  if (fd >= 0 && connect(fd, reinterpret_cast<sockaddr*>(&to), sizeof to) != 0) {
    close(fd);
    return -1;
  }
  return fd;
}

// The HTTP status an answer starts with; -1 for none.
inline int StatusOf(const std::string& answer) {
  return answer.rfind("HTTP/1.1 ", 0) == 0 && answer.size() >= 12 ? std::stoi(answer.substr(9, 3)) : -1;
}

// Sends `raw` on a connection of its own, then (when `hang_up`) closes the
// sending side, and reads the answer to its end, giving up after
// `give_up_seconds` without a byte (0: never). Its HTTP status, -1 for none.
inline int Exchange(const std::string& address, const Raw& raw, bool hang_up = false, int give_up_seconds = 0) {
  const int fd = Connect(address);
  if (fd < 0) return -1;
  const timeval give_up{give_up_seconds, 0};
  setsockopt(fd, SOL_SOCKET, SO_RCVTIMEO, &give_up, sizeof give_up);
  const std::string bytes = raw.bytes.substr(0, raw.send);
  for (size_t sent = 0; sent < bytes.size();) {
    const ssize_t n = send(fd, bytes.data() + sent, bytes.size() - sent, MSG_NOSIGNAL);
    if (n <= 0) break;
    sent += static_cast<size_t>(n);
  }
  if (hang_up) shutdown(fd, SHUT_WR);
  std::string answer;
  char buf[1024];
  for (ssize_t n; (n = recv(fd, buf, sizeof buf, 0)) > 0;) answer.append(buf, static_cast<size_t>(n));
  close(fd);
  return StatusOf(answer);
}

}  // namespace b24gate::e2e

#endif  // B24GATE_TESTS_E2E_RAW_HTTP_H_
