// OpenSockets: the sockets one transport's libcurl has open, by the origin
// (scheme://host:port) each was opened for, and which of them the peer has
// closed.
//
// A web server closes a keep-alive connection once it has been idle past its
// limit (nginx's keepalive_timeout, the emulator's 5 s). libcurl notices
// only when a request looks for a connection: it drops the dead one and
// opens a new one on that request's path (a TCP and, for HTTPS, a TLS
// handshake added to the caller's call), and until then it still counts as
// open, so Warm() opened none in its place. Here a socket whose peer has
// sent its FIN (a read would return end of file) stops counting, and the
// transport can watch idle sockets in its poll and open replacements ahead.
//
// Looking never blocks and reads nothing libcurl would miss: poll() with no
// wait for the peer's FIN (POLLRDHUP; a TLS server's close_notify before it
// is data still unread), and recv(MSG_PEEK) for data.
//
// Each change of what counts is told to the KeepWarmSet, which keeps the
// list of sockets the loop watches.
//
// Thread-safety: none; the transport's loop thread only.
#ifndef B24GATE_ENGINE_HTTP_OPEN_SOCKETS_H_
#define B24GATE_ENGINE_HTTP_OPEN_SOCKETS_H_

#include <optional>
#include <string>
#include <unordered_map>

#include "absl/container/flat_hash_set.h"
#include "engine/http/keep_warm_set.h"

namespace b24gate {

class OpenSockets {
 public:
  // `keep_warm` (may be null) outlives this.
  explicit OpenSockets(KeepWarmSet* keep_warm = nullptr) : keep_warm_(keep_warm) {}

  void Opened(int fd, const std::string& origin);
  void Closed(int fd);
  // Sockets open to `origin`, not counting those found closed by the peer.
  int To(const std::string& origin) const;
  // Looks at every counted socket to `origin`; those the peer has closed no
  // longer count. Returns how many were found closed.
  int FindClosed(const std::string& origin);
  // `fd` was readable while idle: its origin if the connection is going
  // away (it no longer counts). Besides a FIN, any data on an idle
  // connection counts: libcurl drops a plain one that has some, and on TLS
  // it is the close_notify (or HTTP/2's GOAWAY) a server sends right before
  // its FIN. nullopt when nothing is there after all.
  std::optional<std::string> CheckReadable(int fd);
  // Closes our side of an idle counted socket (it no longer counts), to
  // replace it before the server's idle limit: the server gets our FIN now
  // and libcurl, finding it at end of file, reuses it for no request and
  // closes it. False if `fd` is not counted.
  bool Retire(int fd);

 private:
  struct Socket {
    std::string origin;
    bool closed = false;  // by the peer; not counted
  };
  // True if the peer closed `fd` (its FIN came, or an error).
  static bool PeerClosed(int fd);
  // True if data from the peer waits on `fd`.
  static bool HasData(int fd);
  void MarkClosed(int fd, Socket* socket);

  KeepWarmSet* const keep_warm_;
  std::unordered_map<int, Socket> sockets_;
  // The counted sockets by origin: Warm() looks at its origin's alone, not
  // at every open socket of every portal.
  std::unordered_map<std::string, absl::flat_hash_set<int>> counted_;
};

}  // namespace b24gate

#endif  // B24GATE_ENGINE_HTTP_OPEN_SOCKETS_H_
