// Runs callbacks after a delay, on one thread for the whole gateway: the
// subscriptions use it to wait between polls of an empty event queue, so a
// waiting subscriber costs a queue entry, not a thread.
//
// Thread-safety: thread-safe. Callbacks run on the timer's thread, one at a
// time, holding no lock of the timer; they should be short (they only
// start an asynchronous call).
#ifndef B24GATE_ENGINE_EVENTS_POLL_TIMER_H_
#define B24GATE_ENGINE_EVENTS_POLL_TIMER_H_

#include <functional>
#include <map>
#include <thread>

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

  // Runs `fire` once `delay` has passed on the clock.
  void After(absl::Duration delay, std::function<void()> fire);

  // Entries waiting (for tests).
  int pending() const;

 private:
  void Loop();

  Clock* const clock_;
  mutable absl::Mutex mu_;
  // Due time -> callback; equal times keep their order of arrival.
  std::multimap<absl::Time, std::function<void()>> due_ ABSL_GUARDED_BY(mu_);
  bool stopping_ ABSL_GUARDED_BY(mu_) = false;
  std::thread thread_;
};

}  // namespace b24gate

#endif  // B24GATE_ENGINE_EVENTS_POLL_TIMER_H_
