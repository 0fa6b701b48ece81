#include "engine/portal/portal.h"

#include <algorithm>
#include <set>
#include <utility>

#include "absl/strings/str_cat.h"
#include "engine/common/errors.h"
#include "engine/bitrix/method_traits.h"
#include "engine/bitrix/query_encoder.h"

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
  absl::Status last_error;  // why it was last requeued
};

namespace {

bool IsCancelled(const CallOptions& o) { return o.cancel && o.cancel->cancelled(); }

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

bool IsRedirect(const HttpResponse& r) {
  return r.failure == TransportFailure::kNone &&
         (r.status == 301 || r.status == 302 || r.status == 303 || r.status == 307 ||
          r.status == 308) &&
         r.headers.count("location") > 0;
}

std::unique_ptr<Credentials> MakeCredentials(const PortalOptions& o, HttpTransport* transport) {
  if (!o.oauth.enabled()) return std::make_unique<WebhookCredentials>(o.webhook_url);
  std::unique_ptr<TokenStore> store;
  if (o.oauth.token_file.empty()) {
    store = std::make_unique<MemoryTokenStore>();
  } else {
    store = std::make_unique<FileTokenStore>(o.oauth.token_file);
  }
  return std::make_unique<OAuthCredentials>(o.oauth, std::move(store), transport, o.tls);
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
      credentials_(MakeCredentials(options_, transport)),
      tuning_(TuningOf(options_)),
      bucket_(options_.bucket),
      autothrottle_(options_.autothrottle, options_.max_concurrency),
      operating_(options_.operating),
      backoff_(options_.backoff,
               [this]() ABSL_NO_THREAD_SAFETY_ANALYSIS {
                 return std::uniform_real_distribution<double>(0, 1)(rng_);
               }),
      rng_(std::random_device{}()) {
  reported_concurrency_ = autothrottle_.concurrency();
  dispatcher_ = std::thread([this] { DispatchLoop(); });
}

Portal::~Portal() {
  std::deque<PendingPtr> left;
  {
    absl::MutexLock lock(&mu_);
    stopping_ = true;
    left.swap(queue_);
    wake_.SignalAll();
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
  Enqueue(std::move(p), /*front=*/false);
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
  Enqueue(std::move(p), /*front=*/false);
}

void Portal::Enqueue(PendingPtr pending, bool front) {
  absl::MutexLock lock(&mu_);
  pending->enqueued = clock_->Now();
  if (front) {
    queue_.push_front(std::move(pending));
  } else {
    queue_.push_back(std::move(pending));
  }
  wake_.Signal();
}

absl::Time Portal::ReadyAt(const Pending& p) const {
  absl::Time at = p.not_before;
  if (p.is_batch) {
    // Some portals charge a batch's operating time to `batch` itself.
    at = std::max(at, operating_.ReadyAt("batch"));
    for (const auto& c : p.commands) at = std::max(at, operating_.ReadyAt(c.method));
  } else {
    at = std::max(at, operating_.ReadyAt(p.method));
  }
  return at;
}

void Portal::DispatchLoop() {
  for (;;) {
    std::vector<PendingPtr> group;
    std::vector<Completion> completions;
    bool stop = false;
    {
      absl::MutexLock lock(&mu_);
      if (stopping_) {
        stop = true;
      } else if (draining_) {
        FailQueueForShutdown(&completions);
        if (completions.empty()) wake_.WaitWithTimeout(&mu_, absl::Milliseconds(200));
      } else {
        TakeGroup(&group, &completions);
      }
    }
    for (auto& c : completions) c();
    if (stop) return;
    if (!group.empty()) Send(std::move(group));
  }
}

bool Portal::TakeGroup(std::vector<PendingPtr>* group, std::vector<Completion>* completions) {
  absl::Time now = clock_->Now();
  // Drop what nobody waits for any more.
  for (auto it = queue_.begin(); it != queue_.end();) {
    Pending& p = **it;
    if (IsCancelled(p.options) || p.options.deadline <= now) {
      absl::Status why =
          IsCancelled(p.options)
              ? GatewayError(absl::StatusCode::kCancelled, kReasonCancelled, "the call was cancelled")
              : GatewayError(absl::StatusCode::kDeadlineExceeded, kReasonDeadline,
                             p.last_error.ok()
                                 ? "deadline exceeded while queued (portal limits)"
                                 : absl::StrCat("deadline exceeded; last failure: ",
                                                p.last_error.message()));
      PendingPtr dead = std::move(*it);
      it = queue_.erase(it);
      Fail(std::move(dead), why, completions);
    } else {
      ++it;
    }
  }
  if (!completions->empty()) return false;

  // Sleep at most this long before looking again (deadlines, cancellations).
  absl::Duration max_sleep = absl::Milliseconds(200);
  if (queue_.empty() ||
      in_flight_ >= std::min(tuning_.max_concurrency, autothrottle_.concurrency())) {
    wake_.WaitWithTimeout(&mu_, max_sleep);
    return false;
  }
  // The first ready item, in queue order.
  auto first = queue_.end();
  absl::Time earliest = absl::InfiniteFuture();
  for (auto it = queue_.begin(); it != queue_.end(); ++it) {
    absl::Time at = ReadyAt(**it);
    if (at <= now) {
      first = it;
      break;
    }
    earliest = std::min(earliest, at);
  }
  if (first == queue_.end()) {
    wake_.WaitWithTimeout(&mu_, std::min(max_sleep, earliest - now));
    return false;
  }
  absl::Time slot = bucket_.NextFree(now);
  if (slot > now) {
    wake_.WaitWithTimeout(&mu_, std::min(max_sleep, slot - now));
    return false;
  }

  Pending& head = **first;
  std::vector<std::deque<PendingPtr>::iterator> picked{first};
  // While `batch` is paused (a portal that charges batches to it), calls
  // travel one by one, each charged to its own method.
  if (!head.is_batch && !head.as_json && operating_.ReadyAt("batch") <= now) {
    for (auto it = std::next(first);
         it != queue_.end() && static_cast<int>(picked.size()) < tuning_.batch_size; ++it) {
      Pending& p = **it;
      if (!p.is_batch && !p.as_json && ReadyAt(p) <= now) picked.push_back(it);
    }
    // Give callers arriving together a moment to share the batch.
    if (static_cast<int>(picked.size()) < tuning_.batch_size && head.attempts == 0 &&
        now < head.enqueued + tuning_.linger) {
      wake_.WaitWithTimeout(&mu_, head.enqueued + tuning_.linger - now);
      return false;
    }
  }
  bucket_.Reserve(now);
  for (auto it : picked) group->push_back(std::move(*it));
  queue_.erase(std::remove(queue_.begin(), queue_.end(), nullptr), queue_.end());
  ++in_flight_;
  stats_.http_requests++;
  return true;
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
  if (outcome == HttpOutcome::kRedirect) observer_->OnRedirect(options_.name);
  if (response.failure != TransportFailure::kNone) {
    observer_->OnTransportFailure(options_.name, response.failure_message);
  }
  std::vector<Completion> completions;
  {
    absl::MutexLock lock(&mu_);
    --in_flight_;
    if (IsRedirect(response)) {
      // The portal's domain changed; nothing was executed. Re-send (as POST,
      // with the same body) to the new host.
      stats_.redirects++;
      credentials_->MoveTo(response.headers.at("location"));
      for (auto& p : group) {
        if (++p->redirects > 3) {
          Fail(std::move(p),
               GatewayError(absl::StatusCode::kUnavailable, kReasonTransport,
                            "the portal redirected more than 3 times"),
               &completions);
        } else {
          RetryNotExecuted(std::move(p),
                           GatewayError(absl::StatusCode::kUnavailable, kReasonTransport,
                                        "the portal moved (302) and the deadline ran out"),
                           RetryReason::kRedirect, /*backoff=*/false, &completions);
        }
      }
      wake_.Signal();
    } else if (keys.empty()) {
      HandleSingle(std::move(group[0]), response, &completions);
    } else if (group[0]->is_batch) {
      HandleUserBatch(std::move(group[0]), response, &completions);
    } else {
      HandleCoalesced(std::move(group), keys, response, &completions);
    }
    wake_.Signal();
  }
  for (auto& c : completions) c();
}

void Portal::RefreshThenRequeue(std::vector<PendingPtr> group, int64_t generation) {
  auto shared = std::make_shared<std::vector<PendingPtr>>(std::move(group));
  credentials_->Refresh(generation, [this, shared](absl::Status status) {
    observer_->OnTokenRefresh(options_.name, status.ok());
    std::vector<Completion> completions;
    {
      absl::MutexLock lock(&mu_);
      --in_flight_;
      for (auto& p : *shared) {
        if (status.ok()) {
          observer_->OnRetry(options_.name, p->method, RetryReason::kTokenRefresh,
                             absl::ZeroDuration());
          queue_.push_front(std::move(p));
        } else {
          Fail(std::move(p), status, &completions);
        }
      }
      wake_.Signal();
    }
    for (auto& c : completions) c();
  });
}

void Portal::HandleSingle(PendingPtr p, const HttpResponse& response,
                          std::vector<Completion>* completions) {
  if (response.failure == TransportFailure::kNotSent) {
    ServerTrouble();
    RetryNotExecuted(std::move(p),
                     Unreachable(response), RetryReason::kNotSent,
                     /*backoff=*/true, completions);
    return;
  }
  absl::StatusOr<CommandOutcome> outcome = ParseCallResponse(response);
  if (!outcome.ok()) {
    OnOutcomeUnknown(std::move(p), outcome.status(), completions);
    return;
  }
  if (outcome->error) {
    OnB24Error(std::move(p), *outcome->error, completions);
    return;
  }
  Succeed(std::move(p), std::move(*outcome->reply), completions);
}

void Portal::HandleCoalesced(std::vector<PendingPtr> group, const std::vector<std::string>& keys,
                             const HttpResponse& response, std::vector<Completion>* completions) {
  if (response.failure == TransportFailure::kNotSent) {
    ServerTrouble();
    for (auto& p : group) {
      RetryNotExecuted(std::move(p),
                       Unreachable(response), RetryReason::kNotSent,
                       /*backoff=*/true, completions);
    }
    return;
  }
  absl::StatusOr<BatchReply> reply = ParseBatchResponse(response, keys);
  if (!reply.ok()) {
    // Each command decides for itself: reads are repeated, writes are not.
    for (auto& p : group) OnOutcomeUnknown(std::move(p), reply.status(), completions);
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

void Portal::HandleUserBatch(PendingPtr p, const HttpResponse& response,
                             std::vector<Completion>* completions) {
  if (response.failure == TransportFailure::kNotSent) {
    ServerTrouble();
    RetryNotExecuted(std::move(p),
                     Unreachable(response), RetryReason::kNotSent,
                     /*backoff=*/true, completions);
    return;
  }
  std::vector<std::string> keys;
  for (const auto& c : p->commands) keys.push_back(c.key);
  absl::StatusOr<BatchReply> reply = ParseBatchResponse(response, keys);
  if (!reply.ok()) {
    OnOutcomeUnknown(std::move(p), reply.status(), completions);
    return;
  }
  absl::Time now = clock_->Now();
  operating_.Observe("batch", reply->time, now);
  if (reply->batch_error) {
    OnB24Error(std::move(p), *reply->batch_error, completions);
    return;
  }
  BatchResult result;
  for (const auto& c : p->commands) {
    auto it = reply->outcomes.find(c.key);
    if (it == reply->outcomes.end()) continue;
    if (it->second.error) {
      const B24Error& e = *it->second.error;
      observer_->OnBitrixError(options_.name, c.method, e.code, e.description);
      if (e.code == "OPERATION_TIME_LIMIT") {
        operating_.Blocked(c.method, nullptr, now);
        stats_.operating_blocked++;
      }
      result.outcomes.emplace(c.key, B24ErrorStatus(e.code, e.description, e.http_status));
    } else {
      operating_.Observe(c.method, it->second.reply->time, now);
      result.outcomes.emplace(c.key, std::move(*it->second.reply));
    }
  }
  completions->push_back(
      [done = std::move(p->batch_done), result = std::move(result)]() mutable {
        done(std::move(result));
      });
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
  queue_.push_front(std::move(p));
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
  if (p->is_batch) {
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
  wake_.SignalAll();
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
  const BucketPolicy& policy = bucket_.policy();
  b.bucket_level = bucket_.Level(now);
  b.bucket_usable = std::max(1.0, policy.burst - policy.headroom);
  b.drain_per_second = policy.drain_per_second;
  b.requests_free_now = std::max(0.0, b.bucket_usable - b.bucket_level);
  b.in_flight = in_flight_;
  b.max_in_flight = std::min(tuning_.max_concurrency, autothrottle_.concurrency());
  b.queued = static_cast<int>(queue_.size());
  b.operating_used = absl::Seconds(operating_.Operating(normalized));
  b.operating_left = std::max(absl::ZeroDuration(), tuning_.operating.limit -
                                                        tuning_.operating.margin - b.operating_used);
  absl::Time ready = operating_.ReadyAt(normalized);
  if (ready > now) b.paused_until = ready;
  return b;
}

PortalStats Portal::Stats() const {
  absl::MutexLock lock(&mu_);
  PortalStats s = stats_;
  absl::Time now = clock_->Now();
  s.queued = static_cast<double>(queue_.size());
  s.in_flight = in_flight_;
  s.bucket_level = bucket_.Level(now);
  s.operating = operating_.Snapshot();
  for (const auto& [method, seconds] : s.operating) s.paused[method] = operating_.ReadyAt(method) > now;
  s.concurrency_limit = std::min(tuning_.max_concurrency, autothrottle_.concurrency());
  s.rate_factor = autothrottle_.rate_factor();
  s.slowdowns = autothrottle_.slowdowns();
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
    wake_.SignalAll();
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
  wake_.Signal();
  return false;
}

}  // namespace b24gate
