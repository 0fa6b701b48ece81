#include "engine/registry/file_registry.h"

#include <dirent.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>
#include <fstream>
#include <memory>
#include <sstream>

#include "absl/strings/escaping.h"
#include "absl/strings/match.h"
#include "absl/strings/str_cat.h"
#include "engine/common/atomic_file.h"

namespace b24gate {
namespace {

constexpr absl::string_view kPrefix = "portal-";
constexpr absl::string_view kSuffix = ".json";

absl::StatusOr<std::string> ReadWhole(const std::string& path) {
  std::ifstream in(path);
  if (!in) return absl::DataLossError(absl::StrCat("cannot read ", path));
  std::stringstream text;
  text << in.rdbuf();
  return text.str();
}

}  // namespace

absl::StatusOr<std::unique_ptr<FilePortalRegistry>> FilePortalRegistry::Open(const std::string& dir) {
  if (dir.empty()) return absl::InvalidArgumentError("portal registry: the directory is empty");
  if (mkdir(dir.c_str(), 0700) != 0 && errno != EEXIST) {
    return absl::InvalidArgumentError(
        absl::StrCat("portal registry \"", dir, "\": cannot create it: ", std::strerror(errno)));
  }
  if (access(dir.c_str(), R_OK | W_OK | X_OK) != 0) {
    return absl::InvalidArgumentError(
        absl::StrCat("portal registry \"", dir, "\": not a writable directory: ", std::strerror(errno)));
  }
  return std::unique_ptr<FilePortalRegistry>(new FilePortalRegistry(dir));
}

std::string FilePortalRegistry::PathOf(const std::string& name) const {
  return absl::StrCat(dir_, "/", kPrefix, absl::BytesToHexString(name), kSuffix);
}

absl::StatusOr<std::vector<PortalRecord>> FilePortalRegistry::LoadAll() {
  std::unique_ptr<DIR, int (*)(DIR*)> d(opendir(dir_.c_str()), &closedir);
  if (!d) return absl::DataLossError(absl::StrCat("cannot list ", dir_, ": ", std::strerror(errno)));
  std::vector<PortalRecord> out;
  while (dirent* e = readdir(d.get())) {
    std::string file = e->d_name;
    // Temporary files of a write a crash interrupted are not records.
    if (!absl::StartsWith(file, kPrefix) || !absl::EndsWith(file, kSuffix)) continue;
    std::string path = absl::StrCat(dir_, "/", file);
    absl::StatusOr<std::string> text = ReadWhole(path);
    if (!text.ok()) return text.status();
    absl::StatusOr<PortalRecord> record = DecodeRecord(*text);
    if (!record.ok()) return absl::DataLossError(absl::StrCat(path, ": ", record.status().message()));
    out.push_back(std::move(*record));
  }
  return out;
}

absl::Status FilePortalRegistry::Put(const PortalRecord& record) {
  return WriteFileAtomically(PathOf(record.name), EncodeRecord(record));
}

absl::Status FilePortalRegistry::Remove(const std::string& name) {
  std::string path = PathOf(name);
  if (unlink(path.c_str()) != 0 && errno != ENOENT) {
    return absl::InternalError(absl::StrCat("unlink ", path, ": ", std::strerror(errno)));
  }
  return absl::OkStatus();
}

}  // namespace b24gate
