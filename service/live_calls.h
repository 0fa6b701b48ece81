// How many RPCs the server holds, from the moment gRPC creates a call until
// it destroys it (every answer sent and the call complete). The drain uses
// it to tell "every call is over" from "a client still holds a connection
// open": gRPC's shutdown waits for the connections, and a client that keeps
// its half of a finished stream open (a subscriber that never closes its
// side) would hold the gateway until the shutdown grace ran out.
//
// Thread-safety: thread-safe.
#ifndef B24GATE_SERVICE_LIVE_CALLS_H_
#define B24GATE_SERVICE_LIVE_CALLS_H_

#include <cstdint>

#include "absl/base/thread_annotations.h"
#include "absl/synchronization/mutex.h"
#include "absl/time/time.h"
#include "engine/common/clock.h"

namespace b24gate {

class LiveCalls {
 public:
  void Started() {
    absl::MutexLock lock(&mu_);
    ++live_;
  }
  void Ended() {
    absl::MutexLock lock(&mu_);
    --live_;
  }
  // Waits until no call is live or `clock` reaches `deadline`; true when
  // none is.
  bool AwaitNone(Clock* clock, absl::Time deadline) {
    absl::MutexLock lock(&mu_);
    auto none = [this]() ABSL_NO_THREAD_SAFETY_ANALYSIS { return live_ == 0; };
    return clock->AwaitWithDeadline(&mu_, absl::Condition(&none), deadline);
  }

 private:
  absl::Mutex mu_;
  int64_t live_ ABSL_GUARDED_BY(mu_) = 0;
};

}  // namespace b24gate

#endif  // B24GATE_SERVICE_LIVE_CALLS_H_
