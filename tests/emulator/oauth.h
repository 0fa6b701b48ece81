// The OAuth side of the portal (docs/bitrix24-protocol.md, "OAuth"): one application
// (client_id/client_secret), refresh-token rotation and expiring access
// tokens. Every refresh issues a new refresh token and invalidates the one
// used (a second use is 400 invalid_grant); access tokens stay valid until
// they expire, also after a refresh, unless `revoke_on_refresh` (the older
// Bitrix24 documentation: a refresh also ends the access token issued with
// the refresh token used). A token presented after it was rotated away (a
// used refresh token, a revoked access token still within its lifetime) is
// counted: a client that does so has lost its chain on a real portal.
//
// Thread-safety: safe for concurrent use.
#ifndef B24EMU_OAUTH_H_
#define B24EMU_OAUTH_H_

#include <cstdint>
#include <deque>
#include <map>
#include <random>
#include <set>
#include <string>
#include <utility>

#include <nlohmann/json.hpp>

#include "absl/base/thread_annotations.h"
#include "absl/synchronization/mutex.h"
#include "absl/time/time.h"
#include "tests/emulator/clock.h"

namespace b24emu {

struct OAuthOptions {
  std::string client_id;
  std::string client_secret;
  // Empty: a random one is generated (read it with InitialRefreshToken()).
  std::string initial_refresh_token;
  absl::Duration access_lifetime = absl::Seconds(3600);  // already time-scaled
  absl::Duration refresh_lifetime = absl::Hours(24 * 180);
  int64_t user_id = 1;
  // The answer's member_id, and the tail of every token issued (real tokens
  // end in a portal/user part; many portals in one emulator tell their
  // tokens apart by it).
  std::string member_id = "b24emu0000000000000000000000member";
  std::string token_suffix = "000071e8000000010000";
  bool revoke_on_refresh = false;
};

// An /oauth/token/ answer: HTTP status and JSON body.
struct TokenReply {
  int http_status = 200;
  nlohmann::ordered_json body;
};

enum class AccessCheck { kValid, kExpired, kUnknown };

class OAuthServer {
 public:
  // `clock` must outlive the server.
  OAuthServer(OAuthOptions options, const Clock* clock);

  std::string InitialRefreshToken() const;
  // The access token issued with the initial refresh token, and its
  // lifetime (an install hands both to the application).
  std::string InitialAccessToken() const;
  absl::Duration access_lifetime() const { return options_.access_lifetime; }
  const std::string& token_suffix() const { return options_.token_suffix; }

  // Tokens presented after their rotation (see above) so far.
  int64_t UsesAfterRotation() const;

  // Serves /oauth/token/ with the merged request parameters. `portal_url` is
  // this server's base ("https://host:port"), used for client_endpoint/domain.
  TokenReply HandleTokenRequest(const nlohmann::ordered_json& params,
                                const std::string& portal_url);

  // Classifies an access token; fills *user_id when valid; counts a
  // revoked one still within its lifetime.
  AccessCheck CheckAccessToken(const std::string& token, int64_t* user_id);

  // Makes every access token issued so far expired (control endpoint).
  void ExpireAccessTokens();

  // The key operating time is tracked under for this application.
  std::string CredentialKey() const { return "app:" + options_.client_id; }

 private:
  struct RefreshEntry {
    absl::Time expiry;
    std::string paired_access;  // issued with it; revoked when it is used
  };
  // How many rotated-away tokens are remembered to be recognised: a client
  // that keeps an old token uses one of its last few.
  static constexpr size_t kRememberedRotations = 16;

  std::string NewTokenLocked() ABSL_EXCLUSIVE_LOCKS_REQUIRED(mu_);
  // Issues an access token paired with a new refresh token.
  std::string IssueLocked(absl::Time now, std::string refresh) ABSL_EXCLUSIVE_LOCKS_REQUIRED(mu_);
  void RememberLocked(std::deque<std::pair<std::string, absl::Time>>* list, std::string token,
                      absl::Time expiry) ABSL_EXCLUSIVE_LOCKS_REQUIRED(mu_);
  static const std::pair<std::string, absl::Time>* FindIn(
      const std::deque<std::pair<std::string, absl::Time>>& list, const std::string& token);

  const OAuthOptions options_;
  const Clock* const clock_;
  mutable absl::Mutex mu_;
  std::mt19937_64 rng_ ABSL_GUARDED_BY(mu_);
  std::string initial_refresh_ ABSL_GUARDED_BY(mu_);
  std::string initial_access_ ABSL_GUARDED_BY(mu_);
  std::map<std::string, RefreshEntry> refresh_tokens_ ABSL_GUARDED_BY(mu_);
  std::map<std::string, absl::Time> access_tokens_ ABSL_GUARDED_BY(mu_);   // token -> expiry
  // The last rotated-away tokens, oldest first: (token, expiry it had).
  std::deque<std::pair<std::string, absl::Time>> used_refresh_ ABSL_GUARDED_BY(mu_);
  std::deque<std::pair<std::string, absl::Time>> revoked_access_ ABSL_GUARDED_BY(mu_);
  int64_t uses_after_rotation_ ABSL_GUARDED_BY(mu_) = 0;
};

}  // namespace b24emu

#endif  // B24EMU_OAUTH_H_
