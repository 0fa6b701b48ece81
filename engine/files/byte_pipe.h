// A bounded byte pipe between the two halves of a streamed file transfer: a
// gRPC stream on one side, an HTTP transfer on the other. One side writes,
// the other reads; neither ever blocks. A side that finds the pipe full
// (writer) or empty (reader) is woken by its wake callback once the other
// side has made room or data, so both can sit paused without a thread.
//
// The bound is on what the pipe holds: a write is taken whole while the pipe
// holds less than `capacity`, so it holds at most capacity plus one write.
// Memory therefore does not grow with the file, only with the chunk sizes.
// The pipe keeps the writes as they came (a queue of strings): a string
// handed over is moved in, never copied, and a read copies straight out.
//
// Thread-safety: thread-safe. Wake callbacks run on the thread of the call
// that made room or data (or of Abort), with no lock held; they must not
// block.
#ifndef B24GATE_ENGINE_FILES_BYTE_PIPE_H_
#define B24GATE_ENGINE_FILES_BYTE_PIPE_H_

#include <cstddef>
#include <deque>
#include <functional>
#include <string>

#include "absl/base/thread_annotations.h"
#include "absl/strings/string_view.h"
#include "absl/synchronization/mutex.h"

namespace b24gate {

class BytePipe {
 public:
  explicit BytePipe(size_t capacity) : capacity_(capacity) {}

  BytePipe(const BytePipe&) = delete;
  BytePipe& operator=(const BytePipe&) = delete;

  // Called once the pipe has data again (or ended, or was aborted) after a
  // Read found it empty; and once it has room (or was aborted) after a
  // Write found it full. Either may be null (nobody to wake).
  void SetReaderWake(std::function<void()> wake);
  void SetWriterWake(std::function<void()> wake);

  enum class WriteResult { kTaken, kFull, kAborted };
  // Takes all of `data` unless the pipe already holds `capacity` bytes or
  // more (kFull: nothing taken; the writer is woken when room appears).
  // REQUIRES: Close() not called.
  WriteResult Write(absl::string_view data);
  // The same without copying: *data is moved in when taken (left empty),
  // and left as it was otherwise.
  WriteResult Write(std::string* data);
  // No more data: the reader sees the end once it has read everything.
  void Close();

  enum class ReadResult { kData, kEmpty, kEnd, kAborted };
  // Moves up to `max` bytes into `out` (kData, *n set); kEmpty when nothing
  // is there yet (the reader is woken when something is), kEnd once the
  // writer closed and everything was read.
  ReadResult Read(char* out, size_t max, size_t* n);

  // Either side gives up: every later Read/Write answers kAborted, and both
  // sides are woken. Idempotent.
  void Abort();
  bool aborted() const;

 private:
  // Runs `wake` (a copy taken under the lock) outside it.
  static void Run(const std::function<void()>& wake) {
    if (wake) wake();
  }

  // Both Writes: `data` is queued, moved from *owner (which holds it) when
  // that is given, else copied.
  WriteResult Put(absl::string_view data, std::string* owner);

  const size_t capacity_;
  mutable absl::Mutex mu_;
  std::deque<std::string> chunks_ ABSL_GUARDED_BY(mu_);  // the writes not yet read
  size_t read_pos_ ABSL_GUARDED_BY(mu_) = 0;             // into chunks_.front()
  size_t held_ ABSL_GUARDED_BY(mu_) = 0;                 // bytes in chunks_ not yet read
  bool closed_ ABSL_GUARDED_BY(mu_) = false;
  bool aborted_ ABSL_GUARDED_BY(mu_) = false;
  bool reader_waiting_ ABSL_GUARDED_BY(mu_) = false;
  bool writer_waiting_ ABSL_GUARDED_BY(mu_) = false;
  std::function<void()> reader_wake_ ABSL_GUARDED_BY(mu_);
  std::function<void()> writer_wake_ ABSL_GUARDED_BY(mu_);
};

}  // namespace b24gate

#endif  // B24GATE_ENGINE_FILES_BYTE_PIPE_H_
