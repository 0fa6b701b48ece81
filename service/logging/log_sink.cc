#include "service/logging/log_sink.h"

#include <poll.h>
#include <unistd.h>

#include <cerrno>

namespace b24gate {

void FdLogSink::Write(absl::string_view line) {
  while (!line.empty()) {
    const ssize_t n = ::write(fd_, line.data(), line.size());
    if (n > 0) {
      line.remove_prefix(static_cast<size_t>(n));
      continue;
    }
    if (n < 0 && errno == EINTR) continue;
    if (n < 0 && (errno == EAGAIN || errno == EWOULDBLOCK)) {
      // A descriptor another process made non-blocking: wait for room
      // rather than lose the line.
      pollfd ready{fd_, POLLOUT, 0};
      if (::poll(&ready, 1, -1) >= 0 || errno == EINTR) continue;
    }
    return;  // nowhere to write it: dropped
  }
}

void StreamLogSink::Write(absl::string_view line) {
  absl::MutexLock lock(&mu_);
  out_->write(line.data(), static_cast<std::streamsize>(line.size()));
  out_->flush();
}

}  // namespace b24gate
