#include "tests/emulator/access_log.h"

#include <fcntl.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>
#include <vector>

#include "absl/strings/ascii.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_join.h"
#include "absl/strings/str_split.h"
#include "absl/time/clock.h"
#include "absl/time/time.h"

namespace b24emu {
namespace {

bool AllDigits(absl::string_view s) {
  if (s.empty()) return false;
  for (char c : s) {
    if (!absl::ascii_isdigit(static_cast<unsigned char>(c))) return false;
  }
  return true;
}

}  // namespace

std::string MaskedPath(absl::string_view path) {
  // Empty parts kept: "//rest//1/CODE/m" masks the same part the portal reads.
  std::vector<std::string> parts = absl::StrSplit(path, '/');
  std::vector<size_t> named;  // indexes of the non-empty parts
  for (size_t i = 0; i < parts.size(); ++i) {
    if (!parts[i].empty()) named.push_back(i);
  }
  auto part = [&](size_t k) -> std::string& { return parts[named[k]]; };
  if (!named.empty() && part(0) == "rest") {
    // The webhook's USER_ID/CODE follow /rest/ or /rest/api/.
    size_t user = named.size() > 1 && part(1) == "api" ? 2 : 1;
    if (user + 1 < named.size() && AllDigits(part(user))) part(user + 1) = "***";
  } else if (named.size() == 3 && part(0) == "upload" && part(1) == "b24emu-crm") {
    part(2) = "***";  // a file's link works without credentials
  }
  return absl::StrJoin(parts, "/");
}

absl::StatusOr<std::unique_ptr<AccessLog>> AccessLog::Open(const std::string& path) {
  int fd = open(path.c_str(), O_WRONLY | O_CREAT | O_APPEND | O_CLOEXEC, 0644);
  if (fd < 0) {
    return absl::InvalidArgumentError(
        absl::StrCat("--access-log: cannot open ", path, ": ", std::strerror(errno)));
  }
  return std::unique_ptr<AccessLog>(new AccessLog(fd));
}

AccessLog::~AccessLog() { close(fd_); }

void AccessLog::Write(absl::string_view method, absl::string_view path, int status,
                      size_t body_bytes) {
  const std::string line =
      absl::StrCat(absl::FormatTime("%Y-%m-%dT%H:%M:%E3SZ", absl::Now(), absl::UTCTimeZone()), " ",
                   method, " ", MaskedPath(path), " ", status, " ", body_bytes, "\n");
  // One write: O_APPEND keeps it whole beside other threads' lines.
  ssize_t written;
  do {
    written = write(fd_, line.data(), line.size());
  } while (written < 0 && errno == EINTR);
}

}  // namespace b24emu
