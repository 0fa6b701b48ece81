// One entry of a portal's queue: a caller's call or pre-formed batch, and
// what the dispatcher keeps about it between attempts.
//
// The two kinds are a std::variant: what only a call has (one method, its
// params, whether it must travel alone) and what only a batch has (its
// commands, `halt`, the outcomes of earlier passes) cannot be mixed up.
//
// Thread-safety: not thread-safe. A Work belongs to one Portal and is touched
// under its lock, or by the one thread that holds it while it is off the
// queue (being sent, being answered).
#ifndef B24GATE_ENGINE_PORTAL_WORK_H_
#define B24GATE_ENGINE_PORTAL_WORK_H_

#include <cstdint>
#include <functional>
#include <map>
#include <memory>
#include <string>
#include <variant>
#include <vector>

#include <nlohmann/json.hpp>

#include "absl/status/status.h"
#include "absl/time/time.h"
#include "engine/portal/call_types.h"
#include "engine/throttle/fair_share.h"

namespace b24gate {

// Predicted operating time per method ("batch" included for a batch).
using OperatingCosts = std::map<std::string, absl::Duration>;

struct CallWork {
  std::string method;  // normalised
  nlohmann::ordered_json params;
  bool as_json = false;  // must travel alone as a JSON body
  CallCallback done;
};

struct BatchWork {
  std::vector<BatchCommandSpec> commands;  // those still to run
  bool halt = false;
  BatchCallback done;
  BatchResult partial;  // outcomes of earlier passes (sent again in part)
};

struct Work {
  std::variant<CallWork, BatchWork> body;
  bool read = false;  // safe to repeat when the outcome is unknown
  CallOptions options;
  int attempts = 0;
  int auth_refreshes = 0;  // at most one: a token refused twice is final
  int redirects = 0;
  int64_t sent_generation = 0;  // credentials generation it was last sent with
  absl::Time not_before = absl::InfinitePast();
  absl::Time enqueued;
  // A partial batch headed by this call waits for callers arriving with it
  // until `linger_until`, and while more are expected until `hold_until`.
  absl::Time linger_until = absl::InfinitePast();
  absl::Time hold_until = absl::InfinitePast();
  absl::Status last_error;  // why it was last requeued
  // Who sent it (a FairShare class) and its place in the fair order.
  std::string client;
  FairShare::Place place;
  bool requeued = false;  // retries and token waits go ahead of the order
  // Queued alone, not as part of a caller's group (bulk): a caller that
  // sends one call at a time, likely to send the next after the answer.
  bool alone = false;
  OperatingCosts reserved;  // booked while in flight

  bool is_batch() const { return std::holds_alternative<BatchWork>(body); }
  CallWork& call() { return std::get<CallWork>(body); }
  const CallWork& call() const { return std::get<CallWork>(body); }
  BatchWork& batch() { return std::get<BatchWork>(body); }
  const BatchWork& batch() const { return std::get<BatchWork>(body); }
  // The method, "batch" for a pre-formed batch.
  const std::string& method() const;
  // Commands it carries: what it costs of its client's fair share.
  int Commands() const;
  bool Cancelled() const { return options.cancel && options.cancel->cancelled(); }
  // Whether it may share a coalesced batch with other calls.
  bool Coalescable() const { return !is_batch() && !call().as_json; }
};

using WorkPtr = std::unique_ptr<Work>;
// Caller-facing work, run after the portal's lock is released.
using Completion = std::function<void()>;

// The caller's answer when `w` fails with `status`. A batch part of which
// already ran keeps those outcomes; only the commands left get `status`.
Completion FailureAnswer(Work& w, absl::Status status);
// The answer of a call that succeeded. REQUIRES: !w.is_batch().
Completion CallAnswer(Work& w, CallReply reply);
// The answer of a batch: its outcomes so far. REQUIRES: w.is_batch().
Completion BatchAnswer(Work& w);

// Plain calls (not pre-formed batches) among `group`'s entries; null
// entries (already answered) are skipped.
int CallsIn(const std::vector<WorkPtr>& group);

}  // namespace b24gate

#endif  // B24GATE_ENGINE_PORTAL_WORK_H_
