// Portal, second half: settling an HTTP request's answer. The answer is
// parsed outside the lock; under it, each piece of work's fate is decided
// (the retry policy's Decide), the limits learn from the answer (bucket,
// operating time, autothrottle), and the ledger learns how many callers were
// answered. Events and answers go into the Outbox, delivered after the lock.
#include <optional>
#include <utility>

#include "absl/strings/ascii.h"
#include "absl/strings/str_cat.h"
#include "engine/bitrix/v3_response.h"
#include "engine/common/errors.h"
#include "engine/portal/portal.h"
#include "engine/portal/portal_internal.h"

namespace b24gate {
namespace {

using portal_internal::Event;
using portal_internal::OutcomeUnknownEvent;
using portal_internal::RetryEvent;
using Type = PortalEvent::Type;

absl::Status CancelledStatus() {
  return GatewayError(absl::StatusCode::kCancelled, kReasonCancelled, "the call was cancelled");
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
// Bitrix24 error whatever the status; other 4xx answers were not executed,
// other non-2xx answers (proxy pages, cut-offs) leave the outcome unknown.
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
  if (has_error) return HttpOutcome::kBitrixError;
  // A 4xx page from in front of the REST API: turned away unread.
  return r.status >= 400 && r.status < 500 ? HttpOutcome::kNotSent : HttpOutcome::kOutcomeUnknown;
}

// What a request that was not answered at all means for each work it
// carried: every caller gone, or nothing reached the portal. Nullopt for
// any other answer (failed transfers included: they parse to their own
// reason, see HandleSingle and OnUnusable).
std::optional<AttemptOutcome> Unanswered(const HttpResponse& r, bool all_cancelled) {
  AttemptOutcome o;
  if (r.failure != TransportFailure::kNone && all_cancelled) {
    // Every caller gave up, and the transfer was aborted for them (or
    // failed anyway): nothing to retry, and no sign of server trouble.
    o.kind = AttemptOutcome::Kind::kCancelled;
    o.cause = CancelledStatus();
    return o;
  }
  if (r.failure != TransportFailure::kNotSent) return std::nullopt;
  // A permanent failure (a certificate that failed verification) will not
  // heal by sending again: fail now, not max_attempts backoffs later.
  o.kind = r.permanent ? AttemptOutcome::Kind::kNotSentPermanent : AttemptOutcome::Kind::kNotSent;
  o.cause = Unreachable(r);
  return o;
}

// A redirect the policy refused: nothing was executed, and sending again
// would meet the same answer.
absl::Status RedirectRefused(const RedirectDecision& d) {
  return GatewayError(
      absl::StatusCode::kUnavailable, kReasonTransport,
      absl::StrCat("the portal redirected the request to ",
                   d.to.empty() ? "an unusable address" : d.to,
                   " and the gateway did not follow: ", d.why, "; the request was not executed"));
}

// A REST 3.0 write answered from the portal's idempotency store.
bool IsReplay(const HttpResponse& r) {
  auto it = r.headers.find("idempotent-replayed");
  return r.failure == TransportFailure::kNone && it != r.headers.end() &&
         absl::AsciiStrToLower(it->second) == "true";
}

// When the portal began the request (the answer's `time.start`, unix
// seconds on its clock), if the answer says.
std::optional<absl::Time> StartOf(const absl::StatusOr<CommandOutcome>& single,
                                  const absl::StatusOr<BatchReply>& batch) {
  const nlohmann::ordered_json* time = nullptr;
  if (single.ok() && single->reply) time = &single->reply->time;
  if (batch.ok()) time = &batch->time;
  if (time == nullptr || !time->is_object()) return std::nullopt;
  auto start = time->find("start");
  if (start == time->end() || !start->is_number()) return std::nullopt;
  return absl::UnixEpoch() + absl::Seconds(start->get<double>());
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

// The events of a request's end. REQUIRES: the lock guarding `stats` held.
void RecordDone(const HttpResponse& response, HttpOutcome outcome,
                const std::optional<RedirectDecision>& redirect, absl::Duration latency,
                PortalStats* stats, Outbox* out) {
  PortalEvent done = Event(Type::kRequestDone);
  done.outcome = outcome;
  done.duration = latency;
  out->Add(done, stats);
  if (redirect && redirect->follow) out->Add(Event(Type::kRedirect), stats);
  if (redirect && !redirect->follow) {
    PortalEvent refused = Event(Type::kRedirectRefused);
    refused.code = redirect->to;
    refused.text = redirect->why;
    out->Add(refused, stats);
  }
  if (response.failure != TransportFailure::kNone) {
    PortalEvent failure = Event(Type::kTransportFailure);
    failure.text = response.failure_message;
    out->Add(failure, stats);
  }
}

}  // namespace

// ---- Answers ------------------------------------------------------------------

void Portal::OnResponse(FlightPtr flight, HttpResponse response) {
  const HttpOutcome outcome = ClassifyHttp(response);
  // Whether to follow a redirect (the current address and redirect_to).
  std::optional<RedirectDecision> redirect;
  if (IsRedirect(response)) {
    redirect = DecideRedirect(credentials_->Current().base_url, response.headers.at("location"),
                              options_.redirect_to);
  }
  // A list batch's answer can be megabytes: it is parsed before the lock is
  // taken, so the dispatcher keeps sending other callers' work meanwhile. A
  // failed transfer parses to its failure (TRANSPORT_ERROR, or BAD_RESPONSE
  // for an answer cut short), which the handlers use.
  absl::StatusOr<CommandOutcome> single = absl::UnknownError("not parsed");
  absl::StatusOr<BatchReply> batch = absl::UnknownError("not parsed");
  if (!redirect && flight->keys.empty()) {
    single = flight->v3 ? ParseV3CallResponse(response) : ParseCallResponse(response);
  }
  if (!redirect && !flight->keys.empty()) {
    batch = flight->v3 ? ParseV3BatchResponse(response, flight->keys)
                       : ParseBatchResponse(response, flight->keys);
  }
  Outbox out(options_.name, observer_);
  {
    absl::MutexLock lock(&mu_);
    const absl::Time now = clock_->Now();
    RecordDone(response, outcome, redirect, now - flight->sent_at, &stats_, &out);
    std::optional<absl::Time> start = StartOf(single, batch);
    if (start && flight->slot != absl::InfinitePast()) {
      bucket_.ObserveStart(flight->slot, *start, now);
    }
    if (flight->v3 && IsReplay(response)) {
      PortalEvent replay = Event(Type::kIdempotentReplay);
      if (!flight->group.empty() && flight->group[0]) replay.method = flight->group[0]->method();
      out.Add(replay, &stats_);
    }
    // Not on the wire any more: answered at shutdown already.
    if (on_wire_.erase(flight.get()) > 0) {
      if (response.failure == TransportFailure::kNone && !flight->streamed) {
        ledger_.Answered(now - flight->sent_at);
      }
      const int calls = CallsIn(flight->group);
      for (auto& w : flight->group) {
        if (w) ReleaseCosts(*w);
      }
      const int answered_calls = HandleResponse(*flight, response, redirect, std::move(single),
                                                std::move(batch), now, &out);
      ledger_.Settled(calls, answered_calls, now);
    }
    ledger_.Ended();
    // A turn's decisions depend on the answer (a free slot, the callers due
    // back, work queued again) only while work waits; on an idle portal a
    // turn would find nothing to send, and its pool thread would compete
    // with this one for a core while the answer goes to its caller.
    if (queue_.size() > 0 || !refused_.empty()) pool_->Wake(this);
  }
  out.Deliver();
}

int Portal::HandleResponse(Flight& flight, const HttpResponse& response,
                           const std::optional<RedirectDecision>& redirect,
                           absl::StatusOr<CommandOutcome> single, absl::StatusOr<BatchReply> batch,
                           absl::Time now, Outbox* out) {
  std::vector<WorkPtr>& group = flight.group;
  int answered = 0;
  std::optional<AttemptOutcome> whole = Unanswered(response, AllCancelled(group));
  if (!whole && redirect && !redirect->follow) {
    whole = AttemptOutcome{AttemptOutcome::Kind::kNotSentPermanent, RedirectRefused(*redirect)};
  } else if (!whole && redirect) {
    // The portal's domain changed to one the operator allowed; nothing was
    // executed. Sent again (as POST, with the same body) to the new host.
    credentials_->MoveTo(redirect->to);
    whole = AttemptOutcome{AttemptOutcome::Kind::kRedirect,
                           GatewayError(absl::StatusCode::kUnavailable, kReasonTransport,
                                        "the portal moved (302) and the deadline ran out")};
  }
  if (whole) {
    if (whole->kind == AttemptOutcome::Kind::kNotSent) ServerTrouble(now, out);
    for (auto& w : group) {
      if (!w) continue;
      // Batches are disposed of too; only plain calls count as answered.
      const bool call = !w->is_batch();
      const Fate fate = Dispose(std::move(w), *whole, now, out);
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

Portal::Fate Portal::OnUnusable(WorkPtr w, absl::Status status, absl::Time now, Outbox* out) {
  if (ReasonOf(status) != kReasonNotExecuted) {
    return OnOutcomeUnknown(std::move(w), std::move(status), now, out);
  }
  if (status.code() != absl::StatusCode::kUnavailable) return Answer(std::move(w), status, out);
  AttemptOutcome o;
  o.kind = AttemptOutcome::Kind::kNotSent;
  o.cause = std::move(status);
  return Dispose(std::move(w), o, now, out);
}

Portal::Fate Portal::HandleSingle(WorkPtr w, absl::StatusOr<CommandOutcome> outcome,
                                  absl::Time now, Outbox* out) {
  if (!outcome.ok()) return OnUnusable(std::move(w), outcome.status(), now, out);
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
      if (w) count(OnUnusable(std::move(w), reply.status(), now, out));
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
    OnUnusable(std::move(w), reply.status(), now, out);
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
      // A REST 3.0 batch's `time` is the batch's (charged to "batch").
      if (w->options.api != RestApi::kV3) operating_.Observe(c.method, it->second.reply->time, now);
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
  } else if (error.code == "ERROR_METHOD_NOT_FOUND" ||
             error.code == "BITRIX_REST_V3_EXCEPTION_METHODNOTFOUNDEXCEPTION") {
    // The list `auto` routes by may be out of date (takes only the
    // catalog's own lock, which is never held while calling us).
    v3_catalog_.MarkStale();
  }
  AttemptOutcome o;
  o.kind = AttemptOutcome::Kind::kBitrixError;
  o.cause = B24ErrorStatus(error.code, error.description, error.http_status);
  AttachFieldViolations(&o.cause, error.violations);
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
  facts.keyed = !w->is_batch() && w->options.api == RestApi::kV3 &&
                !w->options.idempotency_key.empty();
  facts.attempts = w->attempts;
  facts.auth_refreshes = w->auth_refreshes;
  facts.redirects = w->redirects;
  facts.deadline = w->options.deadline;
  facts.can_refresh = credentials_->CanRefresh();
  facts.single_attempt = static_cast<bool>(w->options.send_streamed);
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
    Outbox out(options_.name, observer_);
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
      pool_->Wake(this);
    }
    out.Deliver();
  });
}

// ---- The autothrottle ------------------------------------------------------------

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

}  // namespace b24gate
