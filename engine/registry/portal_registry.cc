#include "engine/registry/portal_registry.h"

namespace b24gate {

absl::StatusOr<std::vector<PortalRecord>> MemoryPortalRegistry::LoadAll() {
  absl::MutexLock lock(&mu_);
  std::vector<PortalRecord> out;
  for (const auto& [name, record] : records_) out.push_back(record);
  return out;
}

absl::Status MemoryPortalRegistry::Put(const PortalRecord& record) {
  absl::MutexLock lock(&mu_);
  records_[record.name] = record;
  return absl::OkStatus();
}

absl::Status MemoryPortalRegistry::Remove(const std::string& name) {
  absl::MutexLock lock(&mu_);
  records_.erase(name);
  return absl::OkStatus();
}

}  // namespace b24gate
