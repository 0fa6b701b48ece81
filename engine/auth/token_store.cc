#include "engine/auth/token_store.h"

#include <fstream>
#include <sstream>

#include <nlohmann/json.hpp>

#include "absl/strings/ascii.h"
#include "absl/strings/str_cat.h"
#include "engine/common/atomic_file.h"

namespace b24gate {

absl::StatusOr<StoredTokens> TokenStore::LoadTokens() {
  absl::StatusOr<std::string> refresh_token = Load();
  if (!refresh_token.ok()) return refresh_token.status();
  StoredTokens tokens;
  tokens.refresh_token = *std::move(refresh_token);
  return tokens;
}

absl::StatusOr<std::string> FileTokenStore::Load() {
  absl::StatusOr<StoredTokens> tokens = LoadTokens();
  if (!tokens.ok()) return tokens.status();
  return tokens->refresh_token;
}

absl::StatusOr<StoredTokens> FileTokenStore::LoadTokens() {
  absl::MutexLock lock(&mu_);
  std::ifstream in(path_);
  if (!in) return absl::NotFoundError(absl::StrCat("no token file at ", path_));
  std::string first;
  std::string second;
  std::getline(in, first);
  std::getline(in, second);
  StoredTokens tokens;
  tokens.refresh_token = std::string(absl::StripAsciiWhitespace(first));
  if (tokens.refresh_token.empty()) {
    return absl::NotFoundError(absl::StrCat("token file ", path_, " is empty"));
  }
  // The rest of the pair; anything unreadable there leaves the refresh token
  // alone (version 0: any shared pair is newer).
  nlohmann::json rest = nlohmann::json::parse(second, nullptr, /*allow_exceptions=*/false);
  if (rest.is_object() && rest.value("version", int64_t{0}) > 0) {
    tokens.access_token = rest.value("access_token", "");
    tokens.base_url = rest.value("base_url", "");
    tokens.version = rest.value("version", int64_t{0});
  }
  return tokens;
}

absl::Status FileTokenStore::Save(const std::string& refresh_token) {
  return SaveTokens(StoredTokens{refresh_token, "", "", 0});
}

absl::Status FileTokenStore::SaveTokens(const StoredTokens& tokens) {
  std::string content = tokens.refresh_token + "\n";
  if (tokens.version > 0) {
    content += nlohmann::json{{"version", tokens.version},
                              {"access_token", tokens.access_token},
                              {"base_url", tokens.base_url}}
                   .dump() +
               "\n";
  }
  absl::MutexLock lock(&mu_);
  return WriteFileAtomically(path_, content);
}

absl::StatusOr<std::string> MemoryTokenStore::Load() {
  absl::MutexLock lock(&mu_);
  if (tokens_.refresh_token.empty()) return absl::NotFoundError("no token saved");
  return tokens_.refresh_token;
}

absl::Status MemoryTokenStore::Save(const std::string& refresh_token) {
  return SaveTokens(StoredTokens{refresh_token, "", "", 0});
}

absl::StatusOr<StoredTokens> MemoryTokenStore::LoadTokens() {
  absl::MutexLock lock(&mu_);
  if (tokens_.refresh_token.empty()) return absl::NotFoundError("no token saved");
  return tokens_;
}

absl::Status MemoryTokenStore::SaveTokens(const StoredTokens& tokens) {
  absl::MutexLock lock(&mu_);
  tokens_ = tokens;
  return absl::OkStatus();
}

}  // namespace b24gate
