// Time source for the engine. Engine code never reads the real clock, and
// never sleeps or waits in real time, directly: it asks a Clock, so tests can
// drive time by hand.
//
// Waiting goes through the clock too (as in abseil's newer Clock interface and
// envoy's SimulatedTimeSystem): AwaitWithDeadline() blocks until a condition
// holds or the clock reaches a deadline. The real clock waits in real time; the
// FakeClock wakes its waiters when Advance()/Set() moves it past their
// deadlines, so a dispatcher driven by a FakeClock never sleeps in real time
// and a test never has to "let it settle".
//
// Thread-safety: implementations are safe for concurrent use.
#ifndef B24GATE_ENGINE_COMMON_CLOCK_H_
#define B24GATE_ENGINE_COMMON_CLOCK_H_

#include <atomic>
#include <list>

#include "absl/synchronization/mutex.h"
#include "absl/time/clock.h"
#include "absl/time/time.h"

namespace b24gate {

class Clock {
 public:
  virtual ~Clock() = default;
  virtual absl::Time Now() const = 0;

  // Blocks until `cond` holds or this clock reaches `deadline`, whichever
  // comes first, releasing `mu` while blocked (like absl::Mutex::Await).
  // `cond` is re-evaluated whenever `mu` is released by anyone, so a change
  // made under `mu` wakes the waiter. Returns `cond`'s value on return.
  // REQUIRES: `mu` held; `cond` reads only state guarded by `mu`.
  virtual bool AwaitWithDeadline(absl::Mutex* mu, const absl::Condition& cond,
                                 absl::Time deadline) = 0;

  // Blocks until this clock reaches `deadline`.
  void SleepUntil(absl::Time deadline);

  // The process-wide real clock.
  static Clock* Real();
};

// A clock that moves only when told to, and wakes the threads waiting on it
// when it does. For unit tests.
class FakeClock : public Clock {
 public:
  explicit FakeClock(absl::Time start = absl::FromUnixSeconds(1700000000)) : now_(start) {}

  absl::Time Now() const override;
  bool AwaitWithDeadline(absl::Mutex* mu, const absl::Condition& cond,
                         absl::Time deadline) override;

  // Moves the clock and wakes every waiter whose deadline has been reached.
  // A woken waiter may still be running when these return.
  void Advance(absl::Duration d);
  void Set(absl::Time t);

  // Waits, in real time up to `timeout`, until `threads` threads are blocked
  // on this clock with nothing left to wake them but time (their condition
  // false, their deadline not reached). Tests use it to know the code under
  // test has finished reacting and gone back to waiting, instead of sleeping
  // to "let it settle". False on timeout.
  bool AwaitBlocked(int threads, absl::Duration timeout = absl::Seconds(5)) const;

 private:
  struct Waiter {
    absl::Mutex* mu;
    absl::Time deadline;
    bool fired = false;     // guarded by *mu: wakes the waiter
    bool notified = false;  // guarded by state_mu_: `fired` has been set
    bool counted = true;    // guarded by *mu: included in blocked_
  };
  // Takes `w` out of blocked_ (once). REQUIRES: *w->mu held.
  void Unblocked(Waiter* w) const;
  // Marks the waiters whose deadline is reached as fired, taking each one's
  // mutex so the change re-evaluates its wait condition.
  void WakeDue();

  mutable absl::Mutex state_mu_;
  absl::Time now_ ABSL_GUARDED_BY(state_mu_);
  std::list<Waiter*> waiters_ ABSL_GUARDED_BY(state_mu_);
  // Waiters whose condition is false and whose deadline has not fired.
  mutable std::atomic<int> blocked_{0};
};

}  // namespace b24gate

#endif  // B24GATE_ENGINE_COMMON_CLOCK_H_
