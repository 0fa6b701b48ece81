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
#include <functional>
#include <memory>
#include <string>
#include <thread>

#include "absl/status/statusor.h"
#include "absl/synchronization/notification.h"
#include "tests/emulator/portal.h"

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
};

class EmulatorServer {
 public:
  // `portal` must outlive the server.
  EmulatorServer(ServerOptions options, Portal* portal);
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
  void InstallHandlers();
  void InstallFileHandlers(std::function<bool(const httplib::Request&)> is_https);

  const ServerOptions options_;
  Portal* const portal_;
  std::unique_ptr<httplib::Server> server_;
  absl::Notification stopping_;
  std::thread thread_;
  std::atomic<bool> stopped_{false};
};

}  // namespace b24emu

#endif  // B24EMU_SERVER_H_
