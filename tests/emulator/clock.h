// The emulator's only source of "now". Everything that depends on time (the
// leaky bucket, operating-time baskets, token expiry, the `time` envelope, a
// reply held for its processing time) reads it through a Clock so that tests
// can drive boundaries exactly with a fake.
//
// Thread-safety: implementations must be safe to call from many threads.
#ifndef B24EMU_CLOCK_H_
#define B24EMU_CLOCK_H_

#include "absl/synchronization/notification.h"
#include "absl/time/time.h"

namespace b24emu {

class Clock {
 public:
  virtual ~Clock() = default;
  virtual absl::Time Now() const = 0;
  // Waits until Now() reaches `deadline`, or until `interrupt` is notified
  // (true then). A fake clock moves itself to the deadline at once.
  virtual bool WaitUntil(absl::Time deadline, const absl::Notification& interrupt) const = 0;
  // This clock's reading `real_age` of wall-clock time ago (when a request's
  // bytes arrived, by the kernel's record). A fake clock gives the reading
  // it had at that real instant.
  virtual absl::Time Ago(absl::Duration real_age) const = 0;
};

// The wall clock. Never null; lives for the whole process.
Clock* RealClock();

}  // namespace b24emu

#endif  // B24EMU_CLOCK_H_
