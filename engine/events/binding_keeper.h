// Keeps each portal's event bindings what its list says (binding
// management), for the portals of the configuration and those registered
// at run time alike: a portal given a list, or a new one, gets a
// BindingSync pass (one event.get, binds before unbinds, through the
// portal's throttle); a pass that failed (portal unreachable, 5xx, a token
// refused, a call refused) is made again after a back-off that doubles from
// first_retry to at most max_retry, for as long as the portal keeps its
// list. A portal that is forgotten (removed) or a keeper shut down makes no
// further pass.
//
// The passes are started from the injected timer (`after`), never from the
// caller of Set: a pass costs a timer entry and the portal's queue, not a
// thread, and Set does no more than take the keeper's lock and add a timer
// entry.
//
// Thread-safety: thread-safe. mu_ is held while adding a timer entry (so
// that once Shutdown returns none is added), never while calling anything
// else out (`connect`, the portal's calls, `reported`).
#ifndef B24GATE_ENGINE_EVENTS_BINDING_KEEPER_H_
#define B24GATE_ENGINE_EVENTS_BINDING_KEEPER_H_

#include <cstdint>
#include <functional>
#include <map>
#include <string>

#include "absl/base/thread_annotations.h"
#include "absl/status/statusor.h"
#include "absl/synchronization/mutex.h"
#include "absl/time/time.h"
#include "engine/common/clock.h"
#include "engine/common/event_bindings_spec.h"
#include "engine/events/binding_sync.h"

namespace b24gate {

class BindingKeeper {
 public:
  enum class State {
    kPending,  // no pass for the current list has ended yet
    kOk,       // the last pass ended without an error
    kFailed,   // the last pass had an error; another follows at next_attempt
  };

  struct Status {
    State state = State::kPending;
    // Passes ended for the current list.
    int attempts = 0;
    // The first error of the last pass when it failed ("event.get:
    // UNAVAILABLE: ..."): the gateway's status text, which never carries
    // credentials.
    std::string last_error;
    // When the next pass starts (kFailed); InfiniteFuture otherwise.
    absl::Time next_attempt = absl::InfiniteFuture();
    // What the last pass saw and did (desired filled in from the start).
    BindingSync::Report report;
  };

  struct Options {
    absl::Duration first_retry = absl::Seconds(1);
    absl::Duration max_retry = absl::Minutes(5);
  };

  // The calls of a pass on `portal`; an error (the portal cannot be built)
  // fails the pass as a failed event.get would.
  using Connect = std::function<absl::StatusOr<BindingSync::Caller>(const std::string& portal)>;
  // Runs `fire` once `delay` has passed (PollTimer::After).
  using After = std::function<void(absl::Duration delay, std::function<void()> fire)>;
  // Told of each pass that ended, with its attempt number (for a log line).
  using Reported = std::function<void(const std::string& portal, const Status& status)>;

  // `clock` must outlive the keeper, and the keeper must outlive every
  // pass and timer entry it started (its callbacks use it).
  BindingKeeper(Connect connect, After after, Reported reported, Clock* clock, Options options);

  // `portal` should have `wanted`, its online bindings to `handler` (its
  // URL on the inbound endpoint). A new portal, or a changed list or
  // handler, gets a pass at once (after the one running, if any); an
  // unchanged list whose last pass failed is tried again at once (new
  // credentials may be what it lacked); else nothing happens. Nothing
  // listed: as Forget. REQUIRES: `wanted` normalised
  // (NormalizeEventBindings); `handler` set when `wanted.online` is.
  void Set(const std::string& portal, const EventBindingsSpec& wanted, const std::string& handler);
  // `portal` is no longer managed (removed): its next pass is cancelled, a
  // running one's outcome is dropped, its status goes.
  void Forget(const std::string& portal);
  // Gateway shutdown: no pass starts, no timer entry is added from now on.
  void Shutdown();

  // By portal name.
  std::map<std::string, Status> Statuses() const;

 private:
  struct Entry {
    EventBindingsSpec wanted;
    std::string handler;
    Status status;
    int64_t running = 0;  // the pass in flight, 0 = none
    bool again = false;   // the list changed while it ran: a new pass follows
    int64_t timer = 0;    // the timer entry that may start the next pass, 0 = none
  };

  // Starts `portal`'s next pass after `delay` (a timer entry), cancelling
  // any other entry of it. REQUIRES: !stopping_.
  void Arm(const std::string& portal, Entry& entry, absl::Duration delay) ABSL_EXCLUSIVE_LOCKS_REQUIRED(mu_);
  // The timer's entry `token` for `portal`: starts its pass unless
  // cancelled or replaced meanwhile.
  void Wake(const std::string& portal, int64_t token) ABSL_LOCKS_EXCLUDED(mu_);
  void Finish(const std::string& portal, int64_t pass, BindingSync::Report report) ABSL_LOCKS_EXCLUDED(mu_);
  absl::Duration Backoff(int attempts) const;

  const Connect connect_;
  const After after_;
  const Reported reported_;
  Clock* const clock_;
  const Options options_;

  mutable absl::Mutex mu_;
  std::map<std::string, Entry> entries_ ABSL_GUARDED_BY(mu_);
  int64_t tokens_ ABSL_GUARDED_BY(mu_) = 0;  // timer entries and passes, numbered
  bool stopping_ ABSL_GUARDED_BY(mu_) = false;
};

}  // namespace b24gate

#endif  // B24GATE_ENGINE_EVENTS_BINDING_KEEPER_H_
