// Where an OAuth portal's refresh token lives between restarts.
//
// Bitrix24 rotates the refresh token on every refresh and refuses the old
// one, so the new token must be on disk before the new access token is used:
// a crash between the two would otherwise lose access for good. Save() writes
// a temporary file, fsyncs it and renames it over the old one (atomic on
// POSIX), then fsyncs the directory.
//
// With tokens shared between replicas, a pair the shared store does not hold
// yet is kept whole with its version (SaveTokens): a replica restarted before
// it could share a pair it refreshed on its own still has that pair, and
// knows it is newer than the one the other replicas share.
//
// Thread-safety: implementations are safe for concurrent use.
#ifndef B24GATE_ENGINE_AUTH_TOKEN_STORE_H_
#define B24GATE_ENGINE_AUTH_TOKEN_STORE_H_

#include <cstdint>
#include <string>

#include "absl/status/statusor.h"
#include "absl/synchronization/mutex.h"

namespace b24gate {

// What SaveTokens keeps. A store that keeps only the refresh token gives
// back the rest empty and version 0.
struct StoredTokens {
  std::string refresh_token;
  std::string access_token;
  std::string base_url;
  // The shared version (token_sharing.h) of a pair the shared store does not
  // hold yet (refreshed while it was out of reach); 0 otherwise.
  int64_t version = 0;
};

class TokenStore {
 public:
  virtual ~TokenStore() = default;
  // The refresh token; NOT_FOUND when nothing was saved yet.
  virtual absl::StatusOr<std::string> Load() = 0;
  virtual absl::Status Save(const std::string& refresh_token) = 0;
  // The whole pair; by default only the refresh token is kept.
  virtual absl::StatusOr<StoredTokens> LoadTokens();
  virtual absl::Status SaveTokens(const StoredTokens& tokens) { return Save(tokens.refresh_token); }
};

// The file holds the refresh token on its first line (what an operator puts
// there by hand), and with SaveTokens the rest of the pair as JSON on the
// second.

class FileTokenStore : public TokenStore {
 public:
  explicit FileTokenStore(std::string path) : path_(std::move(path)) {}
  absl::StatusOr<std::string> Load() override;
  absl::Status Save(const std::string& refresh_token) override;
  absl::StatusOr<StoredTokens> LoadTokens() override;
  absl::Status SaveTokens(const StoredTokens& tokens) override;

 private:
  const std::string path_;
  absl::Mutex mu_;
};

// Keeps the token in memory only (tests, or when no path is configured).
class MemoryTokenStore : public TokenStore {
 public:
  absl::StatusOr<std::string> Load() override;
  absl::Status Save(const std::string& refresh_token) override;
  absl::StatusOr<StoredTokens> LoadTokens() override;
  absl::Status SaveTokens(const StoredTokens& tokens) override;

 private:
  absl::Mutex mu_;
  StoredTokens tokens_ ABSL_GUARDED_BY(mu_);
};

}  // namespace b24gate

#endif  // B24GATE_ENGINE_AUTH_TOKEN_STORE_H_
