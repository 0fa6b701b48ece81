// A TCP socket listening on 127.0.0.1 at a port the kernel picks: the start
// of the tests' hand-made servers (ones that answer wrongly or never), and on
// its own a port held by "another program", or a peer that takes
// connections in the kernel's backlog and never answers them.
//
// Thread-safety: Accept() may wait on one thread while another calls
// Shutdown(); Close() (and the destructor) only once no Accept() runs.
#ifndef B24GATE_TESTS_SUPPORT_LISTENING_SOCKET_H_
#define B24GATE_TESTS_SUPPORT_LISTENING_SOCKET_H_

#include <string>

namespace b24gate::testing {

class ListeningSocket {
 public:
  // Listens with room for `backlog` connections nobody accepted yet.
  explicit ListeningSocket(int backlog = 16);
  ~ListeningSocket() { Close(); }
  ListeningSocket(const ListeningSocket&) = delete;
  ListeningSocket& operator=(const ListeningSocket&) = delete;

  // The port; 0 when the socket could not listen.
  int port() const { return port_; }
  // "127.0.0.1:PORT".
  std::string address() const;
  // The next connection (the caller closes it); -1 after Shutdown() or
  // Close(), or when there is no socket.
  int Accept();
  // Ends a waiting Accept() and every later one; the port stays held.
  void Shutdown();
  // Shuts down and gives the port back: connections waiting in the backlog
  // are reset. Safe to call again.
  void Close();

 private:
  int fd_ = -1;
  int port_ = 0;
};

}  // namespace b24gate::testing

#endif  // B24GATE_TESTS_SUPPORT_LISTENING_SOCKET_H_
