// How many calls of the gateway's own services (not health or reflection)
// the server holds, from the moment gRPC creates one until it destroys it
// (every answer sent and the call complete). The drain uses it to tell
// "every call is over" from "a client still holds something open": gRPC's
// shutdown waits for every call and connection, and a client such as buf
// curl keeps its server-reflection stream and its connection open as long
// as it runs, which held the gateway until the shutdown grace ran out.
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
