// A real `redis-server` (Debian's package) for tests: started on a free port
// of 127.0.0.1, with no persistence unless given a directory, killed with
// the handle. Kill() and Restart() let a test take it away and bring it back
// on the same port.
//
// Thread-safety: one thread owns it.
#ifndef B24GATE_TESTS_SUPPORT_REDIS_SERVER_H_
#define B24GATE_TESTS_SUPPORT_REDIS_SERVER_H_

#include <sys/types.h>

#include <memory>
#include <string>

#include "absl/status/statusor.h"
#include "absl/time/time.h"

namespace b24gate::testing {

class RedisServer {
 public:
  // Starts `redis-server` (REDIS_SERVER_BIN) on a free port and waits until
  // it answers PING (up to 10 s). With `dir`, it keeps an append-only file
  // there, synced before each write is answered (appendfsync always), so a
  // SIGKILL loses nothing it answered.
  static absl::StatusOr<std::unique_ptr<RedisServer>> Start(const std::string& dir = "");
  ~RedisServer();

  int port() const { return port_; }
  std::string url() const;  // redis://127.0.0.1:PORT
  // SIGKILL: gone at once, with all its data.
  void Kill();
  // Starts it again on the same port (empty without a directory; else with
  // what its append-only file holds).
  absl::Status Restart();
  // SIGSTOP / SIGCONT: the port stays open but nothing answers (slow Redis).
  void Pause();
  void Resume();
  // DEBUG SLEEP: the server answers nobody for `d` (a slow Redis, as one
  // stalled by a long command or a fork). Returns when it is over.
  absl::Status Stall(absl::Duration d);

 private:
  RedisServer() = default;
  absl::Status Launch();
  std::string dir_;
  int port_ = 0;
  pid_t pid_ = -1;
};

}  // namespace b24gate::testing

#endif  // B24GATE_TESTS_SUPPORT_REDIS_SERVER_H_
