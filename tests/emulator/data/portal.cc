#include "data/portal.h"

#include <exception>
#include <utility>

#include "absl/base/thread_annotations.h"
#include "absl/synchronization/mutex.h"

namespace b24emu {

namespace data {

Table* PortalData::CrmTable(std::string_view entity) {
  if (entity == "lead") return &lead;
  if (entity == "deal") return &deal;
  if (entity == "contact") return &contact;
  if (entity == "company") return &company;
  return nullptr;
}

const Table* PortalData::CrmTable(std::string_view entity) const {
  return const_cast<PortalData*>(this)->CrmTable(entity);
}

namespace {

// Thread-safety: Invoke may be called from any number of threads; reads
// share the lock, writes hold it exclusively.
class Portal : public MethodTable {
 public:
  explicit Portal(std::unique_ptr<PortalData> data) : data_(std::move(data)) {
    RegisterCrmMethods(&registry_);
    RegisterItemMethods(&registry_);
    RegisterTaskMethods(&registry_);
    RegisterMiscMethods(&registry_);
    RegisterTaskV3Methods(&registry_);
    RegisterEventLogV3Methods(&registry_);
  }

  bool HasMethod(const std::string& method) const override { return registry_.Find(method) != nullptr; }
  bool IsWrite(const std::string& method) const override {
    const MethodRegistry::Entry* entry = registry_.Find(method);
    return entry != nullptr && entry->write != nullptr;
  }
  std::vector<std::string> MethodNames() const override { return registry_.Names(); }

  MethodResult Invoke(const MethodCall& call) override {
    const MethodRegistry::Entry* entry = registry_.Find(call.method);
    if (entry == nullptr) return Error(404, "ERROR_METHOD_NOT_FOUND", "Method not found!");
    try {
      if (entry->read) {
        absl::ReaderMutexLock lock(&mu_);
        return entry->read(*data_, call);
      }
      absl::MutexLock lock(&mu_);
      return entry->write(*data_, call);
    } catch (const std::exception& e) {
      // A parameter of an unexpected JSON type that slipped past validation:
      // Bitrix answers such calls with a core error, not a crash.
      return Error(400, "ERROR_CORE", e.what());
    }
  }

 private:
  MethodRegistry registry_;  // immutable after construction
  absl::Mutex mu_;
  std::unique_ptr<PortalData> data_ ABSL_PT_GUARDED_BY(mu_);
};

}  // namespace

std::unique_ptr<MethodTable> MakePortal(std::unique_ptr<PortalData> data) {
  return std::make_unique<Portal>(std::move(data));
}

}  // namespace data
}  // namespace b24emu
