// Where the Logger's lines go. The Logger calls Write with no lock of its
// own held, from many threads at once, so each sink keeps lines whole by
// itself.
#ifndef B24GATE_SERVICE_LOGGING_LOG_SINK_H_
#define B24GATE_SERVICE_LOGGING_LOG_SINK_H_

#include <cstddef>
#include <ostream>

#include "absl/base/thread_annotations.h"
#include "absl/strings/string_view.h"
#include "absl/synchronization/mutex.h"

namespace b24gate {

// The longest line the Logger hands a sink, its newline included: PIPE_BUF
// on Linux, the most one write(2) to a pipe is guaranteed to put in whole.
inline constexpr size_t kMaxLogLineBytes = 4096;

// Thread-safety: Write may be called from many threads at once.
class LogSink {
 public:
  virtual ~LogSink() = default;
  // One line, ending in '\n', at most kMaxLogLineBytes long.
  virtual void Write(absl::string_view line) = 0;
};

// A file descriptor (stderr in the server): one write(2) per line and no
// lock, so a thread whose write waits (a full pipe, a slow terminal) holds
// up no other thread's logging but its own. The kernel keeps each write of
// at most PIPE_BUF bytes whole on a pipe, and each write whole on a file
// opened O_APPEND, so lines from several threads never interleave there.
// A line the descriptor refuses (EBADF, EPIPE) is dropped: logging never
// fails its caller.
class FdLogSink : public LogSink {
 public:
  explicit FdLogSink(int fd) : fd_(fd) {}
  void Write(absl::string_view line) override;

 private:
  const int fd_;
};

// A std::ostream, for in-memory streams (tests): an ostream is not
// thread-safe, so lines go to it one at a time under the sink's lock. Not
// for a stream that reaches a file or terminal: that would be I/O under a
// lock (use FdLogSink).
class StreamLogSink : public LogSink {
 public:
  // `out` must outlive the sink.
  explicit StreamLogSink(std::ostream* out) : out_(out) {}
  void Write(absl::string_view line) override;

 private:
  absl::Mutex mu_;
  std::ostream* const out_ ABSL_PT_GUARDED_BY(mu_);
};

}  // namespace b24gate

#endif  // B24GATE_SERVICE_LOGGING_LOG_SINK_H_
