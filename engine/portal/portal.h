// One Bitrix24 portal as the engine sees it: a queue of commands that a
// dispatcher thread drains into HTTP requests, never faster than the portal's
// limits allow.
//
// Calls from any number of callers are queued; the dispatcher takes the
// oldest ready ones, packs up to `batch_size` of them into one `batch`
// request (a lone call, or one that must travel as JSON, goes as a plain
// request), reserves a slot in the leaky-bucket model, and sends. Answers are
// split back to each caller. Failures are classified:
//   - not executed (503 QUERY_LIMIT_EXCEEDED, 429, connect/TLS failure):
//     requeued with backoff within the caller's deadline;
//   - outcome unknown (timeout after sending, reset, 500, non-JSON 5xx):
//     requeued only for reads (or calls marked idempotent); writes fail with
//     UNAVAILABLE / OUTCOME_UNKNOWN and are never sent again on their own;
//   - final (auth, access, bad parameters): returned at once.
// Methods whose operating time nears the limit wait in the queue while other
// methods flow.
//
// Thread-safety: thread-safe. Callbacks run on the transport's thread or on
// the dispatcher thread, never while internal locks are held.
#ifndef B24GATE_ENGINE_PORTAL_PORTAL_H_
#define B24GATE_ENGINE_PORTAL_PORTAL_H_

#include <cstdint>
#include <deque>
#include <map>
#include <memory>
#include <random>
#include <set>
#include <string>
#include <thread>
#include <vector>

#include "absl/synchronization/mutex.h"
#include "engine/throttle/autothrottle.h"
#include "engine/throttle/backoff.h"
#include "engine/portal/call_types.h"
#include "engine/common/clock.h"
#include "engine/auth/credentials.h"
#include "engine/http/http_transport.h"
#include "engine/throttle/leaky_bucket.h"
#include "engine/throttle/operating_tracker.h"
#include "engine/portal/portal_observer.h"
#include "engine/portal/portal_options.h"
#include "engine/portal/portal_stats.h"

namespace b24gate {

class Portal {
 public:
  // `transport`, `clock` and `observer` must outlive the Portal.
  Portal(PortalOptions options, HttpTransport* transport, Clock* clock,
         PortalObserver* observer = PortalObserver::Null());
  // Fails queued commands with UNAVAILABLE and waits for in-flight requests.
  ~Portal();

  Portal(const Portal&) = delete;
  Portal& operator=(const Portal&) = delete;

  // Queues one call. `params` is an object, or a list for positional
  // methods. When `as_json` is true, or params hold a null or are a list, the
  // call travels alone as a JSON body; otherwise it may share a batch.
  void Call(std::string method, nlohmann::ordered_json params, bool as_json, CallOptions options,
            CallCallback done);

  // Queues a pre-formed batch of at most 50 commands; keys and order are kept
  // so `$result[key]` references work.
  // REQUIRES: 1 <= commands.size() <= 50, keys unique.
  void Batch(std::vector<BatchCommandSpec> commands, bool halt, CallOptions options,
             BatchCallback done);

  PortalStats Stats() const;

  // What the portal can take now, for callers that size their own
  // parallelism (parallel list reading). A snapshot: read-only, cheap, and
  // stale as soon as it returns, so use it to choose how much to queue, not
  // as a promise that it will be sent at once.
  PortalBudget Budget(const std::string& method) const;

  // Shutdown, step 1: refuses new calls and answers every queued command at
  // once with UNAVAILABLE / NOT_EXECUTED (it was never sent). Requests
  // already on the wire continue and answer their callers.
  void BeginShutdown();
  // Shutdown, step 2 (at the grace deadline): answers every command still on
  // the wire with UNAVAILABLE / OUTCOME_UNKNOWN (it may have run). Their late
  // HTTP answers are dropped.
  void AbandonInFlight();

  // Changes speed settings at once, without a restart.
  // INVALID_ARGUMENT (and no change) when `tuning` is out of range.
  absl::Status Tune(const PortalTuning& tuning);
  PortalTuning Tuning() const;
  const std::string& name() const { return options_.name; }
  Credentials& credentials() { return *credentials_; }
  const PortalOptions& options() const { return options_; }

 private:
  struct Pending;
  using PendingPtr = std::unique_ptr<Pending>;
  using Completion = std::function<void()>;

  void Enqueue(PendingPtr pending, bool front);
  void DispatchLoop();
  // Picks the next group to send, or returns false after waiting.
  // REQUIRES: mu_ held.
  bool TakeGroup(std::vector<PendingPtr>* group, std::vector<Completion>* completions)
      ABSL_EXCLUSIVE_LOCKS_REQUIRED(mu_);
  absl::Time ReadyAt(const Pending& p) const ABSL_EXCLUSIVE_LOCKS_REQUIRED(mu_);
  void Send(std::vector<PendingPtr> group);
  void OnResponse(std::vector<PendingPtr> group, std::vector<std::string> keys,
                  absl::Time sent_at, HttpResponse response);
  // Gets a token first, then puts the group back at the head of the queue.
  void RefreshThenRequeue(std::vector<PendingPtr> group, int64_t generation);

  // Outcome helpers. REQUIRES: mu_ held. They push the caller-facing work
  // into `completions`, to run after the lock is released.
  void HandleSingle(PendingPtr p, const HttpResponse& response,
                    std::vector<Completion>* completions) ABSL_EXCLUSIVE_LOCKS_REQUIRED(mu_);
  void HandleCoalesced(std::vector<PendingPtr> group, const std::vector<std::string>& keys,
                       const HttpResponse& response, std::vector<Completion>* completions)
      ABSL_EXCLUSIVE_LOCKS_REQUIRED(mu_);
  void HandleUserBatch(PendingPtr p, const HttpResponse& response,
                       std::vector<Completion>* completions) ABSL_EXCLUSIVE_LOCKS_REQUIRED(mu_);
  // A Bitrix24 error answer for `p` (whole request or one batch entry).
  void OnB24Error(PendingPtr p, const B24Error& error, std::vector<Completion>* completions)
      ABSL_EXCLUSIVE_LOCKS_REQUIRED(mu_);
  void RetryNotExecuted(PendingPtr p, absl::Status cause, RetryReason reason, bool backoff,
                        std::vector<Completion>* completions) ABSL_EXCLUSIVE_LOCKS_REQUIRED(mu_);
  void OnOutcomeUnknown(PendingPtr p, absl::Status cause, std::vector<Completion>* completions)
      ABSL_EXCLUSIVE_LOCKS_REQUIRED(mu_);
  void Fail(PendingPtr p, absl::Status status, std::vector<Completion>* completions);
  // Feeds the autothrottle and applies its rate to the bucket.
  void ServerTrouble() ABSL_EXCLUSIVE_LOCKS_REQUIRED(mu_);
  void ApplyRate() ABSL_EXCLUSIVE_LOCKS_REQUIRED(mu_);
  void Succeed(PendingPtr p, CallReply reply, std::vector<Completion>* completions)
      ABSL_EXCLUSIVE_LOCKS_REQUIRED(mu_);

  // Shutdown helpers (see BeginShutdown / AbandonInFlight).
  static absl::Status ShuttingDownNotExecuted();
  void FailQueueForShutdown(std::vector<Completion>* completions)
      ABSL_EXCLUSIVE_LOCKS_REQUIRED(mu_);
  // False when AbandonInFlight already answered `group` (then the in-flight
  // count is settled here).
  bool ClaimFromWire(std::vector<PendingPtr>* group);

  const PortalOptions options_;
  HttpTransport* const transport_;
  Clock* const clock_;
  PortalObserver* const observer_;
  std::unique_ptr<Credentials> credentials_;

  mutable absl::Mutex mu_;
  absl::CondVar wake_;
  std::deque<PendingPtr> queue_ ABSL_GUARDED_BY(mu_);
  PortalTuning tuning_ ABSL_GUARDED_BY(mu_);
  LeakyBucket bucket_ ABSL_GUARDED_BY(mu_);
  Autothrottle autothrottle_ ABSL_GUARDED_BY(mu_);
  OperatingTracker operating_ ABSL_GUARDED_BY(mu_);
  Backoff backoff_;
  std::mt19937_64 rng_ ABSL_GUARDED_BY(mu_);
  int in_flight_ ABSL_GUARDED_BY(mu_) = 0;
  // The autothrottle's last reported speed, to report changes only.
  double reported_rate_factor_ ABSL_GUARDED_BY(mu_) = 1;
  int reported_concurrency_ ABSL_GUARDED_BY(mu_) = 0;
  bool stopping_ ABSL_GUARDED_BY(mu_) = false;
  // Set by BeginShutdown: nothing more is sent.
  bool draining_ ABSL_GUARDED_BY(mu_) = false;
  // Groups whose HTTP request is on the wire, for AbandonInFlight.
  std::set<std::vector<PendingPtr>*> on_wire_ ABSL_GUARDED_BY(mu_);
  PortalStats stats_ ABSL_GUARDED_BY(mu_);
  std::thread dispatcher_;
};

}  // namespace b24gate

#endif  // B24GATE_ENGINE_PORTAL_PORTAL_H_
