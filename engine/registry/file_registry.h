// PortalRegistry in a directory: one file per portal, named after the hex of
// its name (names are plain, but a file name must never be a path), holding
// the record as JSON. Files are 0600 and the directory 0700: they hold the
// portals' tokens.
//
// A write goes to a temporary file that is fsynced and renamed over the
// old one, then the directory is fsynced: a crash leaves the old record or
// the new one, never half of one. That matters most for the rotated refresh
// token, which Bitrix24 accepts once: the new one is on disk before the new
// access token is used (engine/auth/credentials.h). One file per portal
// keeps a refresh at the cost of one small write however many portals
// there are.
//
// Thread-safety: thread-safe, with the registry's rule that writes of one
// name take turns (they share its temporary file); no lock is held across
// a write, so portals' writes do not wait for each other's fsync.
#ifndef B24GATE_ENGINE_REGISTRY_FILE_REGISTRY_H_
#define B24GATE_ENGINE_REGISTRY_FILE_REGISTRY_H_

#include <string>
#include <vector>

#include "engine/registry/portal_registry.h"

namespace b24gate {

class FilePortalRegistry : public PortalRegistry {
 public:
  // Creates `dir` (0700) when missing. INVALID_ARGUMENT when it cannot be
  // made or written.
  static absl::StatusOr<std::unique_ptr<FilePortalRegistry>> Open(const std::string& dir);

  absl::StatusOr<std::vector<PortalRecord>> LoadAll() override;
  absl::Status Put(const PortalRecord& record) override;
  absl::Status Remove(const std::string& name) override;
  std::string Describe() const override { return dir_; }

 private:
  explicit FilePortalRegistry(std::string dir) : dir_(std::move(dir)) {}
  std::string PathOf(const std::string& name) const;

  const std::string dir_;
};

}  // namespace b24gate

#endif  // B24GATE_ENGINE_REGISTRY_FILE_REGISTRY_H_
