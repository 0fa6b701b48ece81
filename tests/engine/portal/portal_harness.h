// What the portal's unit tests share: a Portal on a FakeClock and a
// FakeTransport, and Outcome, one call's result.
//
// Every wait is bounded, so a broken engine fails its test instead of
// hanging it: Outcome::Wait and FakeTransport::Next give up after a few
// seconds of real time, and the harness closes the transport (answering
// whatever the test left unanswered) before it destroys the portal, whose
// destructor waits for the requests in flight.
#ifndef B24GATE_TESTS_ENGINE_PORTAL_PORTAL_HARNESS_H_
#define B24GATE_TESTS_ENGINE_PORTAL_PORTAL_HARNESS_H_

#include <memory>
#include <utility>

#include "absl/synchronization/mutex.h"
#include "engine/common/clock.h"
#include "engine/portal/portal.h"
#include "tests/engine/fake_transport.h"

namespace b24gate {

// A portal that sends at once: a bucket that never runs dry, no linger,
// backoff in milliseconds. Tests change what they exercise.
inline PortalOptions QuickPortalOptions() {
  PortalOptions o;
  o.webhook_url = "https://portal.example/rest/1/secret/";
  o.bucket = BucketPolicy{1000, 1000, 0};
  o.linger = absl::ZeroDuration();
  o.backoff = BackoffPolicy{absl::Milliseconds(1), absl::Milliseconds(5), 2};
  return o;
}

// One call's outcome. The callback may outlive the Outcome (a call answered
// while a failed test unwinds); it then writes into the shared state only.
class Outcome {
 public:
  CallCallback Callback() {
    return [state = state_](absl::StatusOr<CallReply> r) {
      absl::MutexLock lock(&state->mu);
      state->reply = std::move(r);
      state->calls++;
    };
  }
  // True once the call has been answered (waiting up to `timeout` of real
  // time); `reply` then holds the answer.
  bool Wait(absl::Duration timeout = absl::Seconds(5)) {
    absl::MutexLock lock(&state_->mu);
    if (!state_->mu.AwaitWithTimeout(absl::Condition(&State::Answered, &state_->calls),
                                     timeout)) {
      return false;
    }
    reply = state_->reply;
    return true;
  }
  // Times the callback ran (a call must be answered exactly once).
  int answers() {
    absl::MutexLock lock(&state_->mu);
    return state_->calls;
  }

  absl::StatusOr<CallReply> reply = absl::UnknownError("not answered");

 private:
  struct State {
    static bool Answered(int* calls) { return *calls > 0; }
    absl::Mutex mu;
    absl::StatusOr<CallReply> reply ABSL_GUARDED_BY(mu) = absl::UnknownError("not answered");
    int calls ABSL_GUARDED_BY(mu) = 0;
  };
  std::shared_ptr<State> state_ = std::make_shared<State>();
};

class PortalHarness {
 public:
  explicit PortalHarness(PortalOptions options)
      : portal(std::make_unique<Portal>(std::move(options), &transport, &clock, &pool)) {}
  ~PortalHarness() {
    transport.Close();
    portal.reset();
  }

  // True once the dispatcher has reacted to everything so far and waits for
  // the clock to move or for something new: what it has not sent by then it
  // will not send without either.
  bool Idle() { return clock.AwaitBlocked(1); }

  FakeClock clock;
  FakeTransport transport;
  DispatchPool pool{&clock, 1};
  std::unique_ptr<Portal> portal;
};

}  // namespace b24gate

#endif  // B24GATE_TESTS_ENGINE_PORTAL_PORTAL_HARNESS_H_
