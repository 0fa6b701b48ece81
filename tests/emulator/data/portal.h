// The emulated portal: every table, and the registry of data methods that
// read and write them. PortalData is plain state; Portal wraps it in a
// reader/writer lock and is the MethodTable the protocol layer calls.
#ifndef B24EMU_DATA_PORTAL_H_
#define B24EMU_DATA_PORTAL_H_

#include <algorithm>
#include <functional>
#include <memory>
#include <string>
#include <string_view>
#include <vector>

#include "absl/container/flat_hash_map.h"
#include "absl/time/clock.h"
#include "data/catalog.h"
#include "data/table.h"
#include "method_api.h"

namespace b24emu::data {

// Thread-safety: none; the owning Portal serialises access.
struct PortalData {
  SeedContext ctx;  // immutable after seeding
  Table lead{&LeadDef(), &ctx};
  Table deal{&DealDef(), &ctx};
  Table contact{&ContactDef(), &ctx};
  Table company{&CompanyDef(), &ctx};
  Table item{&SmartItemDef(), &ctx};  // smart process, entityTypeId 128
  Table task{&TaskDef(), &ctx};
  Table task_comment{&TaskCommentDef(), &ctx};
  Table user{&UserDef(), &ctx};
  Table status{&StatusDef(), &ctx};
  Table timeline_comment{&TimelineCommentDef(), &ctx};
  Table activity{&ActivityDef(), &ctx};
  int64_t next_multi_id = 1;
  // Entries 1..eventlog_entries of the REST 3.0 event log (computed, not
  // stored: methods_eventlog_v3.cc).
  int64_t eventlog_entries = 0;
  // The clock stamping DATE_CREATE/DATE_MODIFY; tests may fix it.
  std::function<absl::Time()> now = [] { return absl::Now(); };

  // "lead"/"deal"/"contact"/"company" → its table; nullptr otherwise.
  Table* CrmTable(std::string_view entity);
  const Table* CrmTable(std::string_view entity) const;
};

using ReadHandler = std::function<MethodResult(const PortalData&, const MethodCall&)>;
using WriteHandler = std::function<MethodResult(PortalData&, const MethodCall&)>;

// Method name → handler. Read handlers run under a shared lock.
class MethodRegistry {
 public:
  struct Entry {
    ReadHandler read;    // exactly one of read/write is set
    WriteHandler write;
  };
  void AddRead(std::string method, ReadHandler h) { entries_[std::move(method)].read = std::move(h); }
  void AddWrite(std::string method, WriteHandler h) { entries_[std::move(method)].write = std::move(h); }
  const Entry* Find(const std::string& method) const {
    auto it = entries_.find(method);
    return it == entries_.end() ? nullptr : &it->second;
  }
  // Every method registered, sorted.
  std::vector<std::string> Names() const {
    std::vector<std::string> names;
    for (const auto& [name, entry] : entries_) names.push_back(name);
    std::sort(names.begin(), names.end());
    return names;
  }

 private:
  absl::flat_hash_map<std::string, Entry> entries_;
};

// Method families (one file each).
void RegisterCrmMethods(MethodRegistry* registry);    // methods_crm.cc
void RegisterItemMethods(MethodRegistry* registry);   // methods_item.cc
void RegisterTaskMethods(MethodRegistry* registry);   // methods_tasks.cc
void RegisterMiscMethods(MethodRegistry* registry);   // methods_misc.cc: user, status, timeline, activity
void RegisterTaskV3Methods(MethodRegistry* registry); // methods_tasks_v3.cc: REST 3.0 "v3/tasks.task.*"
void RegisterEventLogV3Methods(MethodRegistry* registry);  // methods_eventlog_v3.cc: "v3/main.eventlog.*"

// The MethodTable over `data` (takes ownership).
std::unique_ptr<MethodTable> MakePortal(std::unique_ptr<PortalData> data);

}  // namespace b24emu::data

#endif  // B24EMU_DATA_PORTAL_H_
