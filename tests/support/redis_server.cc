#include "tests/support/redis_server.h"

#include <arpa/inet.h>
#include <fcntl.h>
#include <netinet/in.h>
#include <signal.h>
#include <sys/socket.h>
#include <sys/wait.h>
#include <unistd.h>

#include <chrono>
#include <thread>
#include <vector>

#include "absl/strings/str_cat.h"
#include "tests/support/free_port.h"

namespace b24gate::testing {
namespace {

// Sends `command` (inline form) and reads the start of the reply, waiting up
// to `timeout`; "" when nothing came.
std::string Ask(int port, const std::string& command, int timeout_seconds) {
  int fd = socket(AF_INET, SOCK_STREAM, 0);
  sockaddr_in addr{};
  addr.sin_family = AF_INET;
  addr.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  addr.sin_port = htons(port);
  std::string reply;
  if (connect(fd, reinterpret_cast<sockaddr*>(&addr), sizeof addr) == 0) {
    timeval tv{timeout_seconds, 0};
    setsockopt(fd, SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof tv);
    const std::string line = command + "\r\n";
    char buf[64] = {0};
    if (write(fd, line.data(), line.size()) == static_cast<ssize_t>(line.size()) &&
        read(fd, buf, sizeof buf - 1) > 0) {
      reply = buf;
    }
  }
  close(fd);
  return reply;
}

bool AnswersPing(int port) { return Ask(port, "PING", 1).rfind("+PONG", 0) == 0; }

}  // namespace

std::string RedisServer::url() const { return absl::StrCat("redis://127.0.0.1:", port_); }

absl::StatusOr<std::unique_ptr<RedisServer>> RedisServer::Start(const std::string& dir) {
  std::unique_ptr<RedisServer> server(new RedisServer);
  server->dir_ = dir;
  absl::Status last;
  for (int attempt = 0; attempt < 5; ++attempt) {
    server->port_ = FreePort();
    last = server->Launch();
    if (last.ok()) return server;
  }
  return last;
}

absl::Status RedisServer::Launch() {
  std::vector<std::string> argv = {REDIS_SERVER_BIN, "--port", absl::StrCat(port_),
                                   "--bind", "127.0.0.1", "--save", "",
                                   "--protected-mode", "no", "--loglevel", "warning",
                                   // DEBUG SLEEP for Stall(); off by default since Redis 7.
                                   "--enable-debug-command", "local"};
  if (dir_.empty()) {
    argv.insert(argv.end(), {"--appendonly", "no"});
  } else {
    argv.insert(argv.end(), {"--dir", dir_, "--appendonly", "yes", "--appendfsync", "always"});
  }
  pid_t pid = fork();
  if (pid < 0) return absl::InternalError("fork failed");
  if (pid == 0) {
    int devnull = open("/dev/null", O_WRONLY);
    dup2(devnull, STDOUT_FILENO);
    std::vector<char*> args;
    for (auto& a : argv) args.push_back(a.data());
    args.push_back(nullptr);
    execv(args[0], args.data());
    _exit(127);
  }
  pid_ = pid;
  auto deadline = std::chrono::steady_clock::now() + std::chrono::seconds(10);
  while (std::chrono::steady_clock::now() < deadline) {
    if (AnswersPing(port_)) return absl::OkStatus();
    if (waitpid(pid_, nullptr, WNOHANG) == pid_) {
      pid_ = -1;
      return absl::InternalError(absl::StrCat("redis-server exited on port ", port_));
    }
    std::this_thread::sleep_for(std::chrono::milliseconds(20));
  }
  Kill();
  return absl::DeadlineExceededError("redis-server did not answer PING");
}

void RedisServer::Kill() {
  if (pid_ <= 0) return;
  kill(pid_, SIGCONT);  // a paused server must be able to die
  kill(pid_, SIGKILL);
  waitpid(pid_, nullptr, 0);
  pid_ = -1;
}

absl::Status RedisServer::Restart() {
  Kill();
  return Launch();
}

void RedisServer::Pause() {
  if (pid_ > 0) kill(pid_, SIGSTOP);
}

void RedisServer::Resume() {
  if (pid_ > 0) kill(pid_, SIGCONT);
}

absl::Status RedisServer::Stall(absl::Duration d) {
  const std::string reply =
      Ask(port_, absl::StrCat("DEBUG SLEEP ", absl::ToDoubleSeconds(d)),
          static_cast<int>(absl::ToInt64Seconds(d)) + 10);
  if (reply.rfind("+OK", 0) != 0) return absl::InternalError("DEBUG SLEEP: " + reply);
  return absl::OkStatus();
}

RedisServer::~RedisServer() { Kill(); }

}  // namespace b24gate::testing
