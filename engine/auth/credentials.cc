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
  absl::StatusOr<std::string> saved = store_->Load();
  // The stored token is newer than the configured one whenever it exists:
  // every refresh rotates it.
  refresh_token_ = saved.ok() ? *saved : options_.refresh_token;
}

OAuthCredentials::~OAuthCredentials() {
  std::thread worker;
  {
    absl::MutexLock lock(&mu_);
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
          // The previous refresh's thread has ended (or is about to):
          // refreshing_ was false.
          finished.swap(sharing_thread_);
          sharing_thread_ = std::thread(&OAuthCredentials::RefreshShared, this);
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
                             const std::string& base_url) {
  // Persist first: the old refresh token is dead from now on. If the store
  // fails, the token still works in memory; the failure is counted
  // (persist_failures) so the operator can see it.
  bool rotated;
  {
    absl::MutexLock lock(&mu_);
    rotated = refresh_token != refresh_token_;
  }
  const bool saved = !rotated || store_->Save(refresh_token).ok();
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
    Adopt(issued->access_token, issued->refresh_token, issued->client_endpoint);
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

absl::Status OAuthCredentials::RefreshAlone(TokenSharing& sharing) {
  std::string refresh_token;
  {
    absl::MutexLock lock(&mu_);
    refresh_token = refresh_token_;
  }
  absl::StatusOr<Issued> issued = RefreshWithFirstOf({refresh_token});
  if (!issued.ok()) return issued.status();
  Adopt(issued->access_token, issued->refresh_token, issued->client_endpoint);
  {
    // The store still holds the pair whose refresh token was just spent: the
    // new one must reach it, as the newest version, or the other replicas'
    // refreshes are refused.
    absl::MutexLock lock(&mu_);
    unshared_ = SharedTokens{issued->access_token, issued->refresh_token, issued->client_endpoint,
                             ++shared_version_};
  }
  // The store may answer again by now; if not, the next look stores it.
  absl::StatusOr<std::optional<SharedTokens>> shared = sharing.Load();
  if (shared.ok()) ShareUnshared(sharing, &*shared);
  return absl::OkStatus();
}

void OAuthCredentials::ShareUnshared(TokenSharing& sharing, std::optional<SharedTokens>* shared) {
  std::optional<SharedTokens> mine;
  {
    absl::MutexLock lock(&mu_);
    mine = unshared_;
  }
  if (!mine) return;
  // A version as new or newer was shared meanwhile: the store moved on
  // without this pair (AdoptIfNewer then decides).
  if (!*shared || (*shared)->version < mine->version) {
    if (!sharing.Store(*mine).ok()) return;  // tried again at the next look
    *shared = mine;
  }
  absl::MutexLock lock(&mu_);
  unshared_.reset();
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

}  // namespace

absl::StatusOr<std::optional<SharedTokens>> OAuthCredentials::LoadShared(TokenSharing& sharing) {
  const absl::Time until = clock_->Now() + kStoreGrace;
  for (int attempt = 1;; ++attempt) {
    absl::StatusOr<std::optional<SharedTokens>> shared = sharing.Load();
    if (shared.ok() || (attempt >= 2 && clock_->Now() >= until)) return shared;
    clock_->SleepUntil(clock_->Now() + kPollEvery);
  }
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
  Adopt(shared->access_token, shared->refresh_token, shared->base_url);
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
  absl::StatusOr<bool> locked = sharing.Lock(kLockTime);
  if (!locked.ok()) return SharedStep::kStoreDown;
  if (!*locked) return SharedStep::kWait;
  // Another replica may have finished between the look and the lock.
  shared = LoadShared(sharing);
  if (!shared.ok() || AdoptIfNewer(*shared)) {
    sharing.Unlock();
    return shared.ok() ? SharedStep::kDone : SharedStep::kStoreDown;
  }
  *status = RefreshUnderSharedLock(sharing, *shared);
  return SharedStep::kDone;
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
    sharing.Unlock();
    return issued.status();
  }
  SharedTokens next{issued->access_token, issued->refresh_token, issued->client_endpoint, version};
  // Shared before anyone uses the new access token, and before the lock is
  // released, so a replica that takes the lock next finds the new tokens and
  // does not spend the old one. A few tries: the others can only get the new
  // refresh token from here.
  bool stored = false;
  for (int attempt = 0; attempt < 5 && !stored; ++attempt) {
    stored = sharing.Store(next).ok();
    if (!stored) clock_->SleepUntil(clock_->Now() + absl::Milliseconds(100));
  }
  if (!stored) {
    absl::MutexLock lock(&mu_);
    persist_failures_++;
  }
  Adopt(next.access_token, next.refresh_token, next.base_url);  // token_file first
  {
    absl::MutexLock lock(&mu_);
    shared_version_ = next.version;
    // Not stored: the next look stores it (the store has no newer version).
    if (stored) {
      unshared_.reset();
    } else {
      unshared_ = next;
    }
  }
  sharing.Unlock();
  return absl::OkStatus();
}

}  // namespace b24gate
