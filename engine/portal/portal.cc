// The portal's dispatcher: one leader loop over small pure parts.
//
//   DispatchQueue   what waits, in fair order, and what to send next
//   InflightLedger  what is in flight, and whose callers are due back
//   EncodeRequest   the HTTP request a group of work becomes
//   Decide          what a failed attempt means for its work
//   Outbox          events and answers, delivered after the lock
//
// Every pass of the loop runs in two halves. Under mu_, it only decides and
// books: answers abandoned work, asks the queue for the next group the
// limits allow, reserves its bucket slot and operating time, and counts it
// as started. Outside mu_, it delivers what the pass produced (observer
// events, callers' answers) and hands the request to the transport. No I/O,
// no observer and no caller's callback runs while mu_ is held.
//
// Answers come back on the transport's thread (OnResponse): parsed outside
// the lock, settled under it (the retry policy decides each work's fate;
// the ledger learns how many callers were answered), delivered after it.
#include "engine/portal/portal.h"

#include <algorithm>
#include <atomic>
#include <utility>

#include "absl/strings/str_cat.h"
#include "engine/bitrix/method_traits.h"
#include "engine/bitrix/query_encoder.h"
#include "engine/common/errors.h"
#include "engine/portal/request_encoder.h"
#include "engine/throttle/coalescing.h"

namespace b24gate {

// Whether a flight's request has left. The transport asks (via
// HttpRequest::starting) right before it writes the request; shutdown asks
// too, and whoever comes first decides: a request withdrawn before it left
// was never sent, so its work is answered NOT_EXECUTED, never
// OUTCOME_UNKNOWN.
enum WireState : int { kWaiting, kSending, kWithdrawn };

struct Portal::Flight {
  // Null entries were answered while on the wire (deadline, shutdown).
  std::vector<WorkPtr> group;
  std::vector<std::string> keys;  // batch keys; empty for a single call
  absl::Time sent_at;
  std::atomic<int> wire{kWaiting};
};

namespace {

using Type = PortalEvent::Type;

PortalEvent Event(Type type) {
  PortalEvent e;
  e.type = type;
  return e;
}

PortalEvent RetryEvent(const std::string& method, RetryReason reason, absl::Duration delay) {
  PortalEvent e = Event(Type::kRetry);
  e.method = method;
  e.reason = reason;
  e.duration = delay;
  return e;
}

PortalEvent OutcomeUnknownEvent(const std::string& method, absl::string_view cause) {
  PortalEvent e = Event(Type::kOutcomeUnknown);
  e.method = method;
  e.text = std::string(cause);
  return e;
}

absl::Status CancelledStatus() {
  return GatewayError(absl::StatusCode::kCancelled, kReasonCancelled, "the call was cancelled");
}

absl::Status ShuttingDownNotExecuted() {
  return GatewayError(absl::StatusCode::kUnavailable, kReasonNotExecuted,
                      "the gateway is shutting down; the command was not sent");
}

// A request that never reached the portal.
absl::Status Unreachable(const HttpResponse& r) {
  return GatewayError(absl::StatusCode::kUnavailable, kReasonTransport,
                      absl::StrCat("portal unreachable: ", r.failure_message));
}

bool IsRedirect(const HttpResponse& r) {
  return r.failure == TransportFailure::kNone &&
         (r.status == 301 || r.status == 302 || r.status == 303 || r.status == 307 ||
          r.status == 308) &&
         r.headers.count("location") > 0;
}

// How a request ended, for the observer. A JSON body with `error` is a
// Bitrix24 error whatever the status; other non-2xx answers (proxy pages,
// cut-offs) leave the outcome unknown.
HttpOutcome ClassifyHttp(const HttpResponse& r) {
  if (r.failure == TransportFailure::kNotSent) return HttpOutcome::kNotSent;
  if (r.failure != TransportFailure::kNone) return HttpOutcome::kOutcomeUnknown;
  if (IsRedirect(r)) return HttpOutcome::kRedirect;
  bool has_error = r.body.find("\"error\"") != std::string::npos;
  if (r.status >= 200 && r.status < 300) {
    // A batch answer is 200 even when commands fail; only a top-level
    // error makes the whole request an error.
    return r.body.rfind("{\"error\"", 0) == 0 ? HttpOutcome::kBitrixError : HttpOutcome::kOk;
  }
  return has_error ? HttpOutcome::kBitrixError : HttpOutcome::kOutcomeUnknown;
}

// What a whole request's failure means for each work it carried (before
// any answer was parsed): the transport's failures and redirects.
AttemptOutcome TransportOutcome(const HttpResponse& r, bool all_cancelled) {
  AttemptOutcome o;
  if (r.failure != TransportFailure::kNone && all_cancelled) {
    // Every caller gave up, and the transfer was aborted for them (or
    // failed anyway): nothing to retry, and no sign of server trouble.
    o.kind = AttemptOutcome::Kind::kCancelled;
    o.cause = CancelledStatus();
  } else if (r.failure == TransportFailure::kNotSent) {
    // A permanent failure (a certificate that failed verification) will not
    // heal by sending again: fail now, not max_attempts backoffs later.
    o.kind = r.permanent ? AttemptOutcome::Kind::kNotSentPermanent
                         : AttemptOutcome::Kind::kNotSent;
    o.cause = Unreachable(r);
  } else if (r.failure == TransportFailure::kAfterSend) {
    o.kind = AttemptOutcome::Kind::kOutcomeUnknown;
    o.cause = GatewayError(absl::StatusCode::kUnavailable, kReasonTransport,
                           absl::StrCat("no answer from the portal: ", r.failure_message));
  } else {
    o.kind = AttemptOutcome::Kind::kRedirect;
    o.cause = GatewayError(absl::StatusCode::kUnavailable, kReasonTransport,
                           "the portal moved (302) and the deadline ran out");
  }
  return o;
}

bool AllCancelled(const std::vector<WorkPtr>& group) {
  bool any = false;
  for (const auto& w : group) {
    if (!w) continue;
    if (!w->Cancelled()) return false;
    any = true;
  }
  return any;
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
  std::unique_ptr<TokenStore> store;
  if (o.oauth.token_file.empty()) {
    store = std::make_unique<MemoryTokenStore>();
  } else {
    store = std::make_unique<FileTokenStore>(o.oauth.token_file);
  }
  return std::make_unique<OAuthCredentials>(o.oauth, std::move(store), transport, o.tls, clock);
}

std::unique_ptr<BudgetStore> MakeBudgetStore(const PortalOptions& o, Clock* clock) {
  if (!o.sharing) return MakeLocalBudgetStore(o.bucket, o.operating);
  return o.sharing->StoreFor(o.name, o.bucket, o.operating, clock);
}

}  // namespace

Portal::Portal(PortalOptions options, HttpTransport* transport, Clock* clock,
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
      rng_(std::random_device{}()) {
  reported_concurrency_ = autothrottle_.concurrency();
  autothrottle_.SetCooldown(
      CooldownFor(options_.autothrottle.cooldown, options_.bucket.drain_per_second));
  dispatcher_ = std::thread([this] { DispatchLoop(); });
}

Portal::~Portal() {
  std::deque<WorkPtr> left;
  {
    absl::MutexLock lock(&mu_);
    stopping_ = true;
    left = queue_.TakeAll();
  }
  dispatcher_.join();
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
  auto w = std::make_unique<Work>();
  CallWork call;
  call.method = NormalizeMethod(method);
  if (params.is_null()) params = nlohmann::ordered_json::object();
  // "$result" in a caller's value must stay data: inside a batch shared with
  // other calls Bitrix24 would replace it with another command's result.
  call.as_json = as_json || ContainsNullOrTopLevelList(params) ||
                 FindBatchReference(params).has_value();
  call.params = std::move(params);
  call.done = std::move(done);
  w->read = options.idempotent || IsReadMethod(call.method);
  w->body = std::move(call);
  w->options = std::move(options);
  Enqueue(std::move(w));
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

void Portal::Enqueue(WorkPtr w) {
  absl::MutexLock lock(&mu_);
  const absl::Time now = clock_->Now();
  w->enqueued = now;
  w->linger_until = now + tuning_.linger;
  w->hold_until = CoalesceUntil(bucket_.Level(now), bucket_.policy(), now);
  if (!w->is_batch()) ledger_.CallArrived();
  queue_.Push(std::move(w));
  kicked_ = true;
}

// ---- The leader loop --------------------------------------------------------

void Portal::DispatchLoop() {
  for (;;) {
    Outbox out;
    FlightPtr flight;
    {
      absl::MutexLock lock(&mu_);
      if (stopping_) return;
      const absl::Time look_again = Pass(clock_->Now(), &out, &flight);
      if (!flight && out.empty()) {
        // Nothing to do before `look_again` unless something changes: work
        // queued, an answer in, a tuning change (kicked_), or stop.
        kicked_ = false;
        clock_->AwaitWithDeadline(
            &mu_,
            absl::Condition(
                +[](Portal* p) ABSL_NO_THREAD_SAFETY_ANALYSIS { return p->kicked_ || p->stopping_; },
                this),
            look_again);
        continue;
      }
    }
    out.Deliver(options_.name, observer_);
    if (flight) Send(std::move(flight));
  }
}

absl::Time Portal::Pass(absl::Time now, Outbox* out, FlightPtr* flight) {
  if (draining_) {
    // Shutting down: whatever is queued is answered, nothing is sent.
    FailQueueForShutdown(out);
    return absl::InfiniteFuture();
  }
  // Callers who gave up are answered at once and their work is not sent;
  // nor is a write too close to its deadline to finish. Cancellation is set
  // without our lock, so it is noticed when we look: look again soon.
  absl::Time next = now + kRecheckCancellation;
  for (auto& [w, why] : queue_.TakeAbandoned(now, ledger_.TypicalLatency(), &next)) {
    out->Complete(FailureAnswer(*w, std::move(why)));
  }
  ExpireWritesOnWire(now, out, &next);
  *flight = TakeFlight(now, &next);
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
  limits.company_expected =
      ledger_.CompanyExpected(now, absl::Seconds(1.0 / bucket_.policy().drain_per_second));
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
  flight->group = queue_.Take(choice);
  ReserveCosts(flight->group);
  ledger_.Started(CallsIn(flight->group));
  *next = now;
  return flight;
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

void Portal::Send(FlightPtr flight) {
  Auth auth = credentials_->Current();
  if (auth.needs_refresh) {
    RefreshThenRequeue(std::move(flight), auth.generation);
    return;
  }
  for (auto& w : flight->group) w->sent_generation = auth.generation;
  EncodedRequest encoded = EncodeRequest(flight->group);
  flight->keys = std::move(encoded.keys);
  HttpRequest request;
  request.method = "POST";
  request.content_type = "application/json";
  // OAuth: the token rides in the query string so JSON bodies (positional
  // lists included) stay exactly as the caller wrote them.
  request.url = absl::StrCat(
      auth.base_url, encoded.method,
      auth.access_token.empty() ? "" : absl::StrCat("?auth=", UrlEncode(auth.access_token)));
  request.body = std::move(encoded.body);
  request.timeout = options_.request_timeout;
  request.tls = options_.tls;
  request.abandoned = AbandonedWhenAllCancel(flight->group);
  request.starting = [flight] {
    int waiting = kWaiting;
    flight->wire.compare_exchange_strong(waiting, kSending);
    return flight->wire.load() != kWithdrawn;
  };
  Outbox out;
  bool send = false;
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
    } else {
      PortalEvent sent = Event(Type::kRequestSent);
      sent.count = encoded.commands;
      sent.flag = !flight->keys.empty();
      out.Add(sent, &stats_);
      for (const auto& w : flight->group) {
        PortalEvent command = Event(Type::kCommandSent);
        command.client = w->client;
        if (!w->is_batch()) {
          command.method = w->call().method;
          out.Add(command, &stats_);
          continue;
        }
        for (const auto& c : w->batch().commands) {
          command.method = c.method;
          out.Add(command, &stats_);
        }
      }
      flight->sent_at = clock_->Now();
      on_wire_.insert(flight.get());
      send = true;
    }
  }
  out.Deliver(options_.name, observer_);
  if (!send) return;
  transport_->Send(std::move(request), [this, flight](HttpResponse response) {
    OnResponse(flight, std::move(response));
  });
}

// ---- Answers ------------------------------------------------------------------

void Portal::OnResponse(FlightPtr flight, HttpResponse response) {
  const HttpOutcome outcome = ClassifyHttp(response);
  // A list batch's answer can be megabytes: it is parsed before the lock is
  // taken, so the dispatcher keeps sending other callers' work meanwhile.
  const bool answered = response.failure == TransportFailure::kNone && !IsRedirect(response);
  absl::StatusOr<CommandOutcome> single = absl::UnknownError("not parsed");
  absl::StatusOr<BatchReply> batch = absl::UnknownError("not parsed");
  if (answered && flight->keys.empty()) single = ParseCallResponse(response);
  if (answered && !flight->keys.empty()) batch = ParseBatchResponse(response, flight->keys);
  Outbox out;
  {
    absl::MutexLock lock(&mu_);
    const absl::Time now = clock_->Now();
    PortalEvent done = Event(Type::kRequestDone);
    done.outcome = outcome;
    done.duration = now - flight->sent_at;
    out.Add(done, &stats_);
    if (outcome == HttpOutcome::kRedirect) out.Add(Event(Type::kRedirect), &stats_);
    if (response.failure != TransportFailure::kNone) {
      PortalEvent failure = Event(Type::kTransportFailure);
      failure.text = response.failure_message;
      out.Add(failure, &stats_);
    }
    // Not on the wire any more: answered at shutdown already.
    if (on_wire_.erase(flight.get()) > 0) {
      if (answered) ledger_.Answered(now - flight->sent_at);
      const int calls = CallsIn(flight->group);
      for (auto& w : flight->group) {
        if (w) ReleaseCosts(*w);
      }
      const int answered_calls =
          HandleResponse(*flight, response, std::move(single), std::move(batch), now, &out);
      ledger_.Settled(calls, answered_calls, now);
    }
    ledger_.Ended();
    kicked_ = true;
  }
  out.Deliver(options_.name, observer_);
}

int Portal::HandleResponse(Flight& flight, const HttpResponse& response,
                           absl::StatusOr<CommandOutcome> single, absl::StatusOr<BatchReply> batch,
                           absl::Time now, Outbox* out) {
  std::vector<WorkPtr>& group = flight.group;
  int answered = 0;
  if (response.failure != TransportFailure::kNone || IsRedirect(response)) {
    const AttemptOutcome o = TransportOutcome(response, AllCancelled(group));
    if (o.kind == AttemptOutcome::Kind::kNotSent) ServerTrouble(now, out);
    // The portal's domain changed; nothing was executed. Sent again (as
    // POST, with the same body) to the new host.
    if (o.kind == AttemptOutcome::Kind::kRedirect) {
      credentials_->MoveTo(response.headers.at("location"));
    }
    for (auto& w : group) {
      if (!w) continue;
      const bool call = !w->is_batch();
      Fate fate = o.kind == AttemptOutcome::Kind::kOutcomeUnknown
                      ? OnOutcomeUnknown(std::move(w), o.cause, now, out)
                      : Dispose(std::move(w), o, now, out);
      answered += call && fate == Fate::kAnswered;
    }
    return answered;
  }
  if (!group[0] && group.size() == 1) return 0;  // answered while on the wire
  if (flight.keys.empty()) {
    return HandleSingle(std::move(group[0]), std::move(single), now, out) == Fate::kAnswered;
  }
  if (group.size() == 1) {
    HandleUserBatch(std::move(group[0]), std::move(batch), now, out);
    return 0;
  }
  return HandleCoalesced(std::move(group), flight.keys, std::move(batch), now, out);
}

Portal::Fate Portal::HandleSingle(WorkPtr w, absl::StatusOr<CommandOutcome> outcome,
                                  absl::Time now, Outbox* out) {
  if (!outcome.ok()) return OnOutcomeUnknown(std::move(w), outcome.status(), now, out);
  if (outcome->error) return OnB24Error(std::move(w), *outcome->error, now, out);
  return Succeed(std::move(w), std::move(*outcome->reply), now, out);
}

int Portal::HandleCoalesced(std::vector<WorkPtr> group, const std::vector<std::string>& keys,
                            absl::StatusOr<BatchReply> reply, absl::Time now, Outbox* out) {
  int answered = 0;
  auto count = [&answered](Fate fate) { answered += fate == Fate::kAnswered; };
  if (!reply.ok()) {
    // Each call decides for itself: reads are repeated, writes are not.
    for (auto& w : group) {
      if (w) count(OnOutcomeUnknown(std::move(w), reply.status(), now, out));
    }
    return answered;
  }
  operating_.Observe("batch", reply->time, now);
  if (reply->batch_error && reply->batch_error->code == "OPERATION_TIME_LIMIT") {
    // The portal charges batches to `batch`: park that, not the callers'
    // methods, which may still travel alone.
    const B24Error& e = *reply->batch_error;
    out->Add(Event(Type::kOperatingBlocked), &stats_);
    operating_.Blocked("batch", reply->time, now);
    AttemptOutcome o;
    o.kind = AttemptOutcome::Kind::kBitrixError;
    o.cause = B24ErrorStatus(e.code, e.description, e.http_status);
    o.code = e.code;
    o.http_status = e.http_status;
    for (auto& w : group) {
      if (w) count(Dispose(std::move(w), o, now, out));
    }
    return answered;
  }
  for (size_t i = 0; i < group.size(); ++i) {
    if (!group[i]) continue;
    if (reply->batch_error) {
      count(OnB24Error(std::move(group[i]), *reply->batch_error, now, out));
      continue;
    }
    auto it = reply->outcomes.find(keys[i]);
    if (it == reply->outcomes.end()) {
      count(OnOutcomeUnknown(std::move(group[i]),
                             GatewayError(absl::StatusCode::kUnavailable, kReasonBadResponse,
                                          "the batch answer has no entry for this command"),
                             now, out));
    } else if (it->second.error) {
      count(OnB24Error(std::move(group[i]), *it->second.error, now, out));
    } else {
      count(Succeed(std::move(group[i]), std::move(*it->second.reply), now, out));
    }
  }
  return answered;
}

void Portal::HandleUserBatch(WorkPtr w, absl::StatusOr<BatchReply> reply, absl::Time now,
                             Outbox* out) {
  if (!reply.ok()) {
    OnOutcomeUnknown(std::move(w), reply.status(), now, out);
    return;
  }
  operating_.Observe("batch", reply->time, now);
  if (reply->batch_error) {
    OnB24Error(std::move(w), *reply->batch_error, now, out);
    return;
  }
  // Outcomes accumulate over passes: sub-commands refused for operating
  // time were not executed and go again (RetryRefusedCommands).
  BatchWork& batch = w->batch();
  std::vector<BatchCommandSpec> refused;
  bool halted = false;
  for (const auto& c : batch.commands) {
    auto it = reply->outcomes.find(c.key);
    if (it == reply->outcomes.end()) {
      // Not executed: `halt` stopped the batch before it.
      if (halted) refused.push_back(c);
      continue;
    }
    if (!it->second.error) {
      operating_.Observe(c.method, it->second.reply->time, now);
      batch.partial.outcomes.insert_or_assign(c.key, std::move(*it->second.reply));
      continue;
    }
    const B24Error& e = *it->second.error;
    PortalEvent error = Event(Type::kBitrixError);
    error.method = c.method;
    error.code = e.code;
    error.text = e.description;
    out->Add(error, &stats_);
    if (e.code == "OPERATION_TIME_LIMIT") {
      operating_.Blocked(c.method, nullptr, now);
      out->Add(Event(Type::kOperatingBlocked), &stats_);
      refused.push_back(c);
      halted = batch.halt;
    }
    batch.partial.outcomes.insert_or_assign(c.key,
                                            B24ErrorStatus(e.code, e.description, e.http_status));
  }
  if (!refused.empty() && RetryRefusedCommands(w.get(), std::move(refused), now, out)) {
    queue_.PushFront(std::move(w));
    return;
  }
  out->Complete(BatchAnswer(*w));
}

bool Portal::RetryRefusedCommands(Work* w, std::vector<BatchCommandSpec> refused, absl::Time now,
                                  Outbox* out) {
  // A command that refers to another's result cannot travel without it.
  for (const auto& c : refused) {
    if (c.params.dump().find("$result") != std::string::npos) return false;
  }
  if (now >= w->options.deadline) return false;
  for (const auto& c : refused) {
    w->batch().partial.outcomes.erase(c.key);
    out->Add(RetryEvent(c.method, RetryReason::kOperatingLimit, absl::ZeroDuration()), &stats_);
  }
  w->attempts++;
  w->last_error = B24ErrorStatus("OPERATION_TIME_LIMIT",
                                 "Method is blocked due to operation time limit.", 429);
  w->batch().commands = std::move(refused);
  return true;
}

Portal::Fate Portal::OnB24Error(WorkPtr w, const B24Error& error, absl::Time now, Outbox* out) {
  PortalEvent event = Event(Type::kBitrixError);
  event.method = w->method();
  event.code = error.code;
  event.text = error.description;
  out->Add(event, &stats_);
  if (error.code == "QUERY_LIMIT_EXCEEDED") {
    // Someone else shares the portal's budget: the bucket is fuller than
    // modelled. Not executed, so always safe to repeat.
    out->Add(Event(Type::kRateLimited), &stats_);
    bucket_.MarkFull(now);
    ServerTrouble(now, out);
  } else if (error.code == "OPERATION_TIME_LIMIT") {
    out->Add(Event(Type::kOperatingBlocked), &stats_);
    operating_.Blocked(w->method(), nullptr, now);
  } else if (IsOutcomeUnknownCode(error.code, error.http_status)) {
    ServerTrouble(now, out);
  }
  AttemptOutcome o;
  o.kind = AttemptOutcome::Kind::kBitrixError;
  o.cause = B24ErrorStatus(error.code, error.description, error.http_status);
  o.code = error.code;
  o.http_status = error.http_status;
  return Dispose(std::move(w), o, now, out);
}

Portal::Fate Portal::OnOutcomeUnknown(WorkPtr w, absl::Status cause, absl::Time now,
                                      Outbox* out) {
  ServerTrouble(now, out);
  AttemptOutcome o;
  o.kind = AttemptOutcome::Kind::kOutcomeUnknown;
  o.cause = std::move(cause);
  return Dispose(std::move(w), o, now, out);
}

Portal::Fate Portal::Dispose(WorkPtr w, const AttemptOutcome& outcome, absl::Time now,
                             Outbox* out) {
  AttemptFacts facts;
  facts.method = w->method();
  facts.read = w->read;
  facts.attempts = w->attempts;
  facts.auth_refreshes = w->auth_refreshes;
  facts.redirects = w->redirects;
  facts.deadline = w->options.deadline;
  facts.can_refresh = credentials_->CanRefresh();
  RetryLimits limits;
  limits.max_attempts = options_.max_attempts;
  const Disposition d = Decide(facts, outcome, now, limits, backoff_);
  if (outcome.kind == AttemptOutcome::Kind::kRedirect) w->redirects++;
  switch (d.action) {
    case Disposition::Action::kAnswer:
      if (d.outcome_unknown) {
        out->Add(OutcomeUnknownEvent(w->method(), outcome.cause.message()), &stats_);
      }
      return Answer(std::move(w), d.status, out);
    case Disposition::Action::kRetry:
      w->attempts++;
      w->not_before = now + d.delay;
      w->last_error = d.status;
      out->Add(RetryEvent(w->method(), d.reason, d.delay), &stats_);
      queue_.PushFront(std::move(w));
      return Fate::kRequeued;
    case Disposition::Action::kRefreshToken:
      break;
  }
  // Not executed. One refresh for everyone who failed with the same token,
  // then sent again; a token refused again is final (no loop). The refresh
  // holds a concurrency slot, like a request.
  w->auth_refreshes++;
  const int64_t generation = w->sent_generation;
  auto flight = std::make_shared<Flight>();
  flight->group.push_back(std::move(w));
  ledger_.Started(CallsIn(flight->group));
  out->Complete([this, flight, generation] { RefreshThenRequeue(flight, generation); });
  return Fate::kRefreshing;
}

Portal::Fate Portal::Answer(WorkPtr w, absl::Status status, Outbox* out) {
  out->Complete(FailureAnswer(*w, std::move(status)));
  return Fate::kAnswered;
}

Portal::Fate Portal::Succeed(WorkPtr w, CallReply reply, absl::Time now, Outbox* out) {
  autothrottle_.OnSuccess(now);
  ApplyRate(now, out);
  operating_.Observe(w->call().method, reply.time, now);
  out->Complete(CallAnswer(*w, std::move(reply)));
  return Fate::kAnswered;
}

void Portal::RefreshThenRequeue(FlightPtr flight, int64_t generation) {
  credentials_->Refresh(generation, [this, flight](absl::Status status) {
    Outbox out;
    {
      absl::MutexLock lock(&mu_);
      PortalEvent refresh = Event(Type::kTokenRefresh);
      refresh.flag = status.ok();
      out.Add(refresh, &stats_);
      const int calls = CallsIn(flight->group);
      int answered = 0;
      for (auto& w : flight->group) {
        ReleaseCosts(*w);
        if (status.ok()) {
          out.Add(RetryEvent(w->method(), RetryReason::kTokenRefresh, absl::ZeroDuration()),
                  &stats_);
          queue_.PushFront(std::move(w));
        } else {
          answered += w->is_batch() ? 0 : 1;
          out.Complete(FailureAnswer(*w, status));
        }
      }
      ledger_.Settled(calls, answered, clock_->Now());
      ledger_.Ended();
      kicked_ = true;
    }
    out.Deliver(options_.name, observer_);
  });
}

// ---- The autothrottle and tuning ----------------------------------------------

void Portal::ServerTrouble(absl::Time now, Outbox* out) {
  autothrottle_.OnError(now);
  ApplyRate(now, out);
}

void Portal::ApplyRate(absl::Time now, Outbox* out) {
  autothrottle_.SetCooldown(
      CooldownFor(options_.autothrottle.cooldown, tuning_.bucket.drain_per_second));
  BucketPolicy policy = tuning_.bucket;
  policy.drain_per_second *= autothrottle_.rate_factor();
  if (policy.drain_per_second != bucket_.policy().drain_per_second ||
      policy.burst != bucket_.policy().burst || policy.headroom != bucket_.policy().headroom) {
    bucket_.SetPolicy(policy, now);
  }
  const int concurrency = autothrottle_.concurrency();
  if (autothrottle_.rate_factor() != reported_rate_factor_ || concurrency != reported_concurrency_) {
    reported_rate_factor_ = autothrottle_.rate_factor();
    reported_concurrency_ = concurrency;
    PortalEvent e = Event(Type::kAutothrottle);
    e.rate = reported_rate_factor_;
    e.count = concurrency;
    out->Add(e, &stats_);
  }
}

absl::Status Portal::Tune(const PortalTuning& tuning) {
  if (absl::Status s = ValidateTuning(tuning); !s.ok()) return s;
  Outbox out;
  {
    absl::MutexLock lock(&mu_);
    tuning_ = tuning;
    autothrottle_.SetMaxConcurrency(tuning.max_concurrency);
    operating_.SetPolicy(tuning.operating);
    ApplyRate(clock_->Now(), &out);
    kicked_ = true;
  }
  out.Deliver(options_.name, observer_);
  return absl::OkStatus();
}

PortalTuning Portal::Tuning() const {
  absl::MutexLock lock(&mu_);
  return tuning_;
}

// ---- Snapshots ------------------------------------------------------------------

PortalBudget Portal::Budget(const std::string& method) const {
  std::string normalized = NormalizeMethod(method);
  absl::MutexLock lock(&mu_);
  absl::Time now = clock_->Now();
  PortalBudget b;
  const BucketPolicy policy = bucket_.policy();
  b.bucket_level = bucket_.Level(now);
  b.bucket_usable = std::max(1.0, policy.burst - policy.headroom);
  b.drain_per_second = policy.drain_per_second;
  b.requests_free_now = std::max(0.0, b.bucket_usable - b.bucket_level);
  b.in_flight = ledger_.requests();
  b.max_in_flight = MaxInFlight();
  b.queued = static_cast<int>(queue_.size());
  b.operating_used = absl::Seconds(operating_.Operating(normalized));
  b.operating_reserved = operating_.Reserved(normalized);
  b.operating_left = operating_.Left(normalized);
  b.command_cost = operating_.Estimate(normalized);
  absl::Time ready = operating_.ReadyAt(normalized);
  if (ready > now) b.paused_until = ready;
  return b;
}

PortalStats Portal::Stats() const {
  absl::MutexLock lock(&mu_);
  PortalStats s = stats_;
  absl::Time now = clock_->Now();
  s.queued = static_cast<double>(queue_.size());
  s.client_queued = queue_.QueuedPerClient();
  for (const auto& [client, queued] : s.client_queued) s.client_commands.emplace(client, 0);
  s.in_flight = ledger_.requests();
  s.bucket_level = bucket_.Level(now);
  s.operating = operating_.Snapshot();
  for (const auto& [method, seconds] : s.operating) s.paused[method] = operating_.ReadyAt(method) > now;
  s.concurrency_limit = MaxInFlight();
  s.rate_factor = autothrottle_.rate_factor();
  s.slowdowns = autothrottle_.slowdowns();
  BudgetStatus sharing = budget_->Status();
  s.shared_budget_fallback = sharing.fallback ? 1 : 0;
  s.redis_errors = sharing.redis_errors;
  return s;
}

// ---- Shutdown (the server's drain) ----------------------------------------------

void Portal::BeginShutdown() {
  Outbox out;
  {
    absl::MutexLock lock(&mu_);
    draining_ = true;
    FailQueueForShutdown(&out);
    kicked_ = true;
  }
  out.Deliver(options_.name, observer_);
}

void Portal::FailQueueForShutdown(Outbox* out) {
  for (auto& w : queue_.TakeAll()) out->Complete(FailureAnswer(*w, ShuttingDownNotExecuted()));
}

void Portal::AbandonInFlight() {
  Outbox out;
  {
    absl::MutexLock lock(&mu_);
    const absl::Time now = clock_->Now();
    for (Flight* flight : on_wire_) {
      // Still waiting for a connection: withdrawn, it will never be sent.
      int waiting = kWaiting;
      const bool never_sent = flight->wire.compare_exchange_strong(waiting, kWithdrawn);
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
  out.Deliver(options_.name, observer_);
}

}  // namespace b24gate
