// How much of the portal's burst the gateway keeps unused, from the jitter
// it measures instead of a fixed guess.
//
// The portal admits a request by its counter when the request arrives; the
// gateway's model (LeakyBucket) spaces requests by when it sends them. Were
// every request to take the same time to arrive, the portal would see the
// model's spacing exactly. It does not: a request that takes longer than one
// sent after it arrives closer to it, and the portal's counter runs ahead of
// the model. Arrivals delayed by D..D+J conform to the model's rate with J
// more tolerance (the GCRA's own jitter bound), so J × drain requests of
// headroom are exactly enough.
//
// Every answer says when the portal began the request (`time.start`, on its
// clock): start − the instant we took the request's slot (our clock) is the
// clocks' offset plus the delay, on our side (a busy transport thread) and on
// the way; the offset cancels in a difference of two. A counter that has
// not been empty since keeps the timing of the request that began its busy
// period: a request that arrives faster than that one did arrives early on
// it by the difference, however long ago that was. So J is the largest delay
// of the current busy period (and of the last `window`) less the smallest of
// the last `fastest_window` (how fast the path can be).
//
// The headroom is safety × J × drain, at least floor × drain (a stall starts
// before any answer can report it), at most the configured headroom (the
// operator's value stays the maximum), and the configured headroom until
// `min_answers` answers fall in the window (a new portal, or one idle for a
// window). A slower answer widens the spread at once; it narrows only when
// the slow answers have left the window and the busy period they were in.
//
// Thread-safety: not thread-safe; the owner serialises calls.
#ifndef B24GATE_ENGINE_THROTTLE_JITTER_HEADROOM_H_
#define B24GATE_ENGINE_THROTTLE_JITTER_HEADROOM_H_

#include <cstdint>
#include <deque>
#include <optional>

#include "absl/time/time.h"

namespace b24gate {

struct JitterPolicy {
  absl::Duration window = absl::Seconds(60);  // the largest delay of these
  absl::Duration fastest_window = absl::Seconds(600);  // the smallest of these
  int min_answers = 10;                       // fewer: the configured headroom
  double safety = 2;                          // multiple of the spread kept
  // The least jitter assumed: a loaded machine's scheduling stall (the load
  // tests' own 0.1 s) bunches the requests sent during it before any answer
  // shows it.
  absl::Duration floor = absl::Milliseconds(100);
};

class JitterHeadroom {
 public:
  explicit JitterHeadroom(JitterPolicy policy = {}) : policy_(policy) {}

  // One answer: its request's slot was taken at `slot` (our clock), the
  // portal began it at `start` (its clock); `now` is our clock.
  void Observe(absl::Time slot, absl::Time start, absl::Time now);

  // The model's counter was empty when a slot was taken at `slot`: the
  // requests from then on begin a new busy period.
  void BusyPeriodBegins(absl::Time slot);

  // The largest start − slot of the window less the smallest of the
  // fastest window, or nullopt with fewer than min_answers answers in the
  // window.
  std::optional<absl::Duration> Spread(absl::Time now) const;

  // Requests of the burst to keep unused at `now`, for a portal that drains
  // `drain_per_second` and a configured headroom of `configured`.
  double Headroom(double configured, double drain_per_second, absl::Time now) const;

 private:
  // The delays answered within one second of our clock.
  struct Second {
    int64_t index = 0;  // whole unix seconds
    int answers = 0;
    absl::Duration least;
    absl::Duration most;
  };

  JitterPolicy policy_;
  std::deque<Second> seconds_;  // oldest first, one per second with answers
  absl::Time busy_since_ = absl::InfinitePast();
  absl::Duration busy_most_ = -absl::InfiniteDuration();  // its slowest answer
};

}  // namespace b24gate

#endif  // B24GATE_ENGINE_THROTTLE_JITTER_HEADROOM_H_
