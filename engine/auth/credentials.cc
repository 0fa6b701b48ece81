#include "engine/auth/credentials.h"

#include <algorithm>

#include <nlohmann/json.hpp>

#include "absl/strings/str_cat.h"
#include "absl/synchronization/notification.h"
#include "engine/common/errors.h"
#include "engine/bitrix/bitrix_response.h"
#include "engine/bitrix/query_encoder.h"

namespace b24gate {
namespace {

// "https://host:1/x/y" -> "https://host:1"
std::string OriginOf(const std::string& url) {
  size_t scheme = url.find("://");
  if (scheme == std::string::npos) return "";
  size_t path = url.find('/', scheme + 3);
  return path == std::string::npos ? url : url.substr(0, path);
}

}  // namespace

std::string WithOriginOf(const std::string& url, const std::string& location) {
  std::string from = OriginOf(url);
  std::string to = OriginOf(location);
  if (from.empty() || to.empty()) return url;
  return to + url.substr(from.size());
}

Auth WebhookCredentials::Current() {
  absl::MutexLock lock(&mu_);
  return Auth{base_url_, "", 0, false};
}

void WebhookCredentials::Refresh(int64_t, std::function<void(absl::Status)> done) {
  done(absl::UnauthenticatedError("a webhook has no token to refresh"));
}

void WebhookCredentials::MoveTo(const std::string& location) {
  absl::MutexLock lock(&mu_);
  base_url_ = WithOriginOf(base_url_, location);
}

OAuthCredentials::OAuthCredentials(OAuthOptions options, std::shared_ptr<TokenStore> store,
                                   HttpTransport* transport, TlsOptions tls, Clock* clock)
    : options_(std::move(options)),
      store_(std::move(store)),
      transport_(transport),
      tls_(tls),
      clock_(clock) {
  base_url_ = options_.portal_url;
  absl::StatusOr<StoredTokens> saved = store_->LoadTokens();
  // The stored token is newer than the configured one whenever it exists:
  // every refresh rotates it.
  refresh_token_ = saved.ok() ? saved->refresh_token : options_.refresh_token;
  if (saved.ok() && options_.sharing && saved->version > 0) RestoreShared(*saved);
}

void OAuthCredentials::RestoreShared(const StoredTokens& saved) {
  absl::MutexLock lock(&mu_);
  // The pair this replica last held, at its shared version. It may never
  // have reached the store (refreshed on its own, then a restart): offered
  // to the store at once, which takes it only over a lower version, so an
  // older shared pair never replaces it.
  access_token_ = saved.access_token;
  if (!saved.base_url.empty()) base_url_ = saved.base_url;
  shared_version_ = saved.version;
  unshared_ = SharedTokens{saved.access_token, saved.refresh_token, saved.base_url, saved.version};
  worker_running_ = true;
  sharing_thread_ = std::thread(&OAuthCredentials::SharingWork, this);
}

OAuthCredentials::~OAuthCredentials() {
  std::thread worker;
  {
    absl::MutexLock lock(&mu_);
    stopping_ = true;
    worker.swap(sharing_thread_);
  }
  if (worker.joinable()) worker.join();
}

Auth OAuthCredentials::Current() {
  absl::MutexLock lock(&mu_);
  return Auth{base_url_, access_token_, generation_, access_token_.empty()};
}

int64_t OAuthCredentials::refreshes() const {
  absl::MutexLock lock(&mu_);
  return refreshes_;
}

int64_t OAuthCredentials::persist_failures() const {
  absl::MutexLock lock(&mu_);
  return persist_failures_;
}

void OAuthCredentials::MoveTo(const std::string& location) {
  absl::MutexLock lock(&mu_);
  base_url_ = WithOriginOf(base_url_, location);
}

HttpRequest OAuthCredentials::RefreshRequest(const std::string& refresh_token) const {
  nlohmann::ordered_json query = {{"grant_type", "refresh_token"},
                                  {"client_id", options_.client_id},
                                  {"client_secret", options_.client_secret},
                                  {"refresh_token", refresh_token}};
  HttpRequest request;
  request.method = "GET";
  request.url = absl::StrCat(options_.oauth_url, "?", HttpBuildQuery(query));
  request.timeout = absl::Seconds(30);
  request.tls = tls_;
  return request;
}

void OAuthCredentials::Refresh(int64_t generation, std::function<void(absl::Status)> done) {
  absl::Status immediate;
  bool answer_now = false;
  bool start = false;
  HttpRequest request;
  std::thread finished;
  {
    absl::MutexLock lock(&mu_);
    if (!refused_.ok() && !options_.sharing) {
      immediate = refused_;
      answer_now = true;
    } else if (generation_ > generation && !access_token_.empty()) {
      answer_now = true;  // someone refreshed after this caller's request went out
    } else {
      waiters_.push_back(std::move(done));
      if (!refreshing_) {
        refreshing_ = true;
        start = true;
        if (options_.sharing) {
          // A running sharing thread sees refreshing_; else the last one has
          // ended (or is about to: worker_running_ is its last change).
          if (!worker_running_) {
            worker_running_ = true;
            finished.swap(sharing_thread_);
            sharing_thread_ = std::thread(&OAuthCredentials::SharingWork, this);
          }
        } else {
          request = RefreshRequest(refresh_token_);
        }
      }
    }
  }
  if (finished.joinable()) {
    // A waiter of the last refresh may call again from that refresh's thread.
    if (finished.get_id() == std::this_thread::get_id()) {
      finished.detach();
    } else {
      finished.join();
    }
  }
  if (answer_now) {
    done(immediate);
  } else if (start && !options_.sharing) {
    transport_->Send(std::move(request), [this](HttpResponse r) { OnRefreshed(std::move(r)); });
  }
}

absl::StatusOr<OAuthCredentials::Issued> OAuthCredentials::ParseAnswer(const HttpResponse& response) {
  if (response.failure != TransportFailure::kNone) {
    return GatewayError(absl::StatusCode::kUnavailable, kReasonTransport,
                        absl::StrCat("OAuth server unreachable: ", response.failure_message));
  }
  // Bounded like a portal's answer; anything unreadable is discarded JSON,
  // refused below as an answer without tokens.
  nlohmann::ordered_json body =
      ReadAnswerJson(response.body).value_or(nlohmann::ordered_json::value_t::discarded);
  if (body.is_object() && body.contains("error")) {
    std::string code = body["error"].is_string() ? body["error"].get<std::string>() : "";
    std::string description = body.value("error_description", "");
    absl::Status status = B24ErrorStatus(code, absl::StrCat("OAuth token refresh refused: ", code,
                                                            description.empty() ? "" : " (" + description + ")"),
                                         response.status);
    if (code == "invalid_grant" || code == "invalid_client") {
      status = GatewayError(absl::StatusCode::kUnauthenticated, code, status.message());
    }
    return status;
  }
  if (!body.is_object() || !body.contains("access_token") || !body.contains("refresh_token") ||
      !body["access_token"].is_string() || !body["refresh_token"].is_string()) {
    return GatewayError(absl::StatusCode::kUnavailable, kReasonBadResponse,
                        absl::StrCat("OAuth server answered HTTP ", response.status,
                                     " without access_token/refresh_token"));
  }
  Issued issued;
  issued.access_token = body["access_token"].get<std::string>();
  issued.refresh_token = body["refresh_token"].get<std::string>();
  if (body.contains("client_endpoint") && body["client_endpoint"].is_string()) {
    issued.client_endpoint = body["client_endpoint"].get<std::string>();
    if (!issued.client_endpoint.empty() && issued.client_endpoint.back() != '/') {
      issued.client_endpoint.push_back('/');
    }
  }
  return issued;
}

void OAuthCredentials::Adopt(const std::string& access_token, const std::string& refresh_token,
                             const std::string& base_url, int64_t unshared_version) {
  // Persist first: the old refresh token is dead from now on. If the store
  // fails, the token still works in memory; the failure is counted
  // (persist_failures) so the operator can see it.
  bool rotated;
  {
    absl::MutexLock lock(&mu_);
    rotated = refresh_token != refresh_token_;
  }
  const bool saved =
      !rotated ||
      store_->SaveTokens(StoredTokens{refresh_token, access_token, base_url, unshared_version}).ok();
  absl::MutexLock lock(&mu_);
  if (!saved) persist_failures_++;
  refresh_token_ = refresh_token;
  access_token_ = access_token;
  if (!base_url.empty()) base_url_ = base_url;
  generation_++;
}

void OAuthCredentials::Finish(absl::Status status) {
  std::vector<std::function<void(absl::Status)>> waiters;
  {
    absl::MutexLock lock(&mu_);
    // Shared: RefreshWithFirstOf keeps the refused tokens instead, so tokens
    // other replicas write later are still tried.
    if (status.code() == absl::StatusCode::kUnauthenticated && !options_.sharing) refused_ = status;
    refreshing_ = false;
    waiters.swap(waiters_);
  }
  for (auto& w : waiters) w(status);
}

void OAuthCredentials::OnRefreshed(HttpResponse response) {
  absl::StatusOr<Issued> issued = ParseAnswer(response);
  if (issued.ok()) {
    Adopt(issued->access_token, issued->refresh_token, issued->client_endpoint, 0);
    absl::MutexLock lock(&mu_);
    refreshes_++;
  }
  Finish(issued.status());
}

absl::StatusOr<OAuthCredentials::Issued> OAuthCredentials::RefreshNow(const std::string& refresh_token) {
  absl::Notification answered;
  HttpResponse response;
  transport_->Send(RefreshRequest(refresh_token), [&](HttpResponse r) {
    response = std::move(r);
    answered.Notify();
  });
  answered.WaitForNotification();
  absl::StatusOr<Issued> issued = ParseAnswer(response);
  if (issued.ok()) {
    absl::MutexLock lock(&mu_);
    refreshes_++;
  }
  return issued;
}

absl::StatusOr<OAuthCredentials::Issued> OAuthCredentials::RefreshWithFirstOf(
    const std::vector<std::string>& candidates) {
  absl::StatusOr<Issued> issued = absl::UnknownError("no refresh token");
  bool tried = false;
  for (const std::string& candidate : candidates) {
    {
      absl::MutexLock lock(&mu_);
      if (candidate.empty() || refused_tokens_.contains(candidate)) continue;
    }
    tried = true;
    issued = RefreshNow(candidate);
    if (issued.ok() || issued.status().code() != absl::StatusCode::kUnauthenticated) break;
    absl::MutexLock lock(&mu_);
    refused_tokens_.insert(candidate);
    refused_ = issued.status();
  }
  if (!tried) {
    absl::MutexLock lock(&mu_);
    if (!refused_.ok()) return refused_;
    return GatewayError(absl::StatusCode::kUnauthenticated, "invalid_grant",
                        "OAuth: no refresh token left to try");
  }
  return issued;
}

namespace {

// How long the refresh lock lasts: longer than one refresh request (30 s)
// plus writing its result, so it never frees itself while its holder works.
constexpr absl::Duration kLockTime = absl::Seconds(45);
// How often a replica waiting for another's refresh looks again.
constexpr absl::Duration kPollEvery = absl::Milliseconds(25);
// A replica gives up waiting after this (the holder died: the lock freed
// itself after kLockTime and someone should have taken over).
constexpr absl::Duration kMaxWait = absl::Seconds(100);
// How long the shared store may fail before this replica counts it as out of
// reach and refreshes on its own: one timed-out command (a busy or briefly
// stalled Redis) is not enough, as a refresh of its own would likely spend a
// refresh token another replica already rotated. Longer than the Redis
// client's first reconnect backoff plus a command (100 + 100 ms), so the
// second look reaches Redis; short against a refresh's round trip.
constexpr absl::Duration kStoreGrace = absl::Milliseconds(400);
// Writing a pending pair (or releasing the lock) again, after the store
// failed: from the first wait, doubling up to the last. The first is the
// Redis client's reconnect backoff, so a retry is not refused by it at once.
constexpr absl::Duration kRetryFirst = absl::Milliseconds(100);
constexpr absl::Duration kRetryMax = absl::Seconds(5);

// `attempt()` (a StatusOr), tried again every kPollEvery while it fails, at
// least twice and for up to kStoreGrace: every command to the store is safe
// to send twice (token_sharing.h).
template <typename Attempt>
auto WithGrace(Clock* clock, Attempt attempt) -> decltype(attempt()) {
  const absl::Time until = clock->Now() + kStoreGrace;
  for (int n = 1;; ++n) {
    auto result = attempt();
    if (result.ok() || (n >= 2 && clock->Now() >= until)) return result;
    clock->SleepUntil(clock->Now() + kPollEvery);
  }
}

}  // namespace

absl::Status OAuthCredentials::RefreshAlone(TokenSharing& sharing) {
  std::string refresh_token;
  {
    absl::MutexLock lock(&mu_);
    refresh_token = refresh_token_;
  }
  absl::StatusOr<Issued> issued = RefreshWithFirstOf({refresh_token});
  if (!issued.ok()) return issued.status();
  // The store still holds the pair whose refresh token was just spent: the
  // new one must reach it, as the newest version, or the other replicas'
  // refreshes are refused. The token file keeps it (with its version) until
  // then, should this process end first.
  SharedTokens next{issued->access_token, issued->refresh_token, issued->client_endpoint, 0};
  {
    absl::MutexLock lock(&mu_);
    next.version = shared_version_ + 1;
  }
  Adopt(next.access_token, next.refresh_token, next.base_url, next.version);
  {
    absl::MutexLock lock(&mu_);
    shared_version_ = std::max(shared_version_, next.version);
    unshared_ = next;
  }
  // The store may answer again by now; if not, the sharing thread writes it
  // once it does (SharingWork), after the callers have their answer.
  absl::StatusOr<std::optional<SharedTokens>> shared = sharing.Load();
  if (shared.ok()) ShareUnshared(sharing, &*shared);
  return absl::OkStatus();
}

bool OAuthCredentials::ShareUnshared(TokenSharing& sharing, std::optional<SharedTokens>* shared) {
  std::optional<SharedTokens> mine;
  {
    absl::MutexLock lock(&mu_);
    mine = unshared_;
  }
  if (!mine) return true;
  // A version as new or newer was shared meanwhile: the store moved on
  // without this pair (AdoptIfNewer then decides). Store() checks that
  // again in the store itself: a pair written since the look is never
  // replaced, so the write needs no lock.
  if (!*shared || (*shared)->version < mine->version) {
    absl::StatusOr<bool> stored = sharing.Store(*mine);
    if (!stored.ok()) return false;  // tried again (SharingWork)
    if (*stored) *shared = mine;
  }
  bool current;
  {
    absl::MutexLock lock(&mu_);
    if (unshared_ && unshared_->version == mine->version) unshared_.reset();
    current = refresh_token_ == mine->refresh_token;
  }
  // The token file no longer marks the pair as one to offer at start (a
  // restart then takes the store's pair, as for any pair the store had).
  if (current) (void)store_->SaveTokens(StoredTokens{mine->refresh_token, "", "", 0});
  return true;
}

bool OAuthCredentials::SharePending(TokenSharing& sharing) {
  bool pending;
  {
    absl::MutexLock lock(&mu_);
    pending = unshared_.has_value();
  }
  if (pending) {
    absl::StatusOr<std::optional<SharedTokens>> shared = sharing.Load();
    if (!shared.ok() || !ShareUnshared(sharing, &*shared)) return false;
  }
  // Only now: a replica that takes the lock next finds the pair stored.
  {
    absl::MutexLock lock(&mu_);
    if (!unlock_pending_) return true;
  }
  if (!sharing.Unlock().ok()) return false;
  absl::MutexLock lock(&mu_);
  unlock_pending_ = false;
  return true;
}

OAuthCredentials::SharingJob OAuthCredentials::NextSharingJob(absl::Time retry_at) {
  absl::MutexLock lock(&mu_);
  auto woken = [this]() ABSL_EXCLUSIVE_LOCKS_REQUIRED(mu_) { return refreshing_ || stopping_; };
  auto pending = [this]() ABSL_EXCLUSIVE_LOCKS_REQUIRED(mu_) {
    return unshared_.has_value() || unlock_pending_;
  };
  if (pending() && !woken()) clock_->AwaitWithDeadline(&mu_, absl::Condition(&woken), retry_at);
  if (refreshing_) return SharingJob::kRefresh;  // its callers wait, even at destruction
  if (pending() && !stopping_) return SharingJob::kRetry;
  worker_running_ = false;
  return SharingJob::kExit;
}

void OAuthCredentials::SharingWork() {
  TokenSharing& sharing = *options_.sharing;
  absl::Duration backoff = kRetryFirst;
  // Pending work (RestoreShared) is tried at once.
  absl::Time retry_at = clock_->Now();
  for (;;) {
    switch (NextSharingJob(retry_at)) {
      case SharingJob::kExit:
        return;
      case SharingJob::kRefresh:
        RefreshShared();
        backoff = kRetryFirst;
        retry_at = clock_->Now() + backoff;
        break;
      case SharingJob::kRetry:
        if (SharePending(sharing)) break;
        backoff = std::min(backoff * 2, kRetryMax);
        retry_at = clock_->Now() + backoff;
        break;
    }
  }
}

absl::StatusOr<std::optional<SharedTokens>> OAuthCredentials::LoadShared(TokenSharing& sharing) {
  return WithGrace(clock_, [&sharing] { return sharing.Load(); });
}

bool OAuthCredentials::AdoptIfNewer(const std::optional<SharedTokens>& shared) {
  if (!shared || shared->access_token.empty()) return false;
  {
    absl::MutexLock lock(&mu_);
    // An older or equal version is never newer, whatever its access token:
    // its refresh token may be one this replica already spent.
    if (shared->version <= shared_version_) return false;
    if (shared->access_token == access_token_ && shared->refresh_token == refresh_token_) {
      shared_version_ = shared->version;  // the same pair: nothing to take
      return false;
    }
  }
  Adopt(shared->access_token, shared->refresh_token, shared->base_url, 0);  // the store has it
  absl::MutexLock lock(&mu_);
  shared_version_ = std::max(shared_version_, shared->version);
  return true;
}

OAuthCredentials::SharedStep OAuthCredentials::StepShared(TokenSharing& sharing,
                                                          absl::Status* status) {
  absl::StatusOr<std::optional<SharedTokens>> shared = LoadShared(sharing);
  if (!shared.ok()) return SharedStep::kStoreDown;
  ShareUnshared(sharing, &*shared);
  *status = absl::OkStatus();
  if (AdoptIfNewer(*shared)) return SharedStep::kDone;
  // A lock command whose reply timed out may have taken the lock: the next
  // attempt counts it as taken (token_sharing.h).
  absl::StatusOr<bool> locked =
      WithGrace(clock_, [&sharing] { return sharing.Lock(kLockTime); });
  if (!locked.ok()) {
    // It may hold the lock all the same: released once the store answers.
    absl::MutexLock lock(&mu_);
    unlock_pending_ = true;
    return SharedStep::kStoreDown;
  }
  if (!*locked) return SharedStep::kWait;
  // Another replica may have finished between the look and the lock.
  shared = LoadShared(sharing);
  if (!shared.ok() || AdoptIfNewer(*shared)) {
    ReleaseLock(sharing);
    return shared.ok() ? SharedStep::kDone : SharedStep::kStoreDown;
  }
  *status = RefreshUnderSharedLock(sharing, *shared);
  if (status->code() == absl::StatusCode::kUnauthenticated) {
    // Refused: most likely a pair refreshed on its own elsewhere spent the
    // token and was written meanwhile (without the lock): take it.
    shared = LoadShared(sharing);
    if (shared.ok() && AdoptIfNewer(*shared)) *status = absl::OkStatus();
  }
  return SharedStep::kDone;
}

void OAuthCredentials::ReleaseLock(TokenSharing& sharing) {
  if (sharing.Unlock().ok()) return;
  // Tried again by the sharing thread; meanwhile the others wait for it, or
  // for the lock's time to run out.
  absl::MutexLock lock(&mu_);
  unlock_pending_ = true;
}

void OAuthCredentials::RefreshShared() {
  TokenSharing& sharing = *options_.sharing;
  const absl::Time give_up = clock_->Now() + kMaxWait;
  // Set when this replica's own refresh, made while the store was out of
  // reach, was refused.
  absl::Status refused_alone;
  for (;;) {
    absl::Status status;
    switch (StepShared(sharing, &status)) {
      case SharedStep::kDone:
        return Finish(status);
      case SharedStep::kStoreDown:
        if (!refused_alone.ok()) return Finish(refused_alone);
        status = RefreshAlone(sharing);
        if (status.code() != absl::StatusCode::kUnauthenticated) return Finish(status);
        // Most likely another replica spent that refresh token and shared
        // the next pair: look at the store once more before failing.
        refused_alone = status;
        continue;
      case SharedStep::kWait:  // another replica is refreshing: wait for its tokens
        break;
    }
    if (clock_->Now() >= give_up) {
      return Finish(GatewayError(absl::StatusCode::kUnavailable, kReasonTransport,
                                 "OAuth: gave up waiting for another replica's token refresh"));
    }
    clock_->SleepUntil(clock_->Now() + kPollEvery);
  }
}

absl::Status OAuthCredentials::RefreshUnderSharedLock(TokenSharing& sharing,
                                                      const std::optional<SharedTokens>& shared) {
  // The newer version's refresh token first: usually the shared one; this
  // process's own (from its token file) when it is newer (refreshed while the
  // store was out of reach and not yet stored) or the shared one is refused
  // (Redis lost its data and came back with an older copy).
  std::vector<std::string> candidates;
  int64_t version;
  {
    absl::MutexLock lock(&mu_);
    version = std::max(shared ? shared->version : 0, shared_version_) + 1;
    if (shared && shared->version >= shared_version_) candidates.push_back(shared->refresh_token);
    candidates.push_back(refresh_token_);
    if (shared && shared->version < shared_version_) candidates.push_back(shared->refresh_token);
  }
  absl::StatusOr<Issued> issued = RefreshWithFirstOf(candidates);
  if (!issued.ok()) {
    ReleaseLock(sharing);
    return issued.status();
  }
  SharedTokens next{issued->access_token, issued->refresh_token, issued->client_endpoint, version};
  // Shared before anyone uses the new access token, and before the lock is
  // released, so a replica that takes the lock next finds the new tokens and
  // does not spend the old one. A few tries: the others can only get the new
  // refresh token from here.
  bool stored = false;
  for (int attempt = 0; attempt < 5 && !stored; ++attempt) {
    stored = sharing.Store(next).ok();  // false: a newer pair is there already
    if (!stored) clock_->SleepUntil(clock_->Now() + absl::Milliseconds(100));
  }
  // token_file first; a pair the store did not take is marked to be offered
  // again after a restart.
  Adopt(next.access_token, next.refresh_token, next.base_url, stored ? 0 : next.version);
  {
    absl::MutexLock lock(&mu_);
    shared_version_ = next.version;
    if (stored) {
      unshared_.reset();
    } else {
      // The sharing thread stores it once the store answers, and only then
      // releases the lock: until then the others wait rather than refresh
      // with the spent token.
      persist_failures_++;
      unshared_ = next;
      unlock_pending_ = true;
      return absl::OkStatus();
    }
  }
  ReleaseLock(sharing);
  return absl::OkStatus();
}

}  // namespace b24gate
