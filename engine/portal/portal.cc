#include "engine/portal/portal.h"

#include <algorithm>
#include <set>
#include <utility>

#include "absl/strings/str_cat.h"
#include "engine/common/errors.h"
#include "engine/bitrix/method_traits.h"
#include "engine/bitrix/query_encoder.h"
#include "engine/throttle/coalescing.h"
#include "engine/throttle/fair_share.h"

namespace b24gate {

struct Portal::Pending {
  bool is_batch = false;
  std::string method;  // normalised; "batch" for pre-formed batches
  nlohmann::ordered_json params;
  bool as_json = false;  // must travel alone as a JSON body
  bool read = false;     // safe to repeat when the outcome is unknown
  std::vector<BatchCommandSpec> commands;
  bool halt = false;
  CallOptions options;
  CallCallback call_done;
  BatchCallback batch_done;
  int attempts = 0;
  int auth_refreshes = 0;  // at most one per command: a token refused twice is final
  int redirects = 0;
  int64_t sent_generation = 0;  // credentials generation it was last sent with
  absl::Time not_before = absl::InfinitePast();
  absl::Time enqueued;
  // A partial batch headed by this command waits for callers arriving with
  // it until `linger_until`, and while answers are in flight (whose callers
  // may send more) until `hold_until`.
  absl::Time linger_until = absl::InfinitePast();
  absl::Time hold_until = absl::InfinitePast();
  absl::Status last_error;  // why it was last requeued
  // Who sent it (a FairShare class name) and its place in the fair order.
  // Requeued commands (retries, token refreshes) go ahead of the order.
  std::string client;
  FairShare::Place place;
  bool requeued = false;
  // Operating time booked for it while in flight (Portal::ReserveCosts).
  std::map<std::string, absl::Duration> reserved;
  // A pre-formed batch sent again in part: the outcomes of earlier passes.
  BatchResult partial;

  // Commands it carries: what it costs of its client's fair share.
  int Commands() const { return is_batch ? static_cast<int>(commands.size()) : 1; }
};

namespace {

bool IsCancelled(const CallOptions& o) { return o.cancel && o.cancel->cancelled(); }

absl::Status CancelledStatus() {
  return GatewayError(absl::StatusCode::kCancelled, kReasonCancelled, "the call was cancelled");
}

// Batch sub-command: "method?query".
std::string SubCommand(const std::string& method, const nlohmann::ordered_json& params) {
  std::string query = HttpBuildQuery(params);
  return query.empty() ? method : absl::StrCat(method, "?", query);
}

std::string BatchBody(const std::vector<std::string>& keys, const std::vector<std::string>& cmds,
                      bool halt) {
  // Keys stay in execution order (ordered_json); sorted keys would break
  // `$result` references to earlier commands.
  nlohmann::ordered_json cmd = nlohmann::ordered_json::object();
  for (size_t i = 0; i < keys.size(); ++i) cmd[keys[i]] = cmds[i];
  nlohmann::ordered_json body;
  body["halt"] = halt ? 1 : 0;
  body["cmd"] = std::move(cmd);
  return body.dump();
}

// A request that never reached the portal.
absl::Status Unreachable(const HttpResponse& r) {
  return GatewayError(absl::StatusCode::kUnavailable, kReasonTransport,
                      absl::StrCat("portal unreachable: ", r.failure_message));
}

// A redirect the policy refused: nothing was executed, and sending again
// would meet the same answer.
absl::Status RedirectRefused(const RedirectDecision& d) {
  return GatewayError(
      absl::StatusCode::kUnavailable, kReasonTransport,
      absl::StrCat("the portal redirected the request to ", d.to.empty() ? "an unusable address" : d.to,
                   " and the gateway did not follow: ", d.why,
                   "; the request was not executed"));
}

bool IsRedirect(const HttpResponse& r) {
  return r.failure == TransportFailure::kNone &&
         (r.status == 301 || r.status == 302 || r.status == 303 || r.status == 307 ||
          r.status == 308) &&
         r.headers.count("location") > 0;
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

bool IsOutcomeUnknownCode(const B24Error& e) {
  if (e.code == "INTERNAL_SERVER_ERROR" || e.code == "ERROR_UNEXPECTED_ANSWER") return true;
  if (e.code == "OVERLOAD_LIMIT" || e.code == "PORTAL_DELETED") return false;
  return e.http_status >= 500 && e.code != "QUERY_LIMIT_EXCEEDED";
}

}  // namespace

Portal::Portal(PortalOptions options, HttpTransport* transport, Clock* clock,
               PortalObserver* observer)
    : options_(std::move(options)),
      transport_(transport),
      clock_(clock),
      observer_(observer),
      credentials_(MakeCredentials(options_, transport, clock)),
      fair_(options_.fair_share),
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
  std::deque<PendingPtr> left;
  {
    absl::MutexLock lock(&mu_);
    stopping_ = true;
    left.swap(queue_);
  }
  dispatcher_.join();
  for (auto& p : left) {
    Fail(std::move(p), GatewayError(absl::StatusCode::kUnavailable, kReasonNotExecuted,
                                    "the gateway is shutting down; the call was not sent"),
         nullptr);
  }
  absl::MutexLock lock(&mu_);
  mu_.Await(absl::Condition(
      +[](int* n) { return *n == 0; }, &in_flight_));
}

void Portal::Call(std::string method, nlohmann::ordered_json params, bool as_json, CallOptions options,
                  CallCallback done) {
  auto p = std::make_unique<Pending>();
  p->method = NormalizeMethod(method);
  if (params.is_null()) params = nlohmann::ordered_json::object();
  // "$result" in a caller's value must stay data: inside a batch shared with
  // other calls Bitrix24 would replace it with another command's result.
  p->as_json = as_json || ContainsNullOrTopLevelList(params) ||
               FindBatchReference(params).has_value();
  p->params = std::move(params);
  p->read = options.idempotent || IsReadMethod(p->method);
  p->options = std::move(options);
  p->call_done = std::move(done);
  Enqueue(std::move(p));
}

void Portal::Batch(std::vector<BatchCommandSpec> commands, bool halt, CallOptions options,
                   BatchCallback done) {
  auto p = std::make_unique<Pending>();
  p->is_batch = true;
  p->method = "batch";
  p->read = true;
  for (auto& c : commands) {
    c.method = NormalizeMethod(c.method);
    p->read = p->read && (options.idempotent || IsReadMethod(c.method));
  }
  p->commands = std::move(commands);
  p->halt = halt;
  p->options = std::move(options);
  p->batch_done = std::move(done);
  Enqueue(std::move(p));
}

void Portal::Enqueue(PendingPtr pending) {
  absl::MutexLock lock(&mu_);
  pending->enqueued = clock_->Now();
  pending->linger_until = pending->enqueued + tuning_.linger;
  if (!pending->is_batch && pending->attempts == 0) CallerReturned();
  pending->hold_until =
      CoalesceUntil(bucket_.Level(pending->enqueued), bucket_.policy(), pending->enqueued);
  pending->client = fair_.ClassOf(pending->options.client_id);
  pending->place = fair_.Arrive(pending->client, std::max(pending->Commands(), 1));
  // The queue is requeued commands first, then the rest in fair order (ties
  // in arrival order).
  auto at = std::upper_bound(queue_.begin(), queue_.end(), pending,
                             [](const PendingPtr& a, const PendingPtr& b) {
                               return !b->requeued && a->place.finish < b->place.finish;
                             });
  queue_.insert(at, std::move(pending));
  kicked_ = true;
}

void Portal::Requeue(PendingPtr pending) {
  pending->requeued = true;
  queue_.push_front(std::move(pending));
}

Portal::Costs Portal::CostOf(const Pending& p) const {
  Costs costs;
  if (p.is_batch) {
    for (const auto& c : p.commands) costs[c.method] += operating_.Estimate(c.method);
  } else {
    costs[p.method] += operating_.Estimate(p.method);
  }
  return costs;
}

absl::Time Portal::ReadyAt(const Pending& p, const Costs& booked, absl::Time now) const {
  absl::Time at = p.not_before;
  // Portals that charge batches to `batch` itself are protected by that
  // method's reported use (no prediction: what a batch costs there is the
  // sum of its commands, already booked per method).
  if (p.is_batch) at = std::max(at, operating_.ReadyAt("batch"));
  for (const auto& [method, cost] : CostOf(p)) {
    at = std::max(at, operating_.ReadyAt(method));
    auto it = booked.find(method);
    absl::Duration total = cost + (it == booked.end() ? absl::ZeroDuration() : it->second);
    at = std::max(at, operating_.FitsAt(method, total, now));
  }
  return at;
}

void Portal::ReserveCosts(std::vector<PendingPtr>& group) {
  for (auto& p : group) {
    p->reserved = CostOf(*p);
    for (const auto& [method, cost] : p->reserved) operating_.Reserve(method, cost);
  }
}

void Portal::ReleaseCosts(std::vector<PendingPtr>& group) {
  for (auto& p : group) {
    if (!p) continue;
    for (const auto& [method, cost] : p->reserved) operating_.Release(method, cost);
    p->reserved.clear();
  }
}

void Portal::DispatchLoop() {
  for (;;) {
    std::vector<PendingPtr> group;
    std::vector<Completion> completions;
    {
      absl::MutexLock lock(&mu_);
      if (stopping_) return;
      absl::Time look_again = absl::InfiniteFuture();
      if (draining_) {
        // Shutting down: whatever is queued is answered, nothing is sent.
        FailQueueForShutdown(&completions);
      } else {
        look_again = TakeGroup(&group, &completions);
      }
      if (group.empty() && completions.empty()) {
        // Nothing to do before `look_again` unless something changes: a
        // call queued, an answer in, a tuning change (kicked_), or stop.
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
    for (auto& c : completions) c();
    if (!group.empty()) Send(std::move(group));
  }
}

absl::Time Portal::TakeGroup(std::vector<PendingPtr>* group, std::vector<Completion>* completions) {
  const absl::Time now = clock_->Now();
  // Callers who gave up are answered at once; their commands are not sent.
  // Cancellation is set without our lock, so it is noticed when we look;
  // the first deadline in the queue is the latest time to look again.
  absl::Time first_deadline = absl::InfiniteFuture();
  if (DropAbandoned(now, completions, &first_deadline)) return now;
  const absl::Time recheck = std::min(now + kRecheckCancellation, first_deadline);

  // Every allowed HTTP request is in flight: an answer will kick us.
  if (queue_.empty() ||
      in_flight_ >= std::min(tuning_.max_concurrency, autothrottle_.concurrency())) {
    return recheck;
  }

  // The oldest command whose methods may run now (others wait for their
  // operating-time window or backoff without holding up the queue).
  absl::Time earliest = absl::InfiniteFuture();
  auto first = FirstReady(now, &earliest);
  if (first == queue_.end()) return std::min(recheck, earliest);

  // The portal's request budget admits one more request.
  if (absl::Time slot = bucket_.NextFree(now); slot > now) return std::min(recheck, slot);

  // Company for the first command. A full batch or a repeat goes at once.
  // A partial one waits out the linger (callers arriving together), and,
  // while more callers are expected (CompanyExpected), a hold that grows as
  // the request budget runs low (CoalesceUntil). When everyone expected is
  // here, waiting would only add latency.
  std::vector<std::deque<PendingPtr>::iterator> picked = Companions(first, now);
  const Pending& head = **first;
  const int size = static_cast<int>(picked.size());
  if (Shareable(head, now) && head.attempts == 0 && size < tuning_.batch_size) {
    absl::Time hold = head.linger_until;
    if (CompanyExpected(now)) hold = std::max(hold, head.hold_until);
    if (hold > now) return std::min(recheck, hold);
  }

  // Replicas sharing the budget may have taken the slot meanwhile.
  if (absl::Time slot = bucket_.Reserve(now); slot > now) return std::min(recheck, slot);
  for (auto it : picked) {
    fair_.Taken((*it)->place);
    group->push_back(std::move(*it));
  }
  queue_.erase(std::remove(queue_.begin(), queue_.end(), nullptr), queue_.end());
  ReserveCosts(*group);
  ++in_flight_;
  calls_in_flight_ += CallsIn(*group);
  stats_.http_requests++;
  return now;
}

int Portal::CallsIn(const std::vector<PendingPtr>& group) {
  int calls = 0;
  for (const auto& p : group) calls += p && !p->is_batch ? 1 : 0;
  return calls;
}

bool Portal::CompanyExpected(absl::Time now) {
  // Answered callers who have not sent again within the longest hold are
  // not coming back (or not soon).
  const absl::Duration window = absl::Seconds(1.0 / bucket_.policy().drain_per_second);
  while (!awaiting_return_.empty() && awaiting_return_.front().first + window < now) {
    awaiting_return_.pop_front();
  }
  return calls_in_flight_ > 0 || !awaiting_return_.empty();
}

void Portal::CallerReturned() {
  if (awaiting_return_.empty()) return;
  if (--awaiting_return_.front().second == 0) awaiting_return_.pop_front();
}

bool Portal::DropAbandoned(absl::Time now, std::vector<Completion>* completions,
                           absl::Time* first_deadline) {
  bool dropped = false;
  for (auto it = queue_.begin(); it != queue_.end();) {
    Pending& p = **it;
    bool cancelled = IsCancelled(p.options);
    if (!cancelled && p.options.deadline > now) {
      *first_deadline = std::min(*first_deadline, p.options.deadline);
      ++it;
      continue;
    }
    absl::Status why =
        cancelled ? CancelledStatus()
                  : GatewayError(absl::StatusCode::kDeadlineExceeded, kReasonDeadline,
                                 p.last_error.ok()
                                     ? "deadline exceeded while queued (portal limits)"
                                     : absl::StrCat("deadline exceeded; last failure: ",
                                                    p.last_error.message()));
    PendingPtr dead = std::move(*it);
    it = queue_.erase(it);
    Fail(std::move(dead), why, completions);
    dropped = true;
  }
  return dropped;
}

std::deque<Portal::PendingPtr>::iterator Portal::FirstReady(absl::Time now, absl::Time* earliest) {
  for (auto it = queue_.begin(); it != queue_.end(); ++it) {
    absl::Time at = ReadyAt(**it, {}, now);
    if (at <= now) return it;
    *earliest = std::min(*earliest, at);
  }
  return queue_.end();
}

bool Portal::Shareable(const Pending& head, absl::Time now) const {
  // Pre-formed batches and JSON-bodied calls travel alone. While `batch` is
  // paused (a portal that charges batches to it), calls travel one by one,
  // each charged to its own method.
  return !head.is_batch && !head.as_json && operating_.ReadyAt("batch") <= now;
}

std::vector<std::deque<Portal::PendingPtr>::iterator> Portal::Companions(
    std::deque<PendingPtr>::iterator first, absl::Time now) {
  std::vector<std::deque<PendingPtr>::iterator> picked{first};
  if (!Shareable(**first, now)) return picked;
  // Commands join while their methods' predicted operating time still fits
  // next to what the batch already carries.
  Costs booked = CostOf(**first);
  for (auto it = std::next(first);
       it != queue_.end() && static_cast<int>(picked.size()) < tuning_.batch_size; ++it) {
    const Pending& p = **it;
    if (p.is_batch || p.as_json || ReadyAt(p, booked, now) > now) continue;
    picked.push_back(it);
    for (const auto& [method, cost] : CostOf(p)) booked[method] += cost;
  }
  return picked;
}

bool Portal::AllCancelled(const std::vector<PendingPtr>& group) {
  for (const auto& p : group) {
    if (!p || !IsCancelled(p->options)) return false;
  }
  return !group.empty();
}

std::function<bool()> Portal::AbandonedWhenAllCancel(const std::vector<PendingPtr>& group) {
  // Only reads: a write already sent may run whether or not anyone waits,
  // and its answer (or OUTCOME_UNKNOWN) is what the caller is owed.
  std::vector<std::shared_ptr<CancelToken>> tokens;
  for (const auto& p : group) {
    if (!p->read || !p->options.cancel) return nullptr;
    tokens.push_back(p->options.cancel);
  }
  return [tokens = std::move(tokens)] {
    for (const auto& token : tokens) {
      if (!token->cancelled()) return false;
    }
    return true;
  };
}

void Portal::Send(std::vector<PendingPtr> group) {
  Auth auth = credentials_->Current();
  if (auth.needs_refresh) {
    RefreshThenRequeue(std::move(group), auth.generation);
    return;
  }
  for (auto& p : group) p->sent_generation = auth.generation;
  // OAuth: the token rides in the query string so JSON bodies (positional
  // lists included) stay exactly as the caller wrote them.
  std::string auth_query =
      auth.access_token.empty() ? "" : absl::StrCat("?auth=", UrlEncode(auth.access_token));
  HttpRequest request;
  request.method = "POST";
  request.content_type = "application/json";
  request.timeout = options_.request_timeout;
  request.tls = options_.tls;
  request.abandoned = AbandonedWhenAllCancel(group);
  std::vector<std::string> keys;
  size_t commands = 0;
  if (group.size() == 1 && !group[0]->is_batch) {
    Pending& p = *group[0];
    request.url = absl::StrCat(auth.base_url, p.method, auth_query);
    request.body = p.params.dump();
    commands = 1;
  } else {
    std::vector<std::string> cmds;
    bool halt = false;
    if (group[0]->is_batch) {
      for (const auto& c : group[0]->commands) {
        keys.push_back(c.key);
        cmds.push_back(SubCommand(c.method, c.params));
      }
      halt = group[0]->halt;
    } else {
      for (size_t i = 0; i < group.size(); ++i) {
        keys.push_back(absl::StrCat("c", i));
        cmds.push_back(SubCommand(group[i]->method, group[i]->params));
      }
    }
    commands = keys.size();
    request.url = absl::StrCat(auth.base_url, "batch", auth_query);
    request.body = BatchBody(keys, cmds, halt);
  }
  {
    absl::MutexLock lock(&mu_);
    stats_.commands_sent += commands;
    if (!keys.empty()) stats_.batch_requests++;
    for (const auto& p : group) {
      stats_.client_commands[p->client] += p->Commands();
    }
  }
  observer_->OnRequestSent(options_.name, static_cast<int>(commands));
  if (group[0]->is_batch) {
    for (const auto& c : group[0]->commands) observer_->OnCommandSent(options_.name, c.method);
  } else {
    for (const auto& p : group) observer_->OnCommandSent(options_.name, p->method);
  }
  // The transport calls back on its own thread; the group moves along.
  auto shared_group = std::make_shared<std::vector<PendingPtr>>(std::move(group));
  {
    absl::MutexLock lock(&mu_);
    on_wire_.insert(shared_group.get());
  }
  absl::Time sent_at = clock_->Now();
  transport_->Send(std::move(request), [this, shared_group, keys = std::move(keys),
                                        sent_at](HttpResponse response) mutable {
    if (!ClaimFromWire(shared_group.get())) return;  // answered at shutdown already
    OnResponse(std::move(*shared_group), std::move(keys), sent_at, std::move(response));
  });
}

void Portal::OnResponse(std::vector<PendingPtr> group, std::vector<std::string> keys,
                        absl::Time sent_at, HttpResponse response) {
  HttpOutcome outcome = ClassifyHttp(response);
  observer_->OnRequestDone(options_.name, outcome, clock_->Now() - sent_at);
  std::optional<RedirectDecision> redirect = CheckRedirect(response);
  if (response.failure != TransportFailure::kNone) {
    observer_->OnTransportFailure(options_.name, response.failure_message);
  }
  // A list batch's answer can be megabytes: it is parsed before the lock is
  // taken, so the dispatcher keeps sending other callers' commands meanwhile.
  // A failed transfer parses to its failure (TRANSPORT_ERROR, or
  // BAD_RESPONSE for an answer cut short), which the branches below use.
  absl::StatusOr<CommandOutcome> single = absl::UnknownError("not parsed");
  absl::StatusOr<BatchReply> batch = absl::UnknownError("not parsed");
  if (!IsRedirect(response) && keys.empty()) single = ParseCallResponse(response);
  if (!IsRedirect(response) && !keys.empty()) batch = ParseBatchResponse(response, keys);
  std::vector<Completion> completions;
  {
    absl::MutexLock lock(&mu_);
    --in_flight_;
    kicked_ = true;
    ReleaseCosts(group);
    int calls = CallsIn(group);
    calls_in_flight_ -= calls;
    if (calls > 0) awaiting_return_.emplace_back(clock_->Now(), calls);
    if (response.failure != TransportFailure::kNone && AllCancelled(group)) {
      // Every caller gave up, and the transfer was aborted for them (or
      // failed anyway): nothing to retry, and no sign of server trouble.
      for (auto& p : group) Fail(std::move(p), CancelledStatus(), &completions);
    } else if (response.failure == TransportFailure::kNotSent && response.permanent) {
      // Nothing reached the portal, and sending again will not change that
      // (its certificate failed verification): fail now, not max_attempts
      // backoffs later.
      for (auto& p : group) Fail(std::move(p), Unreachable(response), &completions);
    } else if (response.failure == TransportFailure::kNotSent) {
      // Nothing reached the portal: every command may go again.
      ServerTrouble();
      for (auto& p : group) {
        RetryNotExecuted(std::move(p), Unreachable(response), RetryReason::kNotSent,
                         /*backoff=*/true, &completions);
      }
    } else if (redirect) {
      OnRedirectAnswer(std::move(group), *redirect, &completions);
    } else if (keys.empty()) {
      HandleSingle(std::move(group[0]), std::move(single), &completions);
    } else if (group[0]->is_batch) {
      HandleUserBatch(std::move(group[0]), std::move(batch), &completions);
    } else {
      HandleCoalesced(std::move(group), keys, std::move(batch), &completions);
    }
  }
  for (auto& c : completions) c();
}

void Portal::OnRedirectAnswer(std::vector<PendingPtr> group, const RedirectDecision& redirect,
                              std::vector<Completion>* completions) {
  if (!redirect.follow) {
    for (auto& p : group) Fail(std::move(p), RedirectRefused(redirect), completions);
    return;
  }
  // The portal's domain changed to one the operator allowed; nothing was
  // executed. Re-send (as POST, with the same body) to the new host.
  stats_.redirects++;
  credentials_->MoveTo(redirect.to);
  for (auto& p : group) {
    if (++p->redirects > 3) {
      Fail(std::move(p),
           GatewayError(absl::StatusCode::kUnavailable, kReasonTransport,
                        "the portal redirected more than 3 times"),
           completions);
    } else {
      RetryNotExecuted(std::move(p),
                       GatewayError(absl::StatusCode::kUnavailable, kReasonTransport,
                                    "the portal moved (302) and the deadline ran out"),
                       RetryReason::kRedirect, /*backoff=*/false, completions);
    }
  }
}

std::optional<RedirectDecision> Portal::CheckRedirect(const HttpResponse& response) {
  if (!IsRedirect(response)) return std::nullopt;
  RedirectDecision d = DecideRedirect(credentials_->Current().base_url,
                                      response.headers.at("location"), options_.redirect_to);
  if (d.follow) {
    observer_->OnRedirect(options_.name);
  } else {
    observer_->OnRedirectRefused(options_.name, d.to, d.why);
  }
  return d;
}

void Portal::RefreshThenRequeue(std::vector<PendingPtr> group, int64_t generation) {
  auto shared = std::make_shared<std::vector<PendingPtr>>(std::move(group));
  credentials_->Refresh(generation, [this, shared](absl::Status status) {
    observer_->OnTokenRefresh(options_.name, status.ok());
    std::vector<Completion> completions;
    {
      absl::MutexLock lock(&mu_);
      --in_flight_;
      calls_in_flight_ -= CallsIn(*shared);
      ReleaseCosts(*shared);
      for (auto& p : *shared) {
        if (status.ok()) {
          observer_->OnRetry(options_.name, p->method, RetryReason::kTokenRefresh,
                             absl::ZeroDuration());
          Requeue(std::move(p));
        } else {
          Fail(std::move(p), status, &completions);
        }
      }
      kicked_ = true;
    }
    for (auto& c : completions) c();
  });
}

void Portal::OnUnusable(PendingPtr p, absl::Status status, std::vector<Completion>* completions) {
  if (ReasonOf(status) != kReasonNotExecuted) {
    OnOutcomeUnknown(std::move(p), std::move(status), completions);
  } else if (status.code() == absl::StatusCode::kUnavailable) {
    RetryNotExecuted(std::move(p), std::move(status), RetryReason::kNotSent, /*backoff=*/true,
                     completions);
  } else {
    Fail(std::move(p), std::move(status), completions);
  }
}

void Portal::HandleSingle(PendingPtr p, absl::StatusOr<CommandOutcome> outcome,
                          std::vector<Completion>* completions) {
  if (!outcome.ok()) {
    OnUnusable(std::move(p), outcome.status(), completions);
    return;
  }
  if (outcome->error) {
    OnB24Error(std::move(p), *outcome->error, completions);
    return;
  }
  Succeed(std::move(p), std::move(*outcome->reply), completions);
}

void Portal::HandleCoalesced(std::vector<PendingPtr> group, const std::vector<std::string>& keys,
                             absl::StatusOr<BatchReply> reply, std::vector<Completion>* completions) {
  if (!reply.ok()) {
    // Each command decides for itself: reads are repeated, writes are not.
    for (auto& p : group) OnUnusable(std::move(p), reply.status(), completions);
    return;
  }
  operating_.Observe("batch", reply->time, clock_->Now());
  if (reply->batch_error && reply->batch_error->code == "OPERATION_TIME_LIMIT") {
    // The portal charges batches to `batch`: park that, not the callers'
    // methods, which may still travel alone.
    const B24Error& e = *reply->batch_error;
    stats_.operating_blocked++;
    operating_.Blocked("batch", reply->time, clock_->Now());
    for (auto& p : group) {
      RetryNotExecuted(std::move(p), B24ErrorStatus(e.code, e.description, e.http_status),
                       RetryReason::kOperatingLimit, /*backoff=*/false, completions);
    }
    return;
  }
  if (reply->batch_error) {
    for (auto& p : group) OnB24Error(std::move(p), *reply->batch_error, completions);
    return;
  }
  for (size_t i = 0; i < group.size(); ++i) {
    auto it = reply->outcomes.find(keys[i]);
    if (it == reply->outcomes.end()) {
      OnOutcomeUnknown(std::move(group[i]),
                       GatewayError(absl::StatusCode::kUnavailable, kReasonBadResponse,
                                    "the batch answer has no entry for this command"),
                       completions);
    } else if (it->second.error) {
      OnB24Error(std::move(group[i]), *it->second.error, completions);
    } else {
      Succeed(std::move(group[i]), std::move(*it->second.reply), completions);
    }
  }
}

void Portal::HandleUserBatch(PendingPtr p, absl::StatusOr<BatchReply> reply,
                             std::vector<Completion>* completions) {
  if (!reply.ok()) {
    OnUnusable(std::move(p), reply.status(), completions);
    return;
  }
  absl::Time now = clock_->Now();
  operating_.Observe("batch", reply->time, now);
  if (reply->batch_error) {
    OnB24Error(std::move(p), *reply->batch_error, completions);
    return;
  }
  // Outcomes accumulate over passes: sub-commands refused for operating
  // time were not executed and go again (RetryRefusedCommands).
  BatchResult& result = p->partial;
  std::vector<BatchCommandSpec> refused;
  bool halted = false;
  for (const auto& c : p->commands) {
    auto it = reply->outcomes.find(c.key);
    if (it == reply->outcomes.end()) {
      // Not executed: `halt` stopped the batch before it.
      if (halted) refused.push_back(c);
      continue;
    }
    if (it->second.error) {
      const B24Error& e = *it->second.error;
      observer_->OnBitrixError(options_.name, c.method, e.code, e.description);
      if (e.code == "OPERATION_TIME_LIMIT") {
        operating_.Blocked(c.method, nullptr, now);
        stats_.operating_blocked++;
        refused.push_back(c);
        halted = p->halt;
      }
      result.outcomes.insert_or_assign(c.key,
                                       B24ErrorStatus(e.code, e.description, e.http_status));
    } else {
      operating_.Observe(c.method, it->second.reply->time, now);
      result.outcomes.insert_or_assign(c.key, std::move(*it->second.reply));
    }
  }
  if (!refused.empty() && RetryRefusedCommands(p.get(), std::move(refused), now)) {
    Requeue(std::move(p));
    return;
  }
  completions->push_back(
      [done = std::move(p->batch_done), result = std::move(p->partial)]() mutable {
        done(std::move(result));
      });
}

bool Portal::RetryRefusedCommands(Pending* p, std::vector<BatchCommandSpec> refused,
                                  absl::Time now) {
  // A command that refers to another's result cannot travel without it.
  for (const auto& c : refused) {
    if (c.params.dump().find("$result") != std::string::npos) return false;
  }
  if (now >= p->options.deadline) return false;
  for (const auto& c : refused) {
    p->partial.outcomes.erase(c.key);
    observer_->OnRetry(options_.name, c.method, RetryReason::kOperatingLimit,
                       absl::ZeroDuration());
  }
  stats_.retries++;
  p->attempts++;
  p->last_error = B24ErrorStatus("OPERATION_TIME_LIMIT",
                                 "Method is blocked due to operation time limit.", 429);
  p->commands = std::move(refused);
  return true;
}

void Portal::OnB24Error(PendingPtr p, const B24Error& error,
                        std::vector<Completion>* completions) {
  absl::Status status = B24ErrorStatus(error.code, error.description, error.http_status);
  absl::Time now = clock_->Now();
  observer_->OnBitrixError(options_.name, p->method, error.code, error.description);
  if (error.code == "QUERY_LIMIT_EXCEEDED") {
    // Someone else shares the portal's budget: the bucket is fuller than
    // modelled. Not executed, so always safe to repeat.
    stats_.rate_limited++;
    bucket_.MarkFull(now);
    ServerTrouble();
    RetryNotExecuted(std::move(p), status, RetryReason::kRateLimited, /*backoff=*/false,
                     completions);
    return;
  }
  if (error.code == "OPERATION_TIME_LIMIT") {
    stats_.operating_blocked++;
    operating_.Blocked(p->method, nullptr, now);
    RetryNotExecuted(std::move(p), status, RetryReason::kOperatingLimit, /*backoff=*/false,
                     completions);
    return;
  }
  if ((error.code == "expired_token" || error.code == "invalid_token") &&
      credentials_->CanRefresh() && p->auth_refreshes == 0) {
    // Not executed. One refresh for everyone who failed with the same token,
    // then repeat; a token refused again is final (no loop).
    p->auth_refreshes++;
    stats_.token_refreshes++;
    ++in_flight_;  // keeps the destructor waiting until the refresh is done
    calls_in_flight_ += p->is_batch ? 0 : 1;
    if (!p->is_batch) CallerReturned();  // requeued after the refresh, unanswered
    std::vector<PendingPtr> group;
    int64_t generation = p->sent_generation;
    group.push_back(std::move(p));
    auto shared = std::make_shared<std::vector<PendingPtr>>(std::move(group));
    completions->push_back([this, shared, generation]() {
      RefreshThenRequeue(std::move(*shared), generation);
    });
    return;
  }
  if (IsOutcomeUnknownCode(error)) {
    OnOutcomeUnknown(std::move(p), status, completions);
    return;
  }
  Fail(std::move(p), status, completions);
}

void Portal::RetryNotExecuted(PendingPtr p, absl::Status cause, RetryReason reason,
                              bool backoff, std::vector<Completion>* completions) {
  absl::Time now = clock_->Now();
  p->attempts++;
  absl::Duration delay = backoff ? backoff_.Delay(p->attempts) : absl::ZeroDuration();
  // Transport failures (unreachable portal, refused TLS certificate) are
  // bounded by max_attempts, so a call without a deadline cannot loop for
  // ever; rate-limit answers (backoff=false) wait as long as the deadline.
  if ((backoff && p->attempts >= options_.max_attempts) || now + delay >= p->options.deadline) {
    Fail(std::move(p), cause, completions);
    return;
  }
  stats_.retries++;
  observer_->OnRetry(options_.name, p->method, reason, delay);
  p->not_before = now + delay;
  p->last_error = cause;
  // OnResponse counted this call as answered and its caller as due back; it
  // is back already, unanswered. Left counted, the stale entry would make
  // every later lone call wait for company that is not coming.
  if (!p->is_batch) CallerReturned();
  Requeue(std::move(p));
}

void Portal::OnOutcomeUnknown(PendingPtr p, absl::Status cause,
                              std::vector<Completion>* completions) {
  ServerTrouble();
  if (!p->read) {
    stats_.outcome_unknown++;
    observer_->OnOutcomeUnknown(options_.name, p->method, std::string(cause.message()));
    Fail(std::move(p),
         GatewayError(absl::StatusCode::kUnavailable, kReasonOutcomeUnknown,
                      absl::StrCat("outcome unknown: the request may have been executed and was "
                                   "not repeated because ",
                                   p->method, " is not known to be safe to repeat (",
                                   cause.message(), ")")),
         completions);
    return;
  }
  if (p->attempts + 1 >= options_.max_attempts) {
    Fail(std::move(p), cause, completions);
    return;
  }
  RetryNotExecuted(std::move(p), cause, RetryReason::kServerError, /*backoff=*/true, completions);
}

void Portal::Fail(PendingPtr p, absl::Status status, std::vector<Completion>* completions) {
  Completion c;
  if (p->is_batch && !p->partial.outcomes.empty()) {
    // Part of the batch already ran: its outcomes reach the caller, and only
    // the commands still waiting fail.
    BatchResult result = std::move(p->partial);
    for (const auto& command : p->commands) result.outcomes.insert_or_assign(command.key, status);
    c = [done = std::move(p->batch_done), result = std::move(result)]() mutable {
      done(std::move(result));
    };
  } else if (p->is_batch) {
    c = [done = std::move(p->batch_done), status]() { done(status); };
  } else {
    c = [done = std::move(p->call_done), status]() { done(status); };
  }
  if (completions) {
    completions->push_back(std::move(c));
  } else {
    c();
  }
}

void Portal::ServerTrouble() {
  autothrottle_.OnError(clock_->Now());
  ApplyRate();
}

void Portal::ApplyRate() {
  autothrottle_.SetCooldown(
      CooldownFor(options_.autothrottle.cooldown, tuning_.bucket.drain_per_second));
  BucketPolicy policy = tuning_.bucket;
  policy.drain_per_second *= autothrottle_.rate_factor();
  if (policy.drain_per_second != bucket_.policy().drain_per_second ||
      policy.burst != bucket_.policy().burst || policy.headroom != bucket_.policy().headroom) {
    bucket_.SetPolicy(policy, clock_->Now());
  }
  int concurrency = autothrottle_.concurrency();
  if (autothrottle_.rate_factor() != reported_rate_factor_ || concurrency != reported_concurrency_) {
    reported_rate_factor_ = autothrottle_.rate_factor();
    reported_concurrency_ = concurrency;
    observer_->OnAutothrottle(options_.name, reported_rate_factor_, concurrency);
  }
}

absl::Status Portal::Tune(const PortalTuning& tuning) {
  if (absl::Status s = ValidateTuning(tuning); !s.ok()) return s;
  absl::MutexLock lock(&mu_);
  tuning_ = tuning;
  autothrottle_.SetMaxConcurrency(tuning.max_concurrency);
  operating_.SetPolicy(tuning.operating);
  ApplyRate();
  kicked_ = true;
  return absl::OkStatus();
}

PortalTuning Portal::Tuning() const {
  absl::MutexLock lock(&mu_);
  return tuning_;
}

void Portal::Succeed(PendingPtr p, CallReply reply, std::vector<Completion>* completions) {
  autothrottle_.OnSuccess(clock_->Now());
  ApplyRate();
  operating_.Observe(p->method, reply.time, clock_->Now());
  completions->push_back([done = std::move(p->call_done), reply = std::move(reply)]() mutable {
    done(std::move(reply));
  });
}

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
  b.in_flight = in_flight_;
  b.max_in_flight = std::min(tuning_.max_concurrency, autothrottle_.concurrency());
  b.queued = static_cast<int>(queue_.size());
  b.operating_used = absl::Seconds(operating_.Operating(normalized));
  b.operating_reserved = operating_.Reserved(normalized);
  b.operating_left = operating_.Left(normalized);
  b.command_cost = operating_.Estimate(normalized);
  absl::Time ready = operating_.ReadyAt(normalized);
  if (ready > now) b.paused_until = ready;
  b.request_timeout = options_.request_timeout;
  return b;
}

PortalStats Portal::Stats() const {
  absl::MutexLock lock(&mu_);
  PortalStats s = stats_;
  absl::Time now = clock_->Now();
  s.queued = static_cast<double>(queue_.size());
  for (const std::string& client : fair_.Classes()) {
    s.client_queued[client] = 0;
    s.client_commands.emplace(client, 0);
  }
  for (const auto& p : queue_) {
    s.client_queued[p->client] += p->Commands();
  }
  s.in_flight = in_flight_;
  s.bucket_level = bucket_.Level(now);
  s.operating = operating_.Snapshot();
  for (const auto& [method, seconds] : s.operating) s.paused[method] = operating_.ReadyAt(method) > now;
  s.concurrency_limit = std::min(tuning_.max_concurrency, autothrottle_.concurrency());
  s.rate_factor = autothrottle_.rate_factor();
  s.slowdowns = autothrottle_.slowdowns();
  BudgetStatus sharing = budget_->Status();
  s.shared_budget_fallback = sharing.fallback ? 1 : 0;
  s.redis_errors = sharing.redis_errors;
  return s;
}

// ---- Shutdown (the server's drain) ----------------------------------------

absl::Status Portal::ShuttingDownNotExecuted() {
  return GatewayError(absl::StatusCode::kUnavailable, kReasonNotExecuted,
                      "the gateway is shutting down; the command was not sent");
}

void Portal::BeginShutdown() {
  std::vector<Completion> completions;
  {
    absl::MutexLock lock(&mu_);
    draining_ = true;
    FailQueueForShutdown(&completions);
    kicked_ = true;
  }
  for (auto& c : completions) c();
}

void Portal::FailQueueForShutdown(std::vector<Completion>* completions) {
  std::deque<PendingPtr> queued;
  queued.swap(queue_);
  for (auto& p : queued) Fail(std::move(p), ShuttingDownNotExecuted(), completions);
}

void Portal::AbandonInFlight() {
  std::vector<Completion> completions;
  {
    absl::MutexLock lock(&mu_);
    for (std::vector<PendingPtr>* group : on_wire_) {
      ReleaseCosts(*group);
      calls_in_flight_ -= CallsIn(*group);
      for (PendingPtr& p : *group) {
        if (!p) continue;
        if (!p->read) {
          stats_.outcome_unknown++;
          observer_->OnOutcomeUnknown(options_.name, p->method, "gateway shutdown");
        }
        Fail(std::move(p),
             GatewayError(absl::StatusCode::kUnavailable, kReasonOutcomeUnknown,
                          "outcome unknown: the gateway shut down before the portal answered; "
                          "the request may have been executed"),
             &completions);
      }
    }
    // The late answers find their group gone (ClaimFromWire) and are dropped.
    on_wire_.clear();
  }
  for (auto& c : completions) c();
}

bool Portal::ClaimFromWire(std::vector<PendingPtr>* group) {
  absl::MutexLock lock(&mu_);
  if (on_wire_.erase(group) > 0) return true;
  --in_flight_;
  kicked_ = true;
  return false;
}

}  // namespace b24gate
