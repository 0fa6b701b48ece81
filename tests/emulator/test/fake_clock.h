// A manually advanced clock for deterministic tests.
//
// Thread-safety: safe for concurrent use.
#ifndef B24EMU_TEST_FAKE_CLOCK_H_
#define B24EMU_TEST_FAKE_CLOCK_H_

#include <algorithm>

#include "absl/synchronization/mutex.h"
#include "absl/time/time.h"
#include "tests/emulator/clock.h"

namespace b24emu {

class FakeClock : public Clock {
 public:
  // Starts at a fixed, realistic instant so formatted dates are stable.
  FakeClock() : now_(absl::FromUnixSeconds(1725000000)) {}
  absl::Time Now() const override {
    absl::MutexLock lock(&mu_);
    return now_;
  }
  void Advance(absl::Duration d) {
    absl::MutexLock lock(&mu_);
    now_ += d;
  }
  // Waiting takes no real time: the clock moves to the deadline (if not past it).
  bool WaitUntil(absl::Time deadline, const absl::Notification& interrupt) const override {
    if (interrupt.HasBeenNotified()) return true;
    absl::MutexLock lock(&mu_);
    now_ = std::max(now_, deadline);
    return false;
  }

 private:
  mutable absl::Mutex mu_;
  mutable absl::Time now_ ABSL_GUARDED_BY(mu_);  // a const WaitUntil moves it
};

}  // namespace b24emu

#endif  // B24EMU_TEST_FAKE_CLOCK_H_
