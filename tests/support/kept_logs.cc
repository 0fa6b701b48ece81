#include "tests/support/kept_logs.h"

#include <fcntl.h>
#include <signal.h>
#include <unistd.h>

#include <cerrno>
#include <cstdio>
#include <cstdlib>
#include <filesystem>
#include <system_error>

namespace b24gate::testing {
namespace {

// Writes all of `data`; false once `fd` refuses (ctest gone: EPIPE).
bool WriteAll(int fd, const char* data, ssize_t size) {
  while (size > 0) {
    ssize_t n = write(fd, data, size);
    if (n < 0 && errno == EINTR) continue;
    if (n <= 0) return false;
    data += n;
    size -= n;
  }
  return true;
}

// The copier: everything read from `in` goes to `out` (ctest's pipe) and to
// `file`, until every writer (the test and the servers it started) closed
// its end. The file keeps getting lines after ctest went away.
[[noreturn]] void Copy(int in, int out, int file) {
  signal(SIGPIPE, SIG_IGN);
  bool out_open = true;
  char buffer[1 << 16];
  for (;;) {
    ssize_t n = read(in, buffer, sizeof buffer);
    if (n < 0 && errno == EINTR) continue;
    if (n <= 0) break;
    WriteAll(file, buffer, n);
    if (out_open) out_open = WriteAll(out, buffer, n);
  }
  _exit(0);
}

// The variables as this process found them. StartKeepingLogs takes them out
// of the environment, so that no process the test starts (a death test's
// child, a test binary run by a test) empties or removes this directory.
struct Settings {
  std::string dir;
  std::string rerun;
};

Settings& TakenSettings() {
  static Settings* settings = [] {
    auto* s = new Settings;
    if (const char* dir = std::getenv(kKeptLogsVariable); dir != nullptr) s->dir = dir;
    if (const char* rerun = std::getenv(kRerunVariable); rerun != nullptr) s->rerun = rerun;
    unsetenv(kKeptLogsVariable);
    unsetenv(kRerunVariable);
    return s;
  }();
  return *settings;
}

}  // namespace

std::string KeptLogsDir() { return TakenSettings().dir; }

void StartKeepingLogs() {
  const std::string dir = KeptLogsDir();
  if (dir.empty()) return;
  // What an earlier run of this test left.
  std::error_code error;
  std::filesystem::remove_all(dir, error);
  std::filesystem::create_directories(dir, error);
  const std::string path = dir + "/output.log";
  int file = open(path.c_str(), O_WRONLY | O_CREAT | O_TRUNC | O_APPEND | O_CLOEXEC, 0644);
  int fds[2];
  if (file < 0 || pipe2(fds, O_CLOEXEC) != 0) {
    std::fprintf(stderr, "kept logs: cannot write %s; output not kept\n", path.c_str());
    if (file >= 0) close(file);
    return;
  }
  std::fflush(nullptr);
  pid_t pid = fork();
  if (pid == 0) {
    close(fds[1]);
    Copy(fds[0], STDOUT_FILENO, file);
  }
  close(fds[0]);
  close(file);
  if (pid < 0) {
    close(fds[1]);
    return;
  }
  // dup2 clears close-on-exec: the servers a test starts inherit the pipe.
  dup2(fds[1], STDOUT_FILENO);
  dup2(fds[1], STDERR_FILENO);
  close(fds[1]);
}

void FinishKeepingLogs(bool passed) {
  const std::string dir = KeptLogsDir();
  if (dir.empty()) return;
  if (passed) {
    // Disk use stays bounded: only failed tests leave files.
    std::error_code error;
    std::filesystem::remove_all(dir, error);
    return;
  }
  std::fflush(nullptr);
  std::fprintf(stderr, "kept logs of this failed test (its output, the servers' logs): %s\n",
               dir.c_str());
  if (!TakenSettings().rerun.empty()) {
    std::fprintf(stderr, "rerun it alone: %s\n", TakenSettings().rerun.c_str());
  }
}

}  // namespace b24gate::testing
