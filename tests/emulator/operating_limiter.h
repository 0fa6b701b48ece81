// Operating time per (credential, method), docs/bitrix24-protocol.md "Limits": the seconds of work
// a method used, kept in one-minute baskets. A basket opens at the first call
// after the previous basket's minute is over and leaves the window `baskets`
// minutes after it opened. The check is made before a call: a method whose
// total in the window has reached the limit is refused (429
// OPERATION_TIME_LIMIT) until enough baskets leave; the call that crosses the
// limit still runs. Other methods and other credentials are independent.
//
// All durations are real (already multiplied by the time scale).
//
// Thread-safety: safe for concurrent use.
#ifndef B24EMU_OPERATING_LIMITER_H_
#define B24EMU_OPERATING_LIMITER_H_

#include <deque>
#include <map>
#include <string>

#include "absl/base/thread_annotations.h"
#include "absl/synchronization/mutex.h"
#include "absl/time/time.h"
#include "tests/emulator/clock.h"

namespace b24emu {

struct OperatingOptions {
  absl::Duration limit = absl::Seconds(480);  // refuse once the window holds this much
  absl::Duration basket = absl::Seconds(60);  // width of one basket
  int baskets = 10;                           // window = basket × baskets
  bool enforce = true;                        // false: track and report only
  bool block_whole_window = false;            // the harsher rule (above)
};

// What a response reports for one method.
struct OperatingState {
  absl::Duration used;  // seconds in the window, `operating`
  absl::Time reset_at;  // when the oldest basket leaves, `operating_reset_at`
};

class OperatingLimiter {
 public:
  // `clock` must outlive the limiter.
  OperatingLimiter(const OperatingOptions& options, const Clock* clock);

  // Before a call. Returns false when the method is blocked; *state is filled
  // either way (when blocked, reset_at says when the oldest basket expires).
  bool Check(const std::string& credential, const std::string& method, OperatingState* state);

  // After a call that started at `started`: adds `cost` to the basket of that
  // moment (opening one if needed) and returns the new state.
  OperatingState Charge(const std::string& credential, const std::string& method,
                        absl::Duration cost, absl::Time started);

  // Current state without charging (no basket: used 0, reset_at now + window).
  OperatingState Peek(const std::string& credential, const std::string& method);

  // Seconds in the window per method, summed over credentials (for stats).
  std::map<std::string, double> TotalsByMethod();

  void Reset();

 private:
  struct Basket {
    absl::Time opened;
    absl::Duration used;
  };
  using Baskets = std::deque<Basket>;

  absl::Duration Window() const { return options_.basket * options_.baskets; }
  void ExpireLocked(Baskets& baskets, absl::Time now) const ABSL_EXCLUSIVE_LOCKS_REQUIRED(mu_);
  OperatingState StateLocked(const Baskets& baskets, absl::Time now) const
      ABSL_EXCLUSIVE_LOCKS_REQUIRED(mu_);

  const OperatingOptions options_;
  const Clock* const clock_;
  absl::Mutex mu_;
  // Keyed by credential + '\n' + method.
  std::map<std::string, Baskets> baskets_ ABSL_GUARDED_BY(mu_);
  // Under block_whole_window: until when a method is refused. Same keys.
  std::map<std::string, absl::Time> blocked_until_ ABSL_GUARDED_BY(mu_);
};

}  // namespace b24emu

#endif  // B24EMU_OPERATING_LIMITER_H_
