#include "tests/emulator/clock.h"

#include "absl/time/clock.h"

namespace b24emu {
namespace {

class WallClock : public Clock {
 public:
  absl::Time Now() const override { return absl::Now(); }
  bool WaitUntil(absl::Time deadline, const absl::Notification& interrupt) const override {
    return interrupt.WaitForNotificationWithDeadline(deadline);
  }
  absl::Time Ago(absl::Duration real_age) const override { return absl::Now() - real_age; }
};

}  // namespace

Clock* RealClock() {
  static Clock* const clock = new WallClock();
  return clock;
}

}  // namespace b24emu
