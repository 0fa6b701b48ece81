// An OAuth portal's current tokens, shared by the gateway's replicas, and the
// lock that lets one of them at a time refresh (README "OAuth with several
// replicas").
//
// Bitrix24 refuses a refresh token once it has been used, so replicas that
// each refreshed on their own would lock each other out. With sharing, a
// replica that needs a new access token first looks at the shared tokens (a
// higher version than the pair it holds is simply taken); otherwise it takes
// the lock, looks again, and only then refreshes, with the shared refresh
// token, and writes the new pair back before releasing the lock. The others
// wait for the shared tokens to change. A replica that refreshed without the
// lock (store out of reach) writes its pair, as the next version, once the
// store answers.
//
// Every command may have run although its reply timed out, so each is safe
// to send again: Lock() with the value of the attempt that timed out counts
// a lock already held with that value as taken, Unlock() deletes only a lock
// holding this object's value, and Store() writes only over a lower version
// (a compare-and-set: a write sent twice, or one racing a newer pair, never
// replaces the newer pair).
//
// Thread-safety: implementations are safe for concurrent use.
#ifndef B24GATE_ENGINE_AUTH_TOKEN_SHARING_H_
#define B24GATE_ENGINE_AUTH_TOKEN_SHARING_H_

#include <cstdint>
#include <optional>
#include <string>

#include "absl/status/statusor.h"
#include "absl/time/time.h"

namespace b24gate {

struct SharedTokens {
  std::string access_token;
  std::string refresh_token;
  std::string base_url;  // the client_endpoint of the last refresh; may be empty
  int64_t version = 0;   // +1 per refresh; decides which pair is newer
};

class TokenSharing {
 public:
  virtual ~TokenSharing() = default;
  // The shared tokens; nullopt when none were shared yet. UNAVAILABLE when
  // the store cannot be reached (the caller then refreshes on its own).
  virtual absl::StatusOr<std::optional<SharedTokens>> Load() = 0;
  // Takes the refresh lock for at most `ttl` (it frees itself after that,
  // should its holder die); false when another replica holds it. After an
  // error the lock may be held (the command may have run): call Lock()
  // again, which then counts this object's own lock as taken, or Unlock().
  virtual absl::StatusOr<bool> Lock(absl::Duration ttl) = 0;
  // Releases the lock if it holds this object's value (never another's). OK
  // also when nothing was held; after an error, calling again is safe.
  virtual absl::Status Unlock() = 0;
  // Writes `tokens` unless the store holds a version as high or higher:
  // true when written, false when not (the store has moved on).
  virtual absl::StatusOr<bool> Store(const SharedTokens& tokens) = 0;
};

}  // namespace b24gate

#endif  // B24GATE_ENGINE_AUTH_TOKEN_SHARING_H_
