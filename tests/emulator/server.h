// The HTTP(S) front of the emulator, on cpp-httplib: translates requests into
// Portal calls and replies back, holds each reply for its processing delay,
// and serves the control endpoints under /_emulator/. No protocol logic here.
//
// cpp-httplib serves each connection on one pool thread (keep-alive included),
// and replies are held by sleeping, so the pool must be larger than the
// number of concurrent client connections (--threads).
//
// Thread-safety: Start/Stop from one thread; handlers run on the pool.
#ifndef B24EMU_SERVER_H_
#define B24EMU_SERVER_H_

#include <atomic>
#include <cstdint>
#include <functional>
#include <memory>
#include <string>
#include <thread>

#include "absl/status/statusor.h"
#include "absl/synchronization/notification.h"
#include "absl/time/time.h"
#include "tests/emulator/access_log.h"
#include "tests/emulator/clock.h"
#include "tests/emulator/portal.h"
#include "tests/emulator/portal_set.h"

namespace httplib {
class Server;
struct Request;
}

namespace b24emu {

struct ServerOptions {
  std::string host = "127.0.0.1";
  int port = 0;               // 0: any free port
  std::string tls_cert_file;  // both set: serve HTTPS
  std::string tls_key_file;
  int threads = 128;          // connection-serving threads
  int keep_alive_timeout_seconds = 5;
  // A request whose body is larger (0: no limit) is answered 413, as the
  // web server in front of a portal does, before the portal sees it: its
  // body is read and dropped, nothing runs and nothing is stored.
  int64_t max_request_size = 0;
  // Times a reply's hold: the modelled processing time counts from when the
  // request's bytes had arrived (tests: a fake, to see how long a reply was
  // held). Must outlive the server.
  const Clock* clock = RealClock();
  // How long before it was read a request's bytes arrived (tests); unset:
  // the kernel's record for its connection (connection_socket.h).
  std::function<absl::Duration(const httplib::Request&)> request_age;
  // Gets a line per request answered (null: none). Must outlive the server.
  AccessLog* access_log = nullptr;
};

class EmulatorServer {
 public:
  // One portal. `portal` must outlive the server.
  EmulatorServer(ServerOptions options, Portal* portal);
  // Many portals: a request goes to the portal its Host names (the set's
  // first one otherwise), and /_emulator/portals creates and removes them.
  // `portals` must outlive the server.
  EmulatorServer(ServerOptions options, PortalSet* portals);
  ~EmulatorServer();  // stops if running

  // Binds the listening socket; returns the real port.
  absl::StatusOr<int> Bind();
  // Serves until Stop() (blocking). REQUIRES: Bind() succeeded.
  void Run();
  // Bind() and Run() on a background thread; returns the port.
  absl::StatusOr<int> Start();
  // Stops accepting, interrupts held replies, and waits for the pool.
  void Stop();

  bool tls() const { return !options_.tls_cert_file.empty(); }

 private:
  EmulatorServer(ServerOptions options, Portal* portal, PortalSet* portals);
  void InstallHandlers();
  void InstallControlHandlers();
  void InstallPortalSetHandlers();
  void InstallFileHandlers(std::function<bool(const httplib::Request&)> is_https);
  // The portal a request is for; held while it is served.
  std::shared_ptr<Portal> Route(const httplib::Request& req) const;

  const ServerOptions options_;
  Portal* const portal_;      // one portal, or the set's first
  PortalSet* const portals_;  // null: one portal
  std::unique_ptr<httplib::Server> server_;
  absl::Notification stopping_;
  std::thread thread_;
  std::atomic<bool> stopped_{false};
};

}  // namespace b24emu

#endif  // B24EMU_SERVER_H_
