// The portal's dispatcher: one leader loop over small pure parts.
//
//   DispatchQueue   what waits, in fair order, and what to send next
//   InflightLedger  what is in flight, and whose callers are due back
//   EncodeRequest   the HTTP request a group of work becomes
//   Decide          what a failed attempt means for its work
//   Outbox          events and answers, delivered after the lock
//
// The loop runs in turns on a DispatchPool shared with the gateway's other
// portals: a turn sends at most one request, then the portal goes to the
// back of the line, so a busy portal cannot hold up another's calls; when
// nothing can go, the turn names the time to look again (the bucket's next
// slot, an operating-time window, a backoff, a deadline), which the pool
// keeps as a timer. Every turn runs in two halves. Under mu_, it only decides and
// books: answers abandoned work, asks the queue for the next group the
// limits allow, reserves its bucket slot and operating time, and counts it
// as started. Outside mu_, it delivers what the pass produced (observer
// events, callers' answers) and hands the request to the transport. No I/O,
// no observer and no caller's callback runs while mu_ is held.
//
// Answers come back on the transport's thread (OnResponse; a large one, or
// one for a heavy callback, is handed to the pool first: AnswerCallback):
// parsed outside the lock, settled under it (the retry policy decides each
// work's fate; the ledger learns how many callers were answered), delivered
// after it.
#include "engine/portal/portal.h"

#include <algorithm>
#include <utility>

#include "absl/strings/str_cat.h"
#include "engine/bitrix/method_traits.h"
#include "engine/bitrix/query_encoder.h"
#include "engine/common/errors.h"
#include "engine/portal/portal_internal.h"
#include "engine/portal/request_encoder.h"
#include "engine/portal/rest_v3.h"
#include "engine/throttle/coalescing.h"

namespace b24gate {
namespace {

using portal_internal::Event;
using portal_internal::OutcomeUnknownEvent;
using Type = PortalEvent::Type;

absl::Status ShuttingDownNotExecuted() {
  return GatewayError(absl::StatusCode::kUnavailable, kReasonNotExecuted,
                      "the gateway is shutting down; the command was not sent");
}

// For HttpRequest::abandoned: true once every caller of a group of reads
// has cancelled. Only reads: a write already sent may run whether or not
// anyone waits, and its answer (or OUTCOME_UNKNOWN) is what its caller is
// owed.
std::function<bool()> AbandonedWhenAllCancel(const std::vector<WorkPtr>& group) {
  std::vector<std::shared_ptr<CancelToken>> tokens;
  for (const auto& w : group) {
    if (!w->read || !w->options.cancel) return nullptr;
    tokens.push_back(w->options.cancel);
  }
  return [tokens = std::move(tokens)] {
    for (const auto& token : tokens) {
      if (!token->cancelled()) return false;
    }
    return true;
  };
}

std::unique_ptr<Credentials> MakeCredentials(const PortalOptions& o, HttpTransport* transport,
                                             Clock* clock) {
  if (!o.oauth.enabled()) return std::make_unique<WebhookCredentials>(o.webhook_url);
  // The portal registry's store, else the token file, else memory.
  std::shared_ptr<TokenStore> store = o.oauth.token_store;
  if (!store && o.oauth.token_file.empty()) store = std::make_shared<MemoryTokenStore>();
  if (!store) store = std::make_shared<FileTokenStore>(o.oauth.token_file);
  return std::make_unique<OAuthCredentials>(o.oauth, std::move(store), transport, o.tls, clock);
}

std::unique_ptr<BudgetStore> MakeBudgetStore(const PortalOptions& o, Clock* clock) {
  if (!o.sharing) return MakeLocalBudgetStore(o.bucket, o.operating);
  return o.sharing->StoreFor(o.name, o.bucket, o.operating, clock);
}

}  // namespace

Portal::Portal(PortalOptions options, HttpTransport* transport, Clock* clock, DispatchPool* pool,
               PortalObserver* observer)
    : options_(std::move(options)),
      transport_(transport),
      clock_(clock),
      observer_(observer),
      credentials_(MakeCredentials(options_, transport, clock)),
      queue_(options_.fair_share),
      tuning_(TuningOf(options_)),
      budget_(MakeBudgetStore(options_, clock)),
      bucket_(budget_->requests()),
      autothrottle_(options_.autothrottle, options_.max_concurrency),
      operating_(budget_->operating()),
      backoff_(options_.backoff,
               [this]() ABSL_NO_THREAD_SAFETY_ANALYSIS {
                 return std::uniform_real_distribution<double>(0, 1)(rng_);
               }),
      rng_(std::random_device{}()),
      pool_(pool) {
  reported_concurrency_ = autothrottle_.concurrency();
  autothrottle_.SetCooldown(
      CooldownFor(options_.autothrottle.cooldown, options_.bucket.drain_per_second));
  pool_->Add(this);
}

Portal::~Portal() {
  std::deque<WorkPtr> left;
  std::vector<Completion> refused;
  {
    absl::MutexLock lock(&mu_);
    stopping_ = true;
    left = queue_.TakeAll();
  }
  pool_->Remove(this);  // waits for a turn in progress
  {
    absl::MutexLock lock(&mu_);
    refused.swap(refused_);
  }
  for (Completion& refusal : refused) refusal();
  for (auto& w : left) {
    FailureAnswer(*w, GatewayError(absl::StatusCode::kUnavailable, kReasonNotExecuted,
                                   "the gateway is shutting down; the call was not sent"))();
  }
  absl::MutexLock lock(&mu_);
  mu_.Await(absl::Condition(
      +[](InflightLedger* l) { return l->requests() == 0; }, &ledger_));
}

// ---- The caller's side ------------------------------------------------------

void Portal::Call(std::string method, nlohmann::ordered_json params, bool as_json,
                  CallOptions options, CallCallback done) {
  const bool lend_thread = options.lend_thread;
  WorkPtr w = CallWorkOf(std::move(method), std::move(params), as_json, std::move(options),
                         std::move(done));
  if (!w) return;
  std::vector<WorkPtr> group;
  group.push_back(std::move(w));
  EnqueueAll(std::move(group), lend_thread);
}

void Portal::Calls(const std::string& method, std::vector<GroupedCall> calls, bool as_json,
                   const CallOptions& options) {
  std::vector<WorkPtr> group;
  group.reserve(calls.size());
  for (GroupedCall& c : calls) {
    CallOptions own = options;
    if (!c.idempotency_key.empty()) own.idempotency_key = std::move(c.idempotency_key);
    WorkPtr w = CallWorkOf(method, std::move(c.params), as_json, std::move(own), std::move(c.done));
    if (w) group.push_back(std::move(w));
  }
  EnqueueAll(std::move(group));
}

WorkPtr Portal::CallWorkOf(std::string method, nlohmann::ordered_json params, bool as_json,
                           CallOptions options, CallCallback done) {
  auto w = std::make_unique<Work>();
  CallWork call;
  call.method = NormalizeMethod(method);
  if (params.is_null()) params = nlohmann::ordered_json::object();
  const bool v3 = options.api == RestApi::kV3;
  // "$result" in a caller's value must stay data: inside a batch shared with
  // other calls Bitrix24 would replace it with another command's result.
  // REST 3.0 calls travel alone (this gateway sends no REST 3.0 batch).
  call.as_json = v3 || as_json || options.send_streamed || ContainsNullOrTopLevelList(params) ||
                 FindBatchReference(params).has_value();
  call.params = std::move(params);
  call.done = std::move(done);
  w->read = options.idempotent || IsReadMethod(call.method);
  // Every REST 3.0 write carries a key, the same on every attempt, so the
  // portal runs it at most once however often it is sent.
  if (v3 && !w->read && options.idempotency_key.empty()) {
    options.idempotency_key = NewIdempotencyKey();
  }
  if (v3 && !options.idempotency_key.empty()) {
    const std::string key = options.idempotency_key;
    if (!ClaimKey(key)) {
      // Answered from our next turn, not from here: a Dispatcher never runs
      // a callback inside Call (its caller may hold a lock the callback takes).
      const absl::Status refused =
          GatewayError(absl::StatusCode::kAborted, kReasonNotExecuted,
                       "another call with this idempotency_key is in progress; this one "
                       "was not sent");
      Completion refusal = [done = std::move(call.done), refused]() { done(refused); };
      absl::MutexLock lock(&mu_);
      refused_.push_back(std::move(refusal));
      pool_->Wake(this);
      return nullptr;
    }
    call.done = [this, key, done = std::move(call.done)](absl::StatusOr<CallReply> reply) {
      ReleaseKey(key);
      done(std::move(reply));
    };
  }
  w->body = std::move(call);
  w->options = std::move(options);
  return w;
}

void Portal::Batch(std::vector<BatchCommandSpec> commands, bool halt, CallOptions options,
                   BatchCallback done) {
  auto w = std::make_unique<Work>();
  BatchWork batch;
  w->read = true;
  for (auto& c : commands) {
    c.method = NormalizeMethod(c.method);
    w->read = w->read && (options.idempotent || IsReadMethod(c.method));
  }
  batch.commands = std::move(commands);
  batch.halt = halt;
  batch.done = std::move(done);
  w->body = std::move(batch);
  w->options = std::move(options);
  Enqueue(std::move(w));
}

bool Portal::ClaimKey(const std::string& key) {
  absl::MutexLock lock(&keys_mu_);
  return keys_in_use_.insert(key).second;
}

void Portal::ReleaseKey(const std::string& key) {
  absl::MutexLock lock(&keys_mu_);
  keys_in_use_.erase(key);
}

void Portal::Enqueue(WorkPtr w) {
  std::vector<WorkPtr> group;
  group.push_back(std::move(w));
  EnqueueAll(std::move(group));
}

void Portal::EnqueueAll(std::vector<WorkPtr> group, bool lend_thread) {
  if (group.empty()) return;
  {
    absl::MutexLock lock(&mu_);
    QueueGroup(std::move(group));
    if (!lend_thread) pool_->Wake(this);
  }
  if (lend_thread) pool_->TurnHere(this);
}

void Portal::QueueGroup(std::vector<WorkPtr> group) {
  const absl::Time now = clock_->Now();
  const absl::Time hold_until = CoalesceUntil(bucket_.Level(now), bucket_.policy(), now);
  for (WorkPtr& w : group) {
    w->enqueued = now;
    w->linger_until = now + tuning_.linger;
    w->hold_until = hold_until;
    w->alone = group.size() == 1;
    if (!w->is_batch()) ledger_.CallArrived(now);
    queue_.Push(std::move(w));
  }
}

// ---- The leader loop --------------------------------------------------------

absl::Time Portal::RunTurn() {
  Outbox out(options_.name, observer_);
  FlightPtr flight;
  absl::Time look_again;
  int warm = 0;
  {
    absl::MutexLock lock(&mu_);
    if (stopping_) return absl::InfiniteFuture();
    look_again = Pass(clock_->Now(), &out, &flight);
    warm = draining_ ? 0 : std::exchange(warm_wanted_, 0);
  }
  out.Deliver();
  // With more queued, look_again is now: another turn, after the other
  // portals' turns. With nothing left, no turn follows until something
  // changes (a pool thread woken for nothing is CPU taken from the sends).
  if (flight) Send(std::move(flight));
  // After the send: the transport takes the request first, and counts it
  // among the connections wanted.
  if (warm > 1) WarmNow(warm);
  return look_again;
}

absl::Time Portal::Pass(absl::Time now, Outbox* out, FlightPtr* flight) {
  for (Completion& refusal : refused_) out->Complete(std::move(refusal));
  refused_.clear();
  if (draining_) {
    // Shutting down: whatever is queued is answered, nothing is sent.
    FailQueueForShutdown(out);
    return absl::InfiniteFuture();
  }
  // Callers who gave up are answered at once and their work is not sent;
  // nor is a write too close to its deadline to finish. Cancellation is set
  // without our lock, so it is noticed when we look: look again soon (an
  // idle portal only when woken).
  absl::Time next = absl::InfiniteFuture();
  for (auto& [w, why] : queue_.TakeAbandoned(now, ledger_.TypicalLatency(), &next)) {
    out->Complete(FailureAnswer(*w, std::move(why)));
  }
  ExpireWritesOnWire(now, out, &next);
  *flight = TakeFlight(now, &next);
  if (queue_.size() > 0) next = std::min(next, now + kRecheckCancellation);
  return next;
}

void Portal::ExpireWritesOnWire(absl::Time now, Outbox* out, absl::Time* next) {
  // A write whose caller's deadline passes while it is on the wire may or
  // may not run: its caller hears so at the deadline (the status carries
  // OUTCOME_UNKNOWN), and the late answer is not passed on.
  for (Flight* flight : on_wire_) {
    for (WorkPtr& w : flight->group) {
      if (!w || w->read) continue;
      if (w->options.deadline > now) {
        *next = std::min(*next, w->options.deadline);
        continue;
      }
      WorkPtr expired = std::move(w);
      ReleaseCosts(*expired);
      const int calls = expired->is_batch() ? 0 : 1;
      ledger_.Settled(calls, calls, now);
      out->Add(OutcomeUnknownEvent(expired->method(), "deadline exceeded in flight"), &stats_);
      out->Complete(FailureAnswer(
          *expired, GatewayError(absl::StatusCode::kDeadlineExceeded, kReasonOutcomeUnknown,
                                 "deadline exceeded while the write was on its way to the "
                                 "portal: it may have been executed")));
    }
  }
}

Portal::FlightPtr Portal::TakeFlight(absl::Time now, absl::Time* next) {
  DispatchLimits limits;
  limits.batch_size = tuning_.batch_size;
  limits.slot_free = ledger_.requests() < MaxInFlight();
  limits.bucket_free_at = bucket_.NextFree(now);
  limits.company_window = absl::Seconds(1.0 / bucket_.policy().drain_per_second);
  limits.company_expected = ledger_.CompanyExpected(now, limits.company_window);
  limits.calls_due = CallsDue();
  limits.callers_due = ledger_.CallersDueBack(tuning_.linger, limits.company_window);
  limits.budget_scarce = BudgetScarce(bucket_.Level(now), bucket_.policy());
  DispatchQueue::Choice choice = queue_.Next(now, limits, operating_);
  if (choice.picked.empty()) {
    *next = std::min(*next, choice.wait_until);
    return nullptr;
  }
  // Replicas sharing the budget may have taken the slot meanwhile.
  if (absl::Time slot = bucket_.Reserve(now); slot > now) {
    *next = std::min(*next, slot);
    return nullptr;
  }
  auto flight = std::make_shared<Flight>();
  flight->slot = now;
  flight->group = queue_.Take(choice);
  ReserveCosts(flight->group);
  ledger_.Started(CallsIn(flight->group));
  // Its writes join those on the wire: the turn that would expire them.
  for (const WorkPtr& w : flight->group) {
    if (!w->read) *next = std::min(*next, w->options.deadline);
  }
  // More queued: look again at once (the pool runs the other portals first).
  if (queue_.size() > 0) *next = now;
  return flight;
}

absl::Time Portal::CallsDue() const {
  // Requests carrying calls of callers who send one at a time (their
  // callers come back after the answer). A batch's commands run one after
  // another on the portal: it is due back when their predicted operating
  // time (as predicted now: the first requests go before any answer taught
  // it) has passed since it was sent. With no prediction (methods not seen
  // yet), nobody knows when, and it is not waited for, except before the
  // portal's first answer: then it is the head of the first burst, sent
  // alone at once on the idle portal while the rest of the burst was still
  // arriving, and those wait for it (at most the company window) instead
  // of leaving without it and keeping its caller out of step for good.
  const bool first_burst = !ledger_.AnyAnswered();
  absl::Time due = absl::InfiniteFuture();
  for (const Flight* flight : on_wire_) {
    absl::Duration work;
    bool alone = false;
    for (const WorkPtr& w : flight->group) {
      if (!w || w->is_batch()) continue;
      alone = alone || w->alone;
      for (const auto& [method, cost] : CostOf(*w, operating_)) work += cost;
    }
    if (!alone) continue;
    if (work > absl::ZeroDuration()) {
      due = std::min(due, flight->sent_at + work);
    } else if (first_burst) {
      due = std::min(due, flight->sent_at);
    }
  }
  return due;
}

int Portal::MaxInFlight() const {
  return std::min(tuning_.max_concurrency, autothrottle_.concurrency());
}

void Portal::ReserveCosts(std::vector<WorkPtr>& group) {
  for (auto& w : group) {
    w->reserved = CostOf(*w, operating_);
    for (const auto& [method, cost] : w->reserved) operating_.Reserve(method, cost);
  }
}

void Portal::ReleaseCosts(Work& w) {
  for (const auto& [method, cost] : w.reserved) operating_.Release(method, cost);
  w.reserved.clear();
}

// ---- Sending ------------------------------------------------------------------

namespace {

// REST 3.0 work travels alone: a call, or a caller's batch.
bool IsV3(const std::vector<WorkPtr>& group) {
  return group.size() == 1 && group[0]->options.api == RestApi::kV3;
}

// The HTTP request that carries `encoded` for `group`.
HttpRequest RequestFor(const Auth& auth, EncodedRequest encoded, const PortalOptions& options,
                       const std::vector<WorkPtr>& group) {
  HttpRequest request;
  request.method = "POST";
  request.content_type = "application/json";
  if (IsV3(group) && group[0]->is_batch()) {
    MakeV3BatchRequest(auth, group[0]->batch().commands, &request);
  } else if (IsV3(group)) {
    const Work& w = *group[0];
    MakeV3Request(auth, encoded.method, w.call().params, w.options.idempotency_key, &request);
  } else {
    // OAuth: the token rides in the query string so JSON bodies (positional
    // lists included) stay exactly as the caller wrote them.
    request.url = absl::StrCat(
        auth.base_url, encoded.method,
        auth.access_token.empty() ? "" : absl::StrCat("?auth=", UrlEncode(auth.access_token)));
    request.body = std::move(encoded.body);
  }
  request.timeout = options.request_timeout;
  request.tls = options.tls;
  request.abandoned = AbandonedWhenAllCancel(group);
  return request;
}

// The events of sending `group` in one request of `commands` commands.
// REQUIRES: the lock guarding `stats` held.
void RecordSent(const std::vector<WorkPtr>& group, int commands, bool batch, PortalStats* stats,
                Outbox* out) {
  PortalEvent sent = Event(Type::kRequestSent);
  sent.count = commands;
  sent.flag = batch;
  out->Add(sent, stats);
  for (const auto& w : group) {
    PortalEvent command = Event(Type::kCommandSent);
    command.client = w->client;
    if (!w->is_batch()) {
      command.method = w->call().method;
      out->Add(command, stats);
      if (w->options.api == RestApi::kV3) {
        PortalEvent v3 = Event(Type::kRestV3Sent);
        v3.method = w->call().method;
        out->Add(v3, stats);
      }
      continue;
    }
    for (const auto& c : w->batch().commands) {
      command.method = c.method;
      out->Add(command, stats);
    }
    if (w->options.api == RestApi::kV3) {
      PortalEvent v3 = Event(Type::kRestV3Sent);
      v3.method = "batch";
      out->Add(v3, stats);
    }
  }
}

}  // namespace

void Portal::Send(FlightPtr flight) {
  Auth auth = credentials_->Current();
  if (auth.needs_refresh) {
    RefreshThenRequeue(std::move(flight), auth.generation);
    return;
  }
  for (auto& w : flight->group) w->sent_generation = auth.generation;
  EncodedRequest encoded = EncodeRequest(flight->group);
  const int commands = encoded.commands;
  flight->keys = encoded.keys;
  flight->v3 = IsV3(flight->group);
  HttpTransport::Callback answer = AnswerCallback(flight);
  // A streamed call travels alone (CallWorkOf), so its sender is the group's.
  auto send = flight->group[0]->options.send_streamed;
  flight->streamed = static_cast<bool>(send);
  HttpRequest request = RequestFor(auth, std::move(encoded), options_, flight->group);
  request.starting = [flight] {
    int waiting = Flight::kWaiting;
    flight->wire.compare_exchange_strong(waiting, Flight::kSending);
    return flight->wire.load() != Flight::kWithdrawn;
  };
  Outbox out(options_.name, observer_);
  {
    absl::MutexLock lock(&mu_);
    if (draining_) {
      // Shutdown began since the flight was taken: it is not sent.
      const int calls = CallsIn(flight->group);
      for (auto& w : flight->group) {
        ReleaseCosts(*w);
        out.Complete(FailureAnswer(*w, ShuttingDownNotExecuted()));
      }
      ledger_.Settled(calls, calls, clock_->Now());
      ledger_.Ended();
      flight = nullptr;
    } else {
      RecordSent(flight->group, commands, !flight->keys.empty(), &stats_, &out);
      flight->sent_at = clock_->Now();
      on_wire_.insert(flight.get());
    }
  }
  out.Deliver();
  if (!flight) return;
  if (send) return send(std::move(request), std::move(answer));
  transport_->Send(std::move(request), std::move(answer));
}

HttpTransport::Callback Portal::AnswerCallback(FlightPtr flight) {
  const bool heavy = std::any_of(flight->group.begin(), flight->group.end(),
                                 [](const WorkPtr& w) { return w->options.heavy_callback; });
  return [this, flight = std::move(flight), heavy](HttpResponse response) {
    // A large answer (a list batch's 50 pages: 170 KB, 5-10 ms of parsing)
    // is parsed on a pool thread: on the transport's thread it would hold
    // up reading and sending every other request, and several batches
    // answered together would be parsed one after another on one core. So
    // is one whose callers' callbacks are heavy: a list read's one-page
    // answer may release the pages of every range that waited for it, and
    // their conversion for the stream (35-70 ms traced on a 20,000-item
    // read) held up every transfer when it ran here; it goes ahead of the
    // parses queued (quick), as its handling may send the next request.
    // Other small answers stay here, sparing a call the hand-off.
    const bool small = response.body.size() < kParseOnPoolBytes;
    if (!heavy && small) return OnResponse(flight, std::move(response));
    pool_->Run(
        [this, flight, response = std::move(response)]() mutable {
          OnResponse(flight, std::move(response));
        },
        /*quick=*/small);
  };
}

// ---- Shutdown (the server's drain) ----------------------------------------------

void Portal::BeginShutdown() {
  Outbox out(options_.name, observer_);
  {
    absl::MutexLock lock(&mu_);
    draining_ = true;
    FailQueueForShutdown(&out);
    pool_->Wake(this);
  }
  out.Deliver();
}

void Portal::FailQueueForShutdown(Outbox* out) {
  for (auto& w : queue_.TakeAll()) out->Complete(FailureAnswer(*w, ShuttingDownNotExecuted()));
}

void Portal::AbandonInFlight() {
  Outbox out(options_.name, observer_);
  {
    absl::MutexLock lock(&mu_);
    const absl::Time now = clock_->Now();
    for (Flight* flight : on_wire_) {
      // Still waiting for a connection: withdrawn, it will never be sent.
      int waiting = Flight::kWaiting;
      const bool never_sent = flight->wire.compare_exchange_strong(waiting, Flight::kWithdrawn);
      const int calls = CallsIn(flight->group);
      for (WorkPtr& w : flight->group) {
        if (!w) continue;
        ReleaseCosts(*w);
        if (never_sent) {
          out.Complete(FailureAnswer(
              *w, GatewayError(absl::StatusCode::kUnavailable, kReasonNotExecuted,
                               "the gateway shut down before the request was sent")));
          continue;
        }
        if (!w->read) out.Add(OutcomeUnknownEvent(w->method(), "gateway shutdown"), &stats_);
        out.Complete(FailureAnswer(
            *w, GatewayError(absl::StatusCode::kUnavailable, kReasonOutcomeUnknown,
                             "outcome unknown: the gateway shut down before the portal "
                             "answered; the request may have been executed")));
      }
      ledger_.Settled(calls, calls, now);
      flight->group.clear();
    }
    // The late answers find their flight gone and are dropped.
    on_wire_.clear();
  }
  out.Deliver();
}

}  // namespace b24gate
