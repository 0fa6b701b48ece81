// One Bitrix24 portal as the engine sees it: a queue of commands that a
// dispatcher thread drains into HTTP requests, never faster than the portal's
// limits allow.
//
// Calls from any number of callers are queued, each client's in its fair
// place (engine/throttle/fair_share.h); the dispatcher takes the first ready
// ones in that order, packs up to `batch_size` of them into one `batch`
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
#include <optional>
#include <random>
#include <set>
#include <string>
#include <thread>
#include <vector>

#include "absl/synchronization/mutex.h"
#include "engine/budget/budget_store.h"
#include "engine/throttle/autothrottle.h"
#include "engine/throttle/backoff.h"
#include "engine/throttle/fair_share.h"
#include "engine/portal/call_types.h"
#include "engine/common/clock.h"
#include "engine/auth/credentials.h"
#include "engine/bitrix/bitrix_response.h"
#include "engine/http/http_transport.h"
#include "engine/http/redirect_policy.h"
#include "engine/throttle/leaky_bucket.h"
#include "engine/throttle/operating_tracker.h"
#include "engine/portal/dispatcher.h"
#include "engine/portal/portal_observer.h"
#include "engine/portal/portal_options.h"
#include "engine/portal/portal_stats.h"

namespace b24gate {

class Portal : public Dispatcher {
 public:
  // `transport`, `clock` and `observer` must outlive the Portal.
  Portal(PortalOptions options, HttpTransport* transport, Clock* clock,
         PortalObserver* observer = PortalObserver::Null());
  // Fails queued commands with UNAVAILABLE and waits for in-flight requests.
  ~Portal() override;

  Portal(const Portal&) = delete;
  Portal& operator=(const Portal&) = delete;

  // Dispatcher (dispatcher.h).
  void Call(std::string method, nlohmann::ordered_json params, bool as_json, CallOptions options,
            CallCallback done) override;
  void Batch(std::vector<BatchCommandSpec> commands, bool halt, CallOptions options,
             BatchCallback done) override;
  PortalBudget Budget(const std::string& method) const override;
  const std::string& name() const override { return options_.name; }

  PortalStats Stats() const;

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
  Credentials& credentials() { return *credentials_; }
  const PortalOptions& options() const { return options_; }

 private:
  struct Pending;
  using PendingPtr = std::unique_ptr<Pending>;
  using Completion = std::function<void()>;

  // Queues a new command in its client's fair place (FairShare).
  void Enqueue(PendingPtr pending);
  // Puts a command that was taken back at the head of the queue: a retry or
  // a command waiting for a token goes before new work.
  void Requeue(PendingPtr pending) ABSL_EXCLUSIVE_LOCKS_REQUIRED(mu_);
  void DispatchLoop();
  // One look at the queue: moves the next group to send into `group`, or
  // answers abandoned calls into `completions`, or (both left empty) returns
  // when to look again if nothing changes before then.
  absl::Time TakeGroup(std::vector<PendingPtr>* group, std::vector<Completion>* completions)
      ABSL_EXCLUSIVE_LOCKS_REQUIRED(mu_);
  // The steps of TakeGroup.
  // Fails cancelled and expired calls; true if there were any. Lowers
  // `first_deadline` to the earliest deadline of those left.
  bool DropAbandoned(absl::Time now, std::vector<Completion>* completions,
                     absl::Time* first_deadline) ABSL_EXCLUSIVE_LOCKS_REQUIRED(mu_);
  // The oldest command that may be sent now, or end() with `earliest` lowered
  // to the first time one may.
  std::deque<PendingPtr>::iterator FirstReady(absl::Time now, absl::Time* earliest)
      ABSL_EXCLUSIVE_LOCKS_REQUIRED(mu_);
  // Plain calls (not pre-formed batches) in `group`.
  static int CallsIn(const std::vector<PendingPtr>& group);
  // Whether more calls are likely to join a batch being formed soon: calls
  // are in flight, or calls were answered (within the last drain interval)
  // whose callers have not sent again yet. Callers that send one call at a
  // time come back right after their answer.
  bool CompanyExpected(absl::Time now) ABSL_EXCLUSIVE_LOCKS_REQUIRED(mu_);
  // A new call arrived: counts one answered caller as back.
  void CallerReturned() ABSL_EXCLUSIVE_LOCKS_REQUIRED(mu_);
  // Whether `head` may share a coalesced batch with other calls.
  bool Shareable(const Pending& head, absl::Time now) const ABSL_EXCLUSIVE_LOCKS_REQUIRED(mu_);
  // `first` and the ready calls that may ride with it, up to the batch size.
  std::vector<std::deque<PendingPtr>::iterator> Companions(std::deque<PendingPtr>::iterator first,
                                                           absl::Time now)
      ABSL_EXCLUSIVE_LOCKS_REQUIRED(mu_);
  // Predicted operating time per method ("batch" included when the request
  // is a batch).
  using Costs = std::map<std::string, absl::Duration>;
  // What sending `p` would add to each method's operating time.
  Costs CostOf(const Pending& p) const ABSL_EXCLUSIVE_LOCKS_REQUIRED(mu_);
  // When `p` may be sent, `booked` being already taken by the request being
  // formed: its backoff, its methods' pauses and operating-time room.
  // InfiniteFuture while it waits for an answer in flight.
  absl::Time ReadyAt(const Pending& p, const Costs& booked, absl::Time now) const
      ABSL_EXCLUSIVE_LOCKS_REQUIRED(mu_);
  // Books the group's predicted cost; ReleaseCosts gives it back when the
  // answer (or failure) arrives. Idempotent per command.
  void ReserveCosts(std::vector<PendingPtr>& group) ABSL_EXCLUSIVE_LOCKS_REQUIRED(mu_);
  void ReleaseCosts(std::vector<PendingPtr>& group) ABSL_EXCLUSIVE_LOCKS_REQUIRED(mu_);
  void Send(std::vector<PendingPtr> group);
  // Whether every command of `group` has been cancelled by its caller.
  static bool AllCancelled(const std::vector<PendingPtr>& group);
  // For HttpRequest::abandoned: true once every caller of a group of reads
  // has cancelled (empty when the group holds a write or an uncancellable call).
  static std::function<bool()> AbandonedWhenAllCancel(const std::vector<PendingPtr>& group);
  void OnResponse(std::vector<PendingPtr> group, std::vector<std::string> keys,
                  absl::Time sent_at, HttpResponse response);
  // For a redirect answer, whether to follow it (DecideRedirect on the
  // current address and redirect_to), told to the observer; nullopt for any
  // other answer. REQUIRES: mu_ not held.
  std::optional<RedirectDecision> CheckRedirect(const HttpResponse& response)
      ABSL_LOCKS_EXCLUDED(mu_);
  // Fails the group (a refused redirect) or moves the portal and requeues
  // it (a followed one). REQUIRES: mu_ held.
  void OnRedirectAnswer(std::vector<PendingPtr> group, const RedirectDecision& redirect,
                        std::vector<Completion>* completions) ABSL_EXCLUSIVE_LOCKS_REQUIRED(mu_);
  // Gets a token first, then puts the group back at the head of the queue.
  void RefreshThenRequeue(std::vector<PendingPtr> group, int64_t generation);

  // Outcome helpers, given the answer already parsed (outside the lock).
  // REQUIRES: mu_ held. They push the caller-facing work
  // into `completions`, to run after the lock is released.
  void HandleSingle(PendingPtr p, absl::StatusOr<CommandOutcome> outcome,
                    std::vector<Completion>* completions) ABSL_EXCLUSIVE_LOCKS_REQUIRED(mu_);
  // An answer that could not be used: NOT_EXECUTED (a 4xx refusal) fails at
  // once, or is sent again when transient; anything else is an unknown
  // outcome (OnOutcomeUnknown).
  void OnUnusable(PendingPtr p, absl::Status status, std::vector<Completion>* completions)
      ABSL_EXCLUSIVE_LOCKS_REQUIRED(mu_);
  void HandleCoalesced(std::vector<PendingPtr> group, const std::vector<std::string>& keys,
                       absl::StatusOr<BatchReply> reply, std::vector<Completion>* completions)
      ABSL_EXCLUSIVE_LOCKS_REQUIRED(mu_);
  void HandleUserBatch(PendingPtr p, absl::StatusOr<BatchReply> reply,
                       std::vector<Completion>* completions) ABSL_EXCLUSIVE_LOCKS_REQUIRED(mu_);
  // Sub-commands of a pre-formed batch refused with OPERATION_TIME_LIMIT (and,
  // with `halt`, those after them) were not executed: makes `p` a batch of
  // just those, to be queued again. False (nothing changed) when one refers
  // to another's `$result` or the deadline has passed.
  bool RetryRefusedCommands(Pending* p, std::vector<BatchCommandSpec> refused, absl::Time now)
      ABSL_EXCLUSIVE_LOCKS_REQUIRED(mu_);
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

  // Cancellation tokens are set without our lock; a queued command that was
  // cancelled is noticed within this long (of the clock's time).
  static constexpr absl::Duration kRecheckCancellation = absl::Milliseconds(200);

  mutable absl::Mutex mu_;
  // Set when something the dispatcher's decision depends on changed (a call
  // queued, an answer in, tuning): wakes it from its wait on the clock.
  bool kicked_ ABSL_GUARDED_BY(mu_) = false;
  // Requeued commands first, then new ones in fair order (Enqueue).
  std::deque<PendingPtr> queue_ ABSL_GUARDED_BY(mu_);
  FairShare fair_ ABSL_GUARDED_BY(mu_);
  PortalTuning tuning_ ABSL_GUARDED_BY(mu_);
  // The portal's limits (engine/budget): in memory, or shared with other
  // replicas; bucket_ and operating_ are its two faces.
  const std::unique_ptr<BudgetStore> budget_;
  RequestBudget& bucket_ ABSL_GUARDED_BY(mu_);
  Autothrottle autothrottle_ ABSL_GUARDED_BY(mu_);
  OperatingBudget& operating_ ABSL_GUARDED_BY(mu_);
  Backoff backoff_;
  std::mt19937_64 rng_ ABSL_GUARDED_BY(mu_);
  int in_flight_ ABSL_GUARDED_BY(mu_) = 0;
  // Plain calls in the requests in flight, and (answered at, callers not
  // back yet) of recent answers, for CompanyExpected.
  int calls_in_flight_ ABSL_GUARDED_BY(mu_) = 0;
  std::deque<std::pair<absl::Time, int>> awaiting_return_ ABSL_GUARDED_BY(mu_);
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
