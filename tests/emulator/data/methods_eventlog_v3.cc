// REST 3.0 event log (`/rest/api/.../main.eventlog.*`, read-only): `get`,
// `list` (filter on id, order by id, page/limit/offset pagination: default
// 50, larger limits cut to 1000 without a word) and `tail` (a keyset
// `cursor` {field, order, value, limit} on id; the cursor field in `filter`
// is INVALIDFILTEREXCEPTION). The entries are not stored: entry N of the
// `main.eventlog=COUNT` seed is computed from N, so a large log costs no
// memory and reads the same every time. Registered as "v3/<method>".
#include <algorithm>
#include <string>
#include <vector>

#include "absl/strings/ascii.h"
#include "absl/strings/str_cat.h"
#include "data/portal.h"
#include "data/v3_query.h"
#include "data/values.h"

namespace b24emu::data {
namespace {

using json = nlohmann::json;

constexpr char kDto[] = "EventLogDto";
constexpr int64_t kLogDefaultLimit = 50;
constexpr int64_t kLogMaxLimit = 1000;
constexpr int64_t kFirstStamp = 1767225600;  // 2026-01-01T00:00:00Z

constexpr const char* kLogFields[] = {"id",         "timestampX", "severity",  "auditTypeId",
                                   "moduleId",   "itemId",     "remoteAddr", "userAgent",
                                   "requestUri", "siteId",     "userId",    "guestId",
                                   "description"};

json FieldOf(int64_t id, const std::string& field) {
  static const char* kSeverity[] = {"SECURITY", "WARNING", "INFO", "ERROR"};
  static const char* kAudit[] = {"USER_AUTHORIZE", "USER_LOGOUT", "USER_PASSWORD_CHANGED",
                                 "TASK_UPDATE", "REST_APP_INSTALL"};
  static const char* kModule[] = {"main", "rest", "tasks"};
  if (field == "id") return id;
  if (field == "timestampX") return FormatDateTime(kFirstStamp + id * 37);
  if (field == "severity") return kSeverity[id % 4];
  if (field == "auditTypeId") return kAudit[id % 5];
  if (field == "moduleId") return kModule[id % 3];
  if (field == "itemId") return std::to_string(id % 100 + 1);
  if (field == "remoteAddr") return absl::StrCat("10.0.", id / 256 % 256, ".", id % 256);
  if (field == "userAgent") return "Mozilla/5.0";
  if (field == "requestUri") return "/rest/";
  if (field == "siteId") return "s1";
  if (field == "userId") return id % 12 + 1;
  if (field == "guestId") return id % 7;
  return absl::StrCat("{\"userId\":", id % 12 + 1, "}");
}

// `select`: field names; absent means every field.
std::optional<MethodResult> ParseLogSelect(const json& params, std::vector<std::string>* out) {
  auto it = params.find("select");
  if (it == params.end()) {
    out->assign(std::begin(kLogFields), std::end(kLogFields));
    return std::nullopt;
  }
  if (!it->is_array()) return V3Invalid("select", "The `select` field requires an array");
  for (const json& name : *it) {
    const bool known = name.is_string() &&
                       std::find(std::begin(kLogFields), std::end(kLogFields), name.get<std::string>()) !=
                           std::end(kLogFields);
    if (!known) {
      return V3Error(kV3UnknownField,
                     absl::StrCat("Unknown field `", name.dump(), "` for entity `", kDto, "`"));
    }
    out->push_back(name.get<std::string>());
  }
  return std::nullopt;
}

json LogEntry(int64_t id, const std::vector<std::string>& select) {
  json item = json::object();
  for (const std::string& f : select) item[f] = FieldOf(id, f);
  return item;
}

// Entries matching `filter` in id order (descending when `desc`), from
// the first one past `after` (exclusive; 0 / count+1 = from the end), skipping
// `skip`, at most `limit`.
MethodResult Read(const PortalData& d, const V3Conditions& filter, bool desc, int64_t after,
                  int64_t skip, int64_t limit, const std::vector<std::string>& select) {
  json items = json::array();
  int64_t skipped = 0;
  const int64_t n = d.eventlog_entries;
  int64_t id = desc ? std::min(after - 1, n) : std::max<int64_t>(after + 1, 1);
  for (; id >= 1 && id <= n && static_cast<int64_t>(items.size()) < limit; id += desc ? -1 : 1) {
    if (!V3Matches(filter, id)) continue;
    if (skipped < skip) {
      ++skipped;
      continue;
    }
    items.push_back(LogEntry(id, select));
  }
  MethodResult res = Ok({{"items", items}});
  res.work.rows_returned = static_cast<int64_t>(items.size());
  res.work.rows_skipped = skipped;
  return res;
}

std::optional<MethodResult> ParseIdOrder(const json& params, bool* desc) {
  auto it = params.find("order");
  if (it == params.end()) return std::nullopt;
  const bool ok = it->is_object() && it->size() == 1 && it->contains("id") &&
                  (*it)["id"].is_string();
  const std::string dir = ok ? absl::AsciiStrToUpper((*it)["id"].get<std::string>()) : "";
  if (dir != "ASC" && dir != "DESC") {
    return V3Error(kV3BadOrder, absl::StrCat("Unable to recognize sorting parameter `", it->dump(), "`"));
  }
  *desc = dir == "DESC";
  return std::nullopt;
}

MethodResult ListLog(const PortalData& d, const MethodCall& call) {
  const json& p = call.params;
  std::vector<std::string> select;
  V3Conditions filter;
  bool desc = false;
  V3Page page;
  if (auto err = ParseLogSelect(p, &select)) return *err;
  if (p.contains("filter")) {
    if (auto err = ParseV3Filter(p["filter"], kDto, &filter)) return *err;
  }
  if (auto err = ParseIdOrder(p, &desc)) return *err;
  if (auto err = ParseV3Pagination(p, kLogDefaultLimit, kLogMaxLimit, &page)) return *err;
  return Read(d, filter, desc, desc ? d.eventlog_entries + 1 : 0, page.offset, page.limit, select);
}

MethodResult TailLog(const PortalData& d, const MethodCall& call) {
  const json& p = call.params;
  const json cursor = p.value("cursor", json::object());
  auto bad = [&] {
    return V3Error(kV3BadPagination,
                   absl::StrCat("Unable to recognize pagination parameter `", cursor.dump(), "`"));
  };
  if (!cursor.is_object() || cursor.value("field", json("id")) != "id") return bad();
  const std::string order = absl::AsciiStrToUpper(cursor.value("order", std::string("ASC")));
  std::optional<int64_t> value = JsonToInt(cursor.value("value", json(0)));
  std::optional<int64_t> limit = JsonToInt(cursor.value("limit", json(kLogDefaultLimit)));
  if ((order != "ASC" && order != "DESC") || !value || !limit || *limit <= 0) return bad();
  if (p.contains("filter") && !p["filter"].empty()) {
    // Only id is filterable here, and id is the cursor's field.
    return V3Error(kV3InvalidFilter,
                   "Unable to recognize filter expression `Cursor field id cannot be used at filter.`");
  }
  std::vector<std::string> select;
  if (auto err = ParseLogSelect(p, &select)) return *err;
  return Read(d, {}, order == "DESC", *value, 0, std::min(*limit, kLogMaxLimit), select);
}

}  // namespace

void RegisterEventLogV3Methods(MethodRegistry* r) {
  r->AddRead("v3/main.eventlog.get", [](const PortalData& d, const MethodCall& call) {
    std::optional<int64_t> id = V3IdOf(call.params);
    if (!id) return V3Invalid("id", "Required field `id` is not specified");
    if (*id > d.eventlog_entries) {
      return V3Error(kV3NotFound, absl::StrCat("Event log entry with id `", *id, "` not found"));
    }
    std::vector<std::string> select;
    if (auto err = ParseLogSelect(call.params, &select)) return *err;
    MethodResult res = Ok({{"item", LogEntry(*id, select)}});
    res.work.rows_returned = 1;
    return res;
  });
  r->AddRead("v3/main.eventlog.list", ListLog);
  r->AddRead("v3/main.eventlog.tail", TailLog);
}

}  // namespace b24emu::data
