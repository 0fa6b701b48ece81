#include "engine/auth/credentials.h"

#include <nlohmann/json.hpp>

#include "absl/strings/str_cat.h"
#include "engine/common/errors.h"
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

OAuthCredentials::OAuthCredentials(OAuthOptions options, std::unique_ptr<TokenStore> store,
                                   HttpTransport* transport, TlsOptions tls)
    : options_(std::move(options)), store_(std::move(store)), transport_(transport), tls_(tls) {
  base_url_ = options_.portal_url;
  absl::StatusOr<std::string> saved = store_->Load();
  // The stored token is newer than the configured one whenever it exists:
  // every refresh rotates it.
  refresh_token_ = saved.ok() ? *saved : options_.refresh_token;
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

void OAuthCredentials::Refresh(int64_t generation, std::function<void(absl::Status)> done) {
  absl::Status immediate;
  bool answer_now = false;
  bool start = false;
  HttpRequest request;
  {
    absl::MutexLock lock(&mu_);
    if (!refused_.ok()) {
      immediate = refused_;
      answer_now = true;
    } else if (generation_ > generation && !access_token_.empty()) {
      answer_now = true;  // someone refreshed after this caller's request went out
    } else {
      waiters_.push_back(std::move(done));
      if (!refreshing_) {
        refreshing_ = true;
        start = true;
        nlohmann::ordered_json query = {{"grant_type", "refresh_token"},
                                {"client_id", options_.client_id},
                                {"client_secret", options_.client_secret},
                                {"refresh_token", refresh_token_}};
        request.method = "GET";
        request.url = absl::StrCat(options_.oauth_url, "?", HttpBuildQuery(query));
        request.timeout = absl::Seconds(30);
        request.tls = tls_;
      }
    }
  }
  if (answer_now) {
    done(immediate);
  } else if (start) {
    transport_->Send(std::move(request), [this](HttpResponse r) { OnRefreshed(std::move(r)); });
  }
}

void OAuthCredentials::OnRefreshed(HttpResponse response) {
  absl::Status status;
  nlohmann::ordered_json body = nlohmann::ordered_json::parse(response.body, nullptr, /*allow_exceptions=*/false);
  if (response.failure != TransportFailure::kNone) {
    status = GatewayError(absl::StatusCode::kUnavailable, kReasonTransport,
                          absl::StrCat("OAuth server unreachable: ", response.failure_message));
  } else if (body.is_object() && body.contains("error")) {
    std::string code = body["error"].is_string() ? body["error"].get<std::string>() : "";
    std::string description = body.value("error_description", "");
    status = B24ErrorStatus(code, absl::StrCat("OAuth token refresh refused: ", code,
                                               description.empty() ? "" : " (" + description + ")"),
                            response.status);
    if (code == "invalid_grant" || code == "invalid_client") {
      status = GatewayError(absl::StatusCode::kUnauthenticated, code, status.message());
    }
  } else if (!body.is_object() || !body.contains("access_token") ||
             !body.contains("refresh_token")) {
    status = GatewayError(absl::StatusCode::kUnavailable, kReasonBadResponse,
                          absl::StrCat("OAuth server answered HTTP ", response.status,
                                       " without access_token/refresh_token"));
  }
  std::vector<std::function<void(absl::Status)>> waiters;
  {
    absl::MutexLock lock(&mu_);
    if (status.ok()) {
      std::string refresh = body["refresh_token"].get<std::string>();
      // Persist first: the old refresh token is dead from now on. If the
      // store fails, the token still works in memory; the failure is counted
      // (persist_failures) so the operator can see it.
      if (!store_->Save(refresh).ok()) persist_failures_++;
      refresh_token_ = refresh;
      access_token_ = body["access_token"].get<std::string>();
      if (body.contains("client_endpoint") && body["client_endpoint"].is_string()) {
        base_url_ = body["client_endpoint"].get<std::string>();
        if (!base_url_.empty() && base_url_.back() != '/') base_url_.push_back('/');
      }
      generation_++;
      refreshes_++;
    } else if (status.code() == absl::StatusCode::kUnauthenticated) {
      refused_ = status;
    }
    refreshing_ = false;
    waiters.swap(waiters_);
  }
  for (auto& w : waiters) w(status);
}

}  // namespace b24gate
