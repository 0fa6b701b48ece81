// What a portal has in flight, and whose callers it expects back: the only
// place these counts change.
//
//   requests  HTTP requests on the wire, and token refreshes holding work
//             (each takes one of the portal's concurrency slots);
//   calls     plain calls among them;
//   awaiting  callers answered recently who have not sent their next call.
//
// A request is started with the calls it carries and settled once, with how
// many of them were answered: those callers are expected back (a caller
// that sends one call at a time comes back right after its answer); calls
// sent again were never answered, so nobody waits for their callers.
// Coalescing waits for company only while calls are in flight or answered
// callers are due back (CompanyExpected).
//
// How long answered callers take to come back grows with their number: the
// gateway hands the answers over one after another and each caller's thread
// must run before it sends again, so on a busy machine fifty callers take
// several times as long as one. The ledger learns from whole groups (the
// callers of one answer, until the last is back) and expects a larger group
// to take proportionally longer; the first callers of a group back teach
// nothing, or the fastest few would set the pace for the rest.
//
// It also keeps the latencies of recent answers, to tell whether a write
// can still finish before its caller's deadline.
//
// Thread-safety: not thread-safe; the portal's lock guards it.
#ifndef B24GATE_ENGINE_PORTAL_INFLIGHT_LEDGER_H_
#define B24GATE_ENGINE_PORTAL_INFLIGHT_LEDGER_H_

#include <deque>

#include "absl/time/time.h"

namespace b24gate {

class InflightLedger {
 public:
  // A request (or a token refresh) carrying `calls` plain calls started.
  void Started(int calls);
  // `calls` plain calls of a started request are settled at `now`;
  // `answered` of them reached their callers, the rest were queued again.
  // REQUIRES: answered <= calls.
  void Settled(int calls, int answered, absl::Time now);
  // The request's concurrency slot is free again (after Settled; at
  // shutdown, calls may be settled long before their request ends).
  void Ended();
  // A caller queued a new call at `now`: one answered caller is back,
  // counted to the oldest group awaited (how long a whole group took is
  // learned for CallersDueBack).
  void CallArrived(absl::Time now);
  // Whether more calls are likely to join a batch soon: calls are in
  // flight, or callers answered within `window` before `now` are not back.
  bool CompanyExpected(absl::Time now, absl::Duration window);
  // Until when the answered callers not back yet are expected: for each
  // group awaited, its answer plus the time a group of its size takes
  // (ExpectedReturn), at least `least`, at most `window` (which wins); the
  // latest of these. InfinitePast when none is awaited.
  absl::Time CallersDueBack(absl::Duration least, absl::Duration window) const;

  // An answer came `latency` after its request was sent.
  void Answered(absl::Duration latency);
  // The median latency of recent answers (zero before the first).
  absl::Duration TypicalLatency() const;
  // Whether an answer came yet (one that counts for TypicalLatency).
  bool AnyAnswered() const { return !latencies_.empty(); }

  int requests() const { return requests_; }
  int calls() const { return calls_; }

 private:
  // The callers of one answer.
  struct Group {
    absl::Time answered;
    int size = 0;
    int left = 0;  // not back yet
  };
  // A group that came back whole: its size and its answer to its last call.
  struct Return {
    int size = 0;
    absl::Duration took;
  };
  // How long a group of `size` callers is expected to take to come back
  // (`unknown` before any group came back whole).
  absl::Duration ExpectedReturn(int size, absl::Duration unknown) const;

  static constexpr size_t kLatencies = 32;
  static constexpr size_t kReturns = 8;
  int requests_ = 0;
  int calls_ = 0;
  std::deque<Group> awaiting_;            // oldest first
  std::deque<absl::Duration> latencies_;  // newest last
  std::deque<Return> returns_;            // newest last
};

}  // namespace b24gate

#endif  // B24GATE_ENGINE_PORTAL_INFLIGHT_LEDGER_H_
