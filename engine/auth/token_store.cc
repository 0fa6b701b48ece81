#include "engine/auth/token_store.h"

#include <fcntl.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>
#include <fstream>
#include <sstream>

#include "absl/strings/ascii.h"
#include "absl/strings/str_cat.h"

namespace b24gate {
namespace {

absl::Status Errno(const std::string& what) {
  return absl::InternalError(absl::StrCat(what, ": ", std::strerror(errno)));
}

absl::Status WriteAll(int fd, const std::string& data) {
  size_t done = 0;
  while (done < data.size()) {
    ssize_t n = write(fd, data.data() + done, data.size() - done);
    if (n < 0) {
      if (errno == EINTR) continue;
      return Errno("write");
    }
    done += static_cast<size_t>(n);
  }
  return absl::OkStatus();
}

}  // namespace

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
  std::string tmp = absl::StrCat(path_, ".tmp");
  int fd = open(tmp.c_str(), O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0600);
  if (fd < 0) return Errno(absl::StrCat("open ", tmp));
  absl::Status s = WriteAll(fd, refresh_token + "\n");
  if (s.ok() && fsync(fd) != 0) s = Errno("fsync");
  close(fd);
  if (!s.ok()) return s;
  if (rename(tmp.c_str(), path_.c_str()) != 0) return Errno(absl::StrCat("rename to ", path_));
  std::string dir = path_.find('/') == std::string::npos ? "." : path_.substr(0, path_.rfind('/'));
  if (dir.empty()) dir = "/";
  int dfd = open(dir.c_str(), O_RDONLY | O_DIRECTORY | O_CLOEXEC);
  if (dfd >= 0) {
    fsync(dfd);
    close(dfd);
  }
  return absl::OkStatus();
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
