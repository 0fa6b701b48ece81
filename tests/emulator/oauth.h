// The OAuth side of the portal (docs/bitrix24-protocol.md, "OAuth"): one application
// (client_id/client_secret), refresh-token rotation and expiring access
// tokens. Every refresh issues a new refresh token and invalidates the one
// used (a second use is 400 invalid_grant); access tokens stay valid until
// they expire, also after a refresh.
//
// Thread-safety: safe for concurrent use.
#ifndef B24EMU_OAUTH_H_
#define B24EMU_OAUTH_H_

#include <cstdint>
#include <map>
#include <random>
#include <set>
#include <string>

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

  // Serves /oauth/token/ with the merged request parameters. `portal_url` is
  // this server's base ("https://host:port"), used for client_endpoint/domain.
  TokenReply HandleTokenRequest(const nlohmann::ordered_json& params,
                                const std::string& portal_url);

  // Classifies an access token; fills *user_id when valid.
  AccessCheck CheckAccessToken(const std::string& token, int64_t* user_id) const;

  // Makes every access token issued so far expired (control endpoint).
  void ExpireAccessTokens();

  // The key operating time is tracked under for this application.
  std::string CredentialKey() const { return "app:" + options_.client_id; }

 private:
  std::string NewTokenLocked() ABSL_EXCLUSIVE_LOCKS_REQUIRED(mu_);

  const OAuthOptions options_;
  const Clock* const clock_;
  mutable absl::Mutex mu_;
  std::mt19937_64 rng_ ABSL_GUARDED_BY(mu_);
  std::string initial_refresh_ ABSL_GUARDED_BY(mu_);
  std::map<std::string, absl::Time> refresh_tokens_ ABSL_GUARDED_BY(mu_);  // token -> expiry
  std::map<std::string, absl::Time> access_tokens_ ABSL_GUARDED_BY(mu_);   // token -> expiry
};

}  // namespace b24emu

#endif  // B24EMU_OAUTH_H_
