#include "tests/emulator/clock.h"

#include "absl/time/clock.h"

namespace b24emu {
namespace {

class WallClock : public Clock {
 public:
  absl::Time Now() const override { return absl::Now(); }
};

}  // namespace

Clock* RealClock() {
  static Clock* const clock = new WallClock();
  return clock;
}

}  // namespace b24emu
