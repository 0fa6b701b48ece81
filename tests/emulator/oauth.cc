#include "tests/emulator/oauth.h"

#include <cmath>
#include <utility>

#include "absl/strings/match.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/strip.h"

namespace b24emu {
namespace {

std::string StringParam(const nlohmann::ordered_json& params, const char* name) {
  if (!params.is_object()) return "";
  auto it = params.find(name);
  if (it == params.end() || !it->is_string()) return "";
  return it->get<std::string>();
}

TokenReply OAuthError(int status, const char* code, const char* description) {
  TokenReply reply;
  reply.http_status = status;
  reply.body = {{"error", code}, {"error_description", description}};
  return reply;
}

// Whole seconds when integral (as the real server sends), else fractional so a
// scaled-down lifetime stays exact.
nlohmann::ordered_json Seconds(double s) {
  if (s == std::floor(s)) return static_cast<int64_t>(s);
  return std::round(s * 1000) / 1000;
}

}  // namespace

OAuthServer::OAuthServer(OAuthOptions options, const Clock* clock)
    : options_(std::move(options)), clock_(clock), rng_(std::random_device{}()) {
  absl::MutexLock lock(&mu_);
  initial_refresh_ = options_.initial_refresh_token.empty() ? NewTokenLocked()
                                                             : options_.initial_refresh_token;
  initial_access_ = IssueLocked(clock_->Now(), initial_refresh_);
}

std::string OAuthServer::NewTokenLocked() {
  static constexpr char kHex[] = "0123456789abcdef";
  std::string token;
  for (int i = 0; i < 2; ++i) {
    uint64_t v = rng_();
    for (int k = 0; k < 16; ++k, v >>= 4) token.push_back(kHex[v & 15]);
  }
  token += options_.token_suffix;  // real tokens end in a portal/user suffix
  return token;
}

std::string OAuthServer::IssueLocked(absl::Time now, std::string refresh) {
  std::string access = NewTokenLocked();
  access_tokens_[access] = now + options_.access_lifetime;
  refresh_tokens_[std::move(refresh)] = {now + options_.refresh_lifetime, access};
  return access;
}

void OAuthServer::RememberLocked(std::deque<std::pair<std::string, absl::Time>>* list,
                                 std::string token, absl::Time expiry) {
  list->emplace_back(std::move(token), expiry);
  if (list->size() > kRememberedRotations) list->pop_front();
}

const std::pair<std::string, absl::Time>* OAuthServer::FindIn(
    const std::deque<std::pair<std::string, absl::Time>>& list, const std::string& token) {
  for (const auto& entry : list) {
    if (entry.first == token) return &entry;
  }
  return nullptr;
}

std::string OAuthServer::InitialRefreshToken() const {
  absl::MutexLock lock(&mu_);
  return initial_refresh_;
}

std::string OAuthServer::InitialAccessToken() const {
  absl::MutexLock lock(&mu_);
  return initial_access_;
}

int64_t OAuthServer::UsesAfterRotation() const {
  absl::MutexLock lock(&mu_);
  return uses_after_rotation_;
}

TokenReply OAuthServer::HandleTokenRequest(const nlohmann::ordered_json& params,
                                           const std::string& portal_url) {
  if (StringParam(params, "client_id") != options_.client_id ||
      StringParam(params, "client_secret") != options_.client_secret) {
    return OAuthError(401, "invalid_client", "Invalid client credentials");
  }
  if (StringParam(params, "grant_type") != "refresh_token") {
    return OAuthError(400, "unsupported_grant_type", "Only grant_type=refresh_token is supported");
  }
  const std::string used = StringParam(params, "refresh_token");
  const absl::Time now = clock_->Now();

  absl::MutexLock lock(&mu_);
  auto it = refresh_tokens_.find(used);
  if (it == refresh_tokens_.end() || it->second.expiry <= now) {
    if (FindIn(used_refresh_, used) != nullptr) ++uses_after_rotation_;
    return OAuthError(400, "invalid_grant", "Invalid refresh token");
  }
  const RefreshEntry entry = it->second;
  refresh_tokens_.erase(it);  // rotation: the used token is gone for good
  RememberLocked(&used_refresh_, used, entry.expiry);
  if (options_.revoke_on_refresh) {
    if (auto paired = access_tokens_.find(entry.paired_access); paired != access_tokens_.end()) {
      RememberLocked(&revoked_access_, paired->first, paired->second);
      access_tokens_.erase(paired);
    }
  }
  const std::string refresh = NewTokenLocked();
  const std::string access = IssueLocked(now, refresh);
  const absl::Time expires = now + options_.access_lifetime;

  absl::string_view domain(portal_url);
  if (!absl::ConsumePrefix(&domain, "https://")) absl::ConsumePrefix(&domain, "http://");
  TokenReply reply;
  reply.body = {
      {"access_token", access},
      {"expires", static_cast<int64_t>(std::ceil(absl::ToDoubleSeconds(expires - absl::UnixEpoch())))},
      {"expires_in", Seconds(absl::ToDoubleSeconds(options_.access_lifetime))},
      {"scope", "app"},
      {"domain", domain},
      {"server_endpoint", "https://oauth.bitrix.info/rest/"},
      {"status", "L"},
      {"client_endpoint", portal_url + "/rest/"},
      {"member_id", options_.member_id},
      {"user_id", options_.user_id},
      {"refresh_token", refresh},
  };
  return reply;
}

AccessCheck OAuthServer::CheckAccessToken(const std::string& token, int64_t* user_id) {
  const absl::Time now = clock_->Now();
  absl::MutexLock lock(&mu_);
  auto it = access_tokens_.find(token);
  if (it == access_tokens_.end()) {
    // Revoked by a refresh: still within its lifetime, a use after its
    // rotation (refused as unknown); past it, just expired.
    const auto* revoked = FindIn(revoked_access_, token);
    if (revoked == nullptr) return AccessCheck::kUnknown;
    if (revoked->second <= now) return AccessCheck::kExpired;
    ++uses_after_rotation_;
    return AccessCheck::kUnknown;
  }
  if (it->second <= now) return AccessCheck::kExpired;
  *user_id = options_.user_id;
  return AccessCheck::kValid;
}

void OAuthServer::ExpireAccessTokens() {
  const absl::Time now = clock_->Now();
  absl::MutexLock lock(&mu_);
  for (auto& [token, expiry] : access_tokens_) expiry = std::min(expiry, now);
  for (auto& [token, expiry] : revoked_access_) expiry = std::min(expiry, now);
}

}  // namespace b24emu
