// One Bitrix24 portal as the engine sees it: a queue of commands that its
// dispatcher drains into HTTP requests, never faster than the portal's limits
// allow. The dispatcher runs in turns on a DispatchPool shared by every portal
// of a gateway (engine/portal/dispatch_pool.h): a portal owns no thread.
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
// Thread-safety: thread-safe. Callbacks run on the transport's thread, on
// a pool thread or on a caller's thread it lent (CallOptions::lend_thread),
// never while internal locks are held.
#ifndef B24GATE_ENGINE_PORTAL_PORTAL_H_
#define B24GATE_ENGINE_PORTAL_PORTAL_H_

#include <cstdint>
#include <memory>
#include <optional>
#include <random>
#include <set>
#include <string>
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
#include "engine/portal/dispatch_pool.h"
#include "engine/portal/dispatch_queue.h"
#include "engine/portal/inflight_ledger.h"
#include "engine/portal/portal_events.h"
#include "engine/portal/retry_policy.h"
#include "engine/portal/v3_catalog.h"
#include "engine/portal/work.h"

namespace b24gate {

class Portal : public Dispatcher, private DispatchPool::Task {
 public:
  // Answers this large or larger are parsed and handled on the dispatch
  // pool, not on the transport's thread (about 2 ms of parsing); so are
  // those of calls marked CallOptions::heavy_callback, whatever their size.
  static constexpr size_t kParseOnPoolBytes = size_t{64} << 10;
  // Runs its dispatcher on `pool`. `transport`, `clock`, `pool` and
  // `observer` must outlive the Portal.
  Portal(PortalOptions options, HttpTransport* transport, Clock* clock, DispatchPool* pool,
         PortalObserver* observer = PortalObserver::Null());
  // Fails queued commands with UNAVAILABLE and waits for in-flight requests.
  ~Portal() override;

  Portal(const Portal&) = delete;
  Portal& operator=(const Portal&) = delete;

  // Dispatcher (dispatcher.h).
  void Call(std::string method, nlohmann::ordered_json params, bool as_json, CallOptions options,
            CallCallback done) override;
  void Calls(const std::string& method, std::vector<GroupedCall> calls, bool as_json,
             const CallOptions& options) override;
  void Batch(std::vector<BatchCommandSpec> commands, bool halt, CallOptions options,
             BatchCallback done) override;
  PortalBudget Budget(const std::string& method) const override;
  // Opens the connections on the next turn, after the turn's send: a hint
  // given just after queuing a request never reaches the transport first.
  void Warm(int requests) override;
  // Opens one connection to the portal now (a HEAD for a static file, never
  // a REST call: no request of its budget), so that its first request does
  // not connect on its own path. For a gateway starting up. Never blocks.
  void Preconnect();
  // On the pool when it has nothing else to do (DispatchPool::RunWhenIdle).
  void Background(std::function<void()> job) override { pool_->RunWhenIdle(std::move(job)); }
  const std::string& name() const override { return options_.name; }

  PortalStats Stats() const;

  // Shutdown, step 1: refuses new calls and answers every queued command at
  // once with UNAVAILABLE / NOT_EXECUTED (it was never sent). Requests
  // already on the wire continue and answer their callers.
  void BeginShutdown();
  // Shutdown, step 2 (at the grace deadline): answers every command still on
  // the wire with UNAVAILABLE / OUTCOME_UNKNOWN (it may have run), except
  // those whose request the transport had not started to write yet: those
  // are withdrawn and answered UNAVAILABLE / NOT_EXECUTED. Late HTTP answers
  // are dropped.
  void AbandonInFlight();

  // Changes speed settings at once, without a restart.
  // INVALID_ARGUMENT (and no change) when `tuning` is out of range.
  absl::Status Tune(const PortalTuning& tuning);
  PortalTuning Tuning() const;
  Credentials& credentials() { return *credentials_; }
  // The REST 3.0 methods the portal lists, for `auto` API selection.
  V3Catalog& v3_catalog() { return v3_catalog_; }
  const PortalOptions& options() const { return options_; }

 private:
  // One HTTP request's worth of work, from the moment it is taken off the
  // queue until its answer is handled (or it is answered at shutdown).
  struct Flight;
  using FlightPtr = std::shared_ptr<Flight>;

  // A call's work, or null when it was refused (and answered) at once.
  WorkPtr CallWorkOf(std::string method, nlohmann::ordered_json params, bool as_json,
                     CallOptions options, CallCallback done);
  // Queues new work (the caller's side), all of it under one lock.
  void Enqueue(WorkPtr w);
  // `lend_thread`: CallOptions::lend_thread.
  void EnqueueAll(std::vector<WorkPtr> group, bool lend_thread = false);
  void QueueGroup(std::vector<WorkPtr> group) ABSL_EXCLUSIVE_LOCKS_REQUIRED(mu_);
  // One turn of the leader loop (DispatchPool::Task); see portal.cc.
  absl::Time RunTurn() override;
  // One pass of the loop at `now`: answers abandoned work, takes the next
  // request to send into `*flight` (if the limits allow one), and returns
  // when to look again if nothing changes before then.
  absl::Time Pass(absl::Time now, Outbox* out, FlightPtr* flight)
      ABSL_EXCLUSIVE_LOCKS_REQUIRED(mu_);
  // Answers writes on the wire whose caller's deadline has passed.
  void ExpireWritesOnWire(absl::Time now, Outbox* out, absl::Time* next)
      ABSL_EXCLUSIVE_LOCKS_REQUIRED(mu_);
  FlightPtr TakeFlight(absl::Time now, absl::Time* next) ABSL_EXCLUSIVE_LOCKS_REQUIRED(mu_);
  // When the first request on the wire carrying calls of callers who send
  // one at a time is expected back (DispatchLimits::calls_due).
  absl::Time CallsDue() const ABSL_EXCLUSIVE_LOCKS_REQUIRED(mu_);
  int MaxInFlight() const ABSL_EXCLUSIVE_LOCKS_REQUIRED(mu_);
  // Asks the transport to open `connections` to the portal. No lock held.
  void WarmNow(int connections) ABSL_LOCKS_EXCLUDED(mu_);
  // Books (and gives back) the predicted operating cost of work in flight.
  void ReserveCosts(std::vector<WorkPtr>& group) ABSL_EXCLUSIVE_LOCKS_REQUIRED(mu_);
  void ReleaseCosts(Work& w) ABSL_EXCLUSIVE_LOCKS_REQUIRED(mu_);

  // Encodes and sends `flight` (no lock held).
  void Send(FlightPtr flight);
  // What the transport calls with `flight`'s answer: OnResponse, on its own
  // thread or handed to the pool (see kParseOnPoolBytes).
  HttpTransport::Callback AnswerCallback(FlightPtr flight);
  void OnResponse(FlightPtr flight, HttpResponse response);
  // Settles a flight's answer. REQUIRES: the flight was still on the wire.
  // Returns how many of its plain calls were answered.
  int HandleResponse(Flight& flight, const HttpResponse& response,
                     const std::optional<RedirectDecision>& redirect,
                     absl::StatusOr<CommandOutcome> single, absl::StatusOr<BatchReply> batch,
                     absl::Time now, Outbox* out) ABSL_EXCLUSIVE_LOCKS_REQUIRED(mu_);

  // What became of one piece of work after an answer.
  enum class Fate { kAnswered, kRequeued, kRefreshing };
  // Applies the retry policy's disposition to `w` after `outcome`.
  Fate Dispose(WorkPtr w, const AttemptOutcome& outcome, absl::Time now, Outbox* out)
      ABSL_EXCLUSIVE_LOCKS_REQUIRED(mu_);
  Fate OnB24Error(WorkPtr w, const B24Error& error, absl::Time now, Outbox* out)
      ABSL_EXCLUSIVE_LOCKS_REQUIRED(mu_);
  Fate OnOutcomeUnknown(WorkPtr w, absl::Status cause, absl::Time now, Outbox* out)
      ABSL_EXCLUSIVE_LOCKS_REQUIRED(mu_);
  Fate Succeed(WorkPtr w, CallReply reply, absl::Time now, Outbox* out)
      ABSL_EXCLUSIVE_LOCKS_REQUIRED(mu_);
  Fate Answer(WorkPtr w, absl::Status status, Outbox* out) ABSL_EXCLUSIVE_LOCKS_REQUIRED(mu_);
  // An answer that could not be used (its parse failed): NOT_EXECUTED (a
  // 4xx refusal) fails at once, or is sent again when transient; anything
  // else leaves the outcome unknown.
  Fate OnUnusable(WorkPtr w, absl::Status status, absl::Time now, Outbox* out)
      ABSL_EXCLUSIVE_LOCKS_REQUIRED(mu_);
  Fate HandleSingle(WorkPtr w, absl::StatusOr<CommandOutcome> outcome, absl::Time now,
                    Outbox* out) ABSL_EXCLUSIVE_LOCKS_REQUIRED(mu_);
  // Returns the plain calls answered.
  int HandleCoalesced(std::vector<WorkPtr> group, const std::vector<std::string>& keys,
                      absl::StatusOr<BatchReply> reply, absl::Time now, Outbox* out)
      ABSL_EXCLUSIVE_LOCKS_REQUIRED(mu_);
  void HandleUserBatch(WorkPtr w, absl::StatusOr<BatchReply> reply, absl::Time now, Outbox* out)
      ABSL_EXCLUSIVE_LOCKS_REQUIRED(mu_);
  // Sub-commands of a pre-formed batch refused with OPERATION_TIME_LIMIT
  // (and, with `halt`, those after them) were not executed: makes `w` a
  // batch of just those, to be queued again. False (nothing changed) when
  // one refers to another's `$result` or the deadline has passed.
  bool RetryRefusedCommands(Work* w, std::vector<BatchCommandSpec> refused, absl::Time now,
                            Outbox* out) ABSL_EXCLUSIVE_LOCKS_REQUIRED(mu_);
  // Gets a new token (no lock held), then queues `flight`'s work again.
  // REQUIRES: the flight counted as started in ledger_.
  void RefreshThenRequeue(FlightPtr flight, int64_t generation);
  // Feeds the autothrottle and applies its rate to the bucket.
  void ServerTrouble(absl::Time now, Outbox* out) ABSL_EXCLUSIVE_LOCKS_REQUIRED(mu_);
  void ApplyRate(absl::Time now, Outbox* out) ABSL_EXCLUSIVE_LOCKS_REQUIRED(mu_);
  // Marks a REST 3.0 write's Idempotency-Key as in use until its caller is
  // answered: false when it already is (see keys_in_use_).
  bool ClaimKey(const std::string& key);
  void ReleaseKey(const std::string& key);
  // Answers every queued work NOT_EXECUTED (shutdown).
  void FailQueueForShutdown(Outbox* out) ABSL_EXCLUSIVE_LOCKS_REQUIRED(mu_);

  const PortalOptions options_;
  HttpTransport* const transport_;
  Clock* const clock_;
  PortalObserver* const observer_;
  std::unique_ptr<Credentials> credentials_;

  // Cancellation tokens are set without our lock; a queued command that was
  // cancelled is noticed within this long (of the clock's time).
  static constexpr absl::Duration kRecheckCancellation = absl::Milliseconds(200);

  mutable absl::Mutex mu_;
  DispatchQueue queue_ ABSL_GUARDED_BY(mu_);
  PortalTuning tuning_ ABSL_GUARDED_BY(mu_);
  // The portal's limits (engine/budget): in memory, or shared with other
  // replicas; bucket_ and operating_ are its two faces.
  const std::unique_ptr<BudgetStore> budget_;
  RequestBudget& bucket_ ABSL_GUARDED_BY(mu_);
  Autothrottle autothrottle_ ABSL_GUARDED_BY(mu_);
  OperatingBudget& operating_ ABSL_GUARDED_BY(mu_);
  Backoff backoff_;
  std::mt19937_64 rng_ ABSL_GUARDED_BY(mu_);
  InflightLedger ledger_ ABSL_GUARDED_BY(mu_);
  // Flights whose HTTP request is with the transport.
  std::set<Flight*> on_wire_ ABSL_GUARDED_BY(mu_);
  // The autothrottle's last reported speed, to report changes only.
  double reported_rate_factor_ ABSL_GUARDED_BY(mu_) = 1;
  int reported_concurrency_ ABSL_GUARDED_BY(mu_) = 0;
  // Calls refused before they were queued (an Idempotency-Key in use),
  // answered by the next turn: callers are never answered from inside Call.
  std::vector<Completion> refused_ ABSL_GUARDED_BY(mu_);
  bool stopping_ ABSL_GUARDED_BY(mu_) = false;
  // Set by BeginShutdown: nothing more is sent.
  bool draining_ ABSL_GUARDED_BY(mu_) = false;
  // Connections a Warm() hint asked for, opened by the next turn (0: none).
  int warm_wanted_ ABSL_GUARDED_BY(mu_) = 0;
  PortalStats stats_ ABSL_GUARDED_BY(mu_);
  // Idempotency-Keys of the REST 3.0 writes queued or in flight. A second
  // call with a key in use is refused unsent: the portal may run two
  // requests with one key that reach it at the same time.
  absl::Mutex keys_mu_;
  std::set<std::string> keys_in_use_ ABSL_GUARDED_BY(keys_mu_);
  // Runs our turns; woken (under mu_) whenever something a turn's decision
  // depends on changed: work queued, an answer in, tuning, shutdown.
  DispatchPool* const pool_;
  // Told of every "method not found" answer (OnB24Error).
  V3Catalog v3_catalog_{this, clock_};
};

}  // namespace b24gate

#endif  // B24GATE_ENGINE_PORTAL_PORTAL_H_
