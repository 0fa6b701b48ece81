// Runs callbacks after a delay, on one thread for the whole gateway: the
// subscriptions use it to wait between polls of an empty event queue, so a
// waiting subscriber costs a queue entry, not a thread. An entry whose
// reason went away (an upload that ended before its stall bound) is
// cancelled: it goes at once rather than waiting out its delay.
//
// Thread-safety: thread-safe. Callbacks run on the timer's thread, one at a
// time, holding no lock of the timer; they should be short (they only
// start an asynchronous call).
#ifndef B24GATE_ENGINE_EVENTS_POLL_TIMER_H_
#define B24GATE_ENGINE_EVENTS_POLL_TIMER_H_

#include <cstdint>
#include <functional>
#include <map>
#include <thread>
#include <utility>

#include "absl/base/thread_annotations.h"
#include "absl/synchronization/mutex.h"
#include "absl/time/time.h"
#include "engine/common/clock.h"

namespace b24gate {

class PollTimer {
 public:
  // `clock` must outlive the timer.
  explicit PollTimer(Clock* clock);
  // Drops the callbacks not yet due, without running them.
  ~PollTimer();

  // Names an entry, for Cancel: its due time and its number of arrival
  // (which orders entries due at the same time).
  using Entry = std::pair<absl::Time, uint64_t>;

  // Runs `fire` once `delay` has passed on the clock.
  Entry After(absl::Duration delay, std::function<void()> fire);

  // Drops `entry` without running it; false when it already ran, is
  // running, or was cancelled. Its callback is destroyed here, holding no
  // lock of the timer.
  bool Cancel(const Entry& entry);

  // Entries waiting (for tests).
  int pending() const;

 private:
  void Loop();

  Clock* const clock_;
  mutable absl::Mutex mu_;
  // Entry -> callback, in the order they fall due.
  std::map<Entry, std::function<void()>> due_ ABSL_GUARDED_BY(mu_);
  uint64_t arrivals_ ABSL_GUARDED_BY(mu_) = 0;
  bool stopping_ ABSL_GUARDED_BY(mu_) = false;
  std::thread thread_;
};

}  // namespace b24gate

#endif  // B24GATE_ENGINE_EVENTS_POLL_TIMER_H_
