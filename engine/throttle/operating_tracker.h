// Per-method operating-time bookkeeping (docs/bitrix24-protocol.md, "Limits"): what the portal
// reports in each answer's `time` (`operating`, `operating_reset_at`), and
// whether a method must wait before its next call so it is never blocked.
//
// A method is paused when its reported `operating` comes within `margin` of
// the limit, until the `operating_reset_at` the portal reported (when the
// oldest one-minute basket leaves the window). A 429 OPERATION_TIME_LIMIT
// parks the method until that time too. Other methods are unaffected.
//
// Answers report the time spent only after it is spent, and a batch of 50
// heavy commands can cost more than the whole margin, so the tracker also
// predicts: it keeps a per-method estimate of one command's cost (from the
// `processing` the portal reports for each command) and lets the dispatcher
// reserve the predicted cost of what it sends, as the leaky bucket reserves
// requests. A request fits while reported use + reserved + its cost stays
// within limit - margin. A method with nothing in flight may always send
// (unless paused): its answer brings a fresh figure, so a stale one (after a
// basket has left the window) never blocks it for good. A method whose cost
// is not known yet is predicted to cost nothing: holding it back would make
// every first use of a method wait for a possibly slow answer, and the
// margin covers what its first requests spend.
//
// Thread-safety: not thread-safe; the owner serialises calls.
#ifndef B24GATE_ENGINE_THROTTLE_OPERATING_TRACKER_H_
#define B24GATE_ENGINE_THROTTLE_OPERATING_TRACKER_H_

#include <map>
#include <string>
#include <vector>

#include <nlohmann/json.hpp>

#include "absl/time/time.h"

namespace b24gate {

struct OperatingPolicy {
  absl::Duration limit = absl::Seconds(480);   // per method per window
  absl::Duration window = absl::Seconds(600);  // ten one-minute baskets
  // Pause a method when fewer than this many seconds remain: a call may
  // take up to the 60 s cut-off, and the call crossing the limit still runs.
  absl::Duration margin = absl::Seconds(60);
};

class OperatingTracker {
 public:
  explicit OperatingTracker(OperatingPolicy policy) : policy_(policy) {}

  // Records a `time` object the portal returned for `method` at `now`.
  void Observe(const std::string& method, const nlohmann::ordered_json& time, absl::Time now);
  // The method was refused with 429 at `now`; `time` may be null.
  void Blocked(const std::string& method, const nlohmann::ordered_json& time, absl::Time now);
  // The time before which `method` must not be called (<= now: go ahead).
  absl::Time ReadyAt(const std::string& method) const;
  // Last reported seconds used in the window, for metrics.
  double Operating(const std::string& method) const;
  const std::map<std::string, double> Snapshot() const;

  void SetPolicy(OperatingPolicy policy) { policy_ = policy; }

  // Prediction and reservations.
  //
  // The predicted cost of one command of `method` (zero until the portal
  // has reported one).
  absl::Duration Estimate(const std::string& method) const;
  // When a request adding `cost` to `method` may be sent, as far as
  // reservations go (pauses are ReadyAt's): `now` when it fits (see above);
  // the reported reset when only fresh reported use stands in the way;
  // InfiniteFuture while it waits for requests in flight to answer.
  absl::Time FitsAt(const std::string& method, absl::Duration cost, absl::Time now) const;
  // Books `cost` for a request in flight; Release() it when the answer (or
  // failure) arrives, before Observe()ing that answer.
  void Reserve(const std::string& method, absl::Duration cost);
  void Release(const std::string& method, absl::Duration cost);
  // What `method` may still spend before it must pause: limit - margin -
  // reported use - reserved, never negative.
  absl::Duration Left(const std::string& method) const;
  absl::Duration Reserved(const std::string& method) const;

  // Sharing with other gateway replicas (engine/budget). What one replica
  // knows of a method that the others need: the portal's latest report, the
  // pause, and the reservations in flight.
  struct Shared {
    bool reported = false;  // `operating` / `reset_at` hold a report
    double operating = 0;
    absl::Time reset_at = absl::InfinitePast();
    absl::Time paused_until = absl::InfinitePast();
    absl::Duration reserved;
    int in_flight = 0;
  };
  // This replica's own view of `method` (its reservations only).
  Shared Own(const std::string& method) const;
  // Takes in what the replicas share: the latest report (when `shared`
  // has one), the later pause, and the other replicas' reservations, which
  // count from then on in FitsAt, Left and Reserved as if they were ours.
  void Adopt(const std::string& method, const Shared& shared);
  // Forgets the other replicas' reservations (they can no longer be known).
  void ForgetOthers();
  // Every method with state.
  std::vector<std::string> Methods() const;

 private:
  struct MethodState {
    double operating = 0;
    absl::Time reset_at = absl::InfinitePast();
    absl::Time paused_until = absl::InfinitePast();
    absl::Duration estimate;     // predicted cost of one command
    bool estimated = false;      // `estimate` is from a reported cost
    absl::Duration reserved;     // predicted cost of the requests in flight
    int in_flight = 0;           // requests holding a reservation
    bool reported = false;       // `operating` is from a report
    // Other replicas' reservations (Adopt), counted with ours.
    absl::Duration others_reserved;
    int others_in_flight = 0;
  };
  // Folds one command's reported `processing` into the estimate.
  void Learn(MethodState& state, const nlohmann::ordered_json& time);
  OperatingPolicy policy_;
  std::map<std::string, MethodState> methods_;
};

}  // namespace b24gate

#endif  // B24GATE_ENGINE_THROTTLE_OPERATING_TRACKER_H_
