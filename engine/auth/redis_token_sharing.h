// TokenSharing in Redis: the tokens of one OAuth application on one portal
// as a JSON string without expiry, written by a script that compares
// versions (never over a higher one), and the refresh lock as a key with a
// random value and an expiry, taken by a script that counts the lock as taken
// when it already holds this holder's value (a retried attempt whose first
// reply timed out), released by a compare-and-delete script so that a holder
// whose lock has expired never deletes the next holder's.
//
// The tokens are secrets: whoever can read this Redis can call the portal
// (keep it private to the gateways, see deploy/README.md).
//
// Thread-safety: thread-safe.
#ifndef B24GATE_ENGINE_AUTH_REDIS_TOKEN_SHARING_H_
#define B24GATE_ENGINE_AUTH_REDIS_TOKEN_SHARING_H_

#include <memory>
#include <string>

#include "absl/synchronization/mutex.h"
#include "engine/auth/token_sharing.h"
#include "engine/redis/redis_client.h"

namespace b24gate {

class RedisTokenSharing : public TokenSharing {
 public:
  // `redis` may be shared with other users. Keys start with `key_prefix`
  // ("b24gate:"); `portal` and `client_id` name the tokens: replicas
  // configured alike share them.
  RedisTokenSharing(std::shared_ptr<RedisClient> redis, const std::string& key_prefix,
                    const std::string& portal, const std::string& client_id);

  absl::StatusOr<std::optional<SharedTokens>> Load() override;
  absl::StatusOr<bool> Lock(absl::Duration ttl) override;
  absl::Status Unlock() override;
  absl::StatusOr<bool> Store(const SharedTokens& tokens) override;

 private:
  const std::shared_ptr<RedisClient> redis_;
  const std::string tokens_key_;
  const std::string lock_key_;

  absl::Mutex mu_;
  // The value the lock holds or may hold (an attempt without an answer);
  // empty when it holds none of ours.
  std::string lock_value_ ABSL_GUARDED_BY(mu_);
};

}  // namespace b24gate

#endif  // B24GATE_ENGINE_AUTH_REDIS_TOKEN_SHARING_H_
