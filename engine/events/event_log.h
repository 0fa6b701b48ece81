// The on-disk, append-only log that makes accepted events and the consumer
// groups' acknowledgements survive a restart of the gateway (SIGKILL
// included). Records are JSON objects, one per line, in segment files
// DIR/events-NNNNNNNNNNNNNNNNNNNN.log; a record is durable once the writer
// thread has written and fdatasync'ed it. Appends from many threads are
// group-committed: the writer takes everything queued, writes it with one
// write() and syncs once, so an fsync is shared by every post that arrived
// meanwhile.
//
// The log knows two keys of a record: "s" (the event's sequence number, for
// event records) and "at" (its time, Unix milliseconds). The rest is the
// owner's (OnlineEventHub). Segments:
// - a segment is closed at Options::segment_bytes (or once its first event
//   is half of max_age old) and the next one begins with the owner's
//   Snapshot() (the consumer groups), so no group is forgotten when older
//   segments go;
// - a closed segment whose events every group has acknowledged is deleted;
// - while the log is larger than max_bytes, or its oldest closed segment
//   holds only events older than max_age, that segment is deleted anyway:
//   the owner forgets its events (DropThrough) and `on_drop` is told how
//   many unacknowledged deliveries went with it (a metric and a log line).
//
// At Open the records are read back in order; a torn last record (a crash
// mid-write) is cut off, so the log holds exactly the records that were
// durable. One process at a time: Open locks DIR/LOCK.
//
// Thread-safety: Append and WaitDurable are thread-safe and never do I/O on
// the caller's thread; the owner's methods and `done`/`on_drop` callbacks
// run on the writer thread, holding no lock of the log.
#ifndef B24GATE_ENGINE_EVENTS_EVENT_LOG_H_
#define B24GATE_ENGINE_EVENTS_EVENT_LOG_H_

#include <atomic>
#include <cstdint>
#include <deque>
#include <functional>
#include <memory>
#include <string>
#include <thread>
#include <vector>

#include <nlohmann/json.hpp>

#include "absl/base/thread_annotations.h"
#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "absl/synchronization/mutex.h"
#include "absl/time/time.h"
#include "engine/common/clock.h"

namespace b24gate {

class EventLog {
 public:
  struct Options {
    std::string dir;
    int64_t max_bytes = int64_t{1} << 30;
    absl::Duration max_age = absl::Hours(24 * 7);
    // 0 = max_bytes / 16, at least 64 KiB.
    int64_t segment_bytes = 0;
  };

  class Owner {
   public:
    virtual ~Owner() = default;
    // Records that restate what every retained record said about the
    // groups; the first records of each new segment.
    virtual std::vector<nlohmann::ordered_json> Snapshot() = 0;
    // The lowest event sequence number some group has not acknowledged;
    // INT64_MAX when none.
    virtual int64_t OldestNeeded() = 0;
    // The log deletes the events through `seq`: forget them. Returns how
    // many unacknowledged deliveries that dropped.
    virtual int64_t DropThrough(int64_t seq) = 0;
  };

  using Done = std::function<void(const absl::Status&)>;
  // What dropping a segment cost: `deliveries` unacknowledged, events
  // through `seq`, and why ("size" or "age").
  using OnDrop = std::function<void(int64_t deliveries, int64_t seq, const std::string& why)>;

  // Locks and reads the log in `options.dir` (made if missing), calling
  // `replay` for each durable record in order. FAILED_PRECONDITION when
  // another process holds it; INTERNAL naming the file when it cannot be
  // read or a closed segment is damaged.
  static absl::StatusOr<std::unique_ptr<EventLog>> Open(
      Options options, Clock* clock, const std::function<void(const nlohmann::ordered_json&)>& replay);
  // Writes what is queued, then stops the writer.
  ~EventLog();

  // Starts the writer thread. `owner` must outlive the log. Call once,
  // before Append.
  void Start(Owner* owner, OnDrop on_drop);

  // Queues `record` and returns its ticket; `done` (may be null) runs on
  // the writer thread once it is durable or could not be written. Cheap:
  // may be called under the caller's locks.
  int64_t Append(const nlohmann::ordered_json& record, Done done);
  // Blocks until the record of `ticket` is durable; the write's error
  // otherwise (after a failed write the log takes no more: every later
  // record fails with the same error).
  absl::Status WaitDurable(int64_t ticket);

  // Bytes on disk.
  int64_t bytes() const { return bytes_.load(); }

 private:
  struct Segment {
    int64_t number = 0;
    int64_t bytes = 0;
    int64_t last_seq = 0;  // the highest event sequence here or before
    int64_t first_ms = 0;  // its oldest and newest event; 0 = none
    int64_t newest_ms = 0;
  };
  struct Pending {
    std::string line;
    int64_t seq = 0;
    int64_t at_ms = 0;
    Done done;
  };

  EventLog(Options options, Clock* clock, int lock_fd);
  std::string PathOf(int64_t number) const;
  absl::Status ReadSegment(Segment* segment, bool last,
                           const std::function<void(const nlohmann::ordered_json&)>& replay);
  absl::Status OpenActive();
  void Loop();
  // Writes and syncs `batch` to the active segment.
  absl::Status Write(const std::vector<Pending>& batch);
  // Rolls the active segment when it is full or old, deletes what is
  // acknowledged or beyond the bounds.
  void Maintain();
  absl::Status Roll();
  void RemoveOldest();

  const Options options_;
  Clock* const clock_;
  const int lock_fd_;
  Owner* owner_ = nullptr;
  OnDrop on_drop_;

  // Touched by Open, then only by the writer thread.
  std::deque<Segment> segments_;  // oldest first; back() is written to
  int active_fd_ = -1;
  std::atomic<int64_t> bytes_{0};

  absl::Mutex mu_;
  std::vector<Pending> queue_ ABSL_GUARDED_BY(mu_);
  int64_t next_ticket_ ABSL_GUARDED_BY(mu_) = 0;
  int64_t durable_ticket_ ABSL_GUARDED_BY(mu_) = 0;
  absl::Status failed_ ABSL_GUARDED_BY(mu_);
  bool stopping_ ABSL_GUARDED_BY(mu_) = false;
  std::thread writer_;
};

}  // namespace b24gate

#endif  // B24GATE_ENGINE_EVENTS_EVENT_LOG_H_
