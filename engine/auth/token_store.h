// Where an OAuth portal's refresh token lives between restarts.
//
// Bitrix24 rotates the refresh token on every refresh and refuses the old
// one, so the new token must be on disk before the new access token is used:
// a crash between the two would otherwise lose access for good. Save() writes
// a temporary file, fsyncs it and renames it over the old one (atomic on
// POSIX), then fsyncs the directory.
//
// Thread-safety: implementations are safe for concurrent use.
#ifndef B24GATE_ENGINE_AUTH_TOKEN_STORE_H_
#define B24GATE_ENGINE_AUTH_TOKEN_STORE_H_

#include <string>

#include "absl/status/statusor.h"
#include "absl/synchronization/mutex.h"

namespace b24gate {

class TokenStore {
 public:
  virtual ~TokenStore() = default;
  // NOT_FOUND when nothing was saved yet.
  virtual absl::StatusOr<std::string> Load() = 0;
  virtual absl::Status Save(const std::string& refresh_token) = 0;
};

class FileTokenStore : public TokenStore {
 public:
  explicit FileTokenStore(std::string path) : path_(std::move(path)) {}
  absl::StatusOr<std::string> Load() override;
  absl::Status Save(const std::string& refresh_token) override;

 private:
  const std::string path_;
  absl::Mutex mu_;
};

// Keeps the token in memory only (tests, or when no path is configured).
class MemoryTokenStore : public TokenStore {
 public:
  absl::StatusOr<std::string> Load() override;
  absl::Status Save(const std::string& refresh_token) override;

 private:
  absl::Mutex mu_;
  std::string token_ ABSL_GUARDED_BY(mu_);
};

}  // namespace b24gate

#endif  // B24GATE_ENGINE_AUTH_TOKEN_STORE_H_
