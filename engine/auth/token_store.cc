#include "engine/auth/token_store.h"

#include <fstream>
#include <sstream>

#include "absl/strings/ascii.h"
#include "absl/strings/str_cat.h"
#include "engine/common/atomic_file.h"

namespace b24gate {

absl::StatusOr<std::string> FileTokenStore::Load() {
  absl::MutexLock lock(&mu_);
  std::ifstream in(path_);
  if (!in) return absl::NotFoundError(absl::StrCat("no token file at ", path_));
  std::stringstream text;
  text << in.rdbuf();
  std::string token(absl::StripAsciiWhitespace(text.str()));
  if (token.empty()) return absl::NotFoundError(absl::StrCat("token file ", path_, " is empty"));
  return token;
}

absl::Status FileTokenStore::Save(const std::string& refresh_token) {
  absl::MutexLock lock(&mu_);
  return WriteFileAtomically(path_, refresh_token + "\n");
}

absl::StatusOr<std::string> MemoryTokenStore::Load() {
  absl::MutexLock lock(&mu_);
  if (token_.empty()) return absl::NotFoundError("no token saved");
  return token_;
}

absl::Status MemoryTokenStore::Save(const std::string& refresh_token) {
  absl::MutexLock lock(&mu_);
  token_ = refresh_token;
  return absl::OkStatus();
}

}  // namespace b24gate
