// A manually advanced clock for deterministic tests.
//
// Thread-safety: safe for concurrent use.
#ifndef B24EMU_TEST_FAKE_CLOCK_H_
#define B24EMU_TEST_FAKE_CLOCK_H_

#include <algorithm>
#include <utility>
#include <vector>

#include "absl/synchronization/mutex.h"
#include "absl/time/clock.h"
#include "absl/time/time.h"
#include "tests/emulator/clock.h"

namespace b24emu {

class FakeClock : public Clock {
 public:
  // Starts at a fixed, realistic instant so formatted dates are stable.
  FakeClock() : first_(absl::FromUnixSeconds(1725000000)), now_(first_) {}
  absl::Time Now() const override {
    absl::MutexLock lock(&mu_);
    return now_;
  }
  void Advance(absl::Duration d) {
    absl::MutexLock lock(&mu_);
    Set(now_ + d);
  }
  // Waiting takes no real time: the clock moves to the deadline (if not past it).
  bool WaitUntil(absl::Time deadline, const absl::Notification& interrupt) const override {
    if (interrupt.HasBeenNotified()) return true;
    absl::MutexLock lock(&mu_);
    Set(std::max(now_, deadline));
    return false;
  }
  // The reading at the real instant `real_age` ago: the fake clock moves
  // only when told, so it is the reading after the last move before then
  // (the first reading before any).
  absl::Time Ago(absl::Duration real_age) const override {
    const absl::Time at = absl::Now() - real_age;
    absl::MutexLock lock(&mu_);
    absl::Time reading = first_;
    for (const auto& [real, fake] : moves_) {
      if (real > at) break;
      reading = fake;
    }
    return reading;
  }

 private:
  void Set(absl::Time now) const ABSL_EXCLUSIVE_LOCKS_REQUIRED(mu_) {
    if (now == now_) return;
    now_ = now;
    moves_.emplace_back(absl::Now(), now);
  }

  const absl::Time first_;
  mutable absl::Mutex mu_;
  mutable absl::Time now_ ABSL_GUARDED_BY(mu_);  // a const WaitUntil moves it
  // (real instant, new reading) of every move, in order.
  mutable std::vector<std::pair<absl::Time, absl::Time>> moves_ ABSL_GUARDED_BY(mu_);
};

}  // namespace b24emu

#endif  // B24EMU_TEST_FAKE_CLOCK_H_
