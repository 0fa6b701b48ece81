// REST 3.0 tasks (`/rest/api/.../tasks.task.*`), over the same task table as
// the classic tasks.task.*: camelCase fields with typed values (integers,
// words for status and priority), `{"item": ...}` / `{"items": [...]}` /
// `{"result": true}` results, filters as lists of conditions, page/limit/offset
// pagination (default 50, at most 1000 a page, larger limits cut silently),
// and REST 3.0 error codes with a `validation` list. Registered under the
// names "v3/<method>" so the classic routes can never reach them.
#include <algorithm>
#include <optional>
#include <string>
#include <vector>

#include "absl/strings/ascii.h"
#include "absl/strings/str_cat.h"
#include "data/methods_common.h"
#include "data/portal.h"
#include "data/v3_query.h"
#include "data/values.h"

namespace b24emu::data {
namespace {

using json = nlohmann::json;

constexpr int64_t kDefaultLimit = 50;
constexpr int64_t kMaxLimit = 1000;

enum class Kind { kInt, kText, kStatus, kPriority };

// One v3 task field and the classic column behind it.
struct V3Field {
  const char* name;
  const char* column;
  Kind kind;
  bool writable;
  bool sortable;
};

constexpr V3Field kFields[] = {
    {"id", "ID", Kind::kInt, false, true},
    {"title", "TITLE", Kind::kText, true, true},
    {"description", "DESCRIPTION", Kind::kText, true, false},
    {"creatorId", "CREATED_BY", Kind::kInt, true, true},
    {"responsibleId", "RESPONSIBLE_ID", Kind::kInt, true, true},
    {"deadline", "DEADLINE", Kind::kText, true, true},
    {"status", "STATUS", Kind::kStatus, false, true},
    {"priority", "PRIORITY", Kind::kPriority, false, true},
    {"groupId", "GROUP_ID", Kind::kInt, true, true},
    {"parentId", "PARENT_ID", Kind::kInt, true, false},
    {"created", "CREATED_DATE", Kind::kText, false, true},
    {"changed", "CHANGED_DATE", Kind::kText, false, true},
};

const V3Field* FindField(const std::string& name) {
  for (const V3Field& f : kFields) {
    if (name == f.name) return &f;
  }
  return nullptr;
}

const char* Word(Kind kind, const std::string& code) {
  if (kind == Kind::kStatus) {
    if (code == "2") return "pending";
    if (code == "3") return "in_progress";
    if (code == "4") return "supposedly_completed";
    if (code == "5") return "completed";
    if (code == "6") return "deferred";
  } else if (kind == Kind::kPriority) {
    if (code == "0") return "low";
    if (code == "1") return "average";
    if (code == "2") return "high";
  }
  return nullptr;
}

json Value(const Table& t, const Row& row, const V3Field& f) {
  if (f.kind == Kind::kInt && std::string(f.column) == "ID") return row.id;
  const Cell cell = t.Get(row, t.def().Find(f.column));
  const std::string* text = AsText(cell);
  if (text == nullptr || text->empty()) return nullptr;
  if (f.kind == Kind::kInt) {
    std::optional<int64_t> n = JsonToInt(json(*text));
    return n ? json(*n) : json(nullptr);
  }
  if (const char* word = Word(f.kind, *text)) return word;
  return *text;
}

json Render(const Table& t, const Row& row, const std::vector<const V3Field*>& fields) {
  json item = json::object();
  for (const V3Field* f : fields) item[f->name] = Value(t, row, *f);
  return item;
}

std::vector<const V3Field*> AllFields() {
  std::vector<const V3Field*> all;
  for (const V3Field& f : kFields) all.push_back(&f);
  return all;
}

// `select`: field names; absent means `fallback`.
std::optional<MethodResult> ParseSelect(const json& params, std::vector<const V3Field*> fallback,
                                        std::vector<const V3Field*>* out) {
  auto it = params.find("select");
  if (it == params.end()) {
    *out = std::move(fallback);
    return std::nullopt;
  }
  if (!it->is_array()) return V3Invalid("select", "The `select` field requires an array");
  for (const json& name : *it) {
    const V3Field* f = name.is_string() ? FindField(name.get<std::string>()) : nullptr;
    if (f == nullptr) {
      return V3Error(kV3UnknownField, absl::StrCat("Unknown field `", name.dump(),
                                                 "` for entity `TaskDto`"));
    }
    out->push_back(f);
  }
  return std::nullopt;
}

// Validation errors naming each field of `fields` that cannot be written.
std::optional<MethodResult> CheckV3Fields(const json& fields) {
  json problems = json::array();
  for (const auto& [name, value] : fields.items()) {
    const V3Field* f = FindField(name);
    if (f == nullptr || !f->writable) {
      problems.push_back({{"field", name}, {"message", "Unknown or read-only field"}});
      continue;
    }
    const bool ok = f->kind == Kind::kInt ? value.is_number_integer() || value.is_null()
                                          : value.is_string() || value.is_null();
    if (!ok) {
      problems.push_back({{"field", name},
                          {"message", absl::StrCat("The `", name, "` field requires a ",
                                                   f->kind == Kind::kInt ? "integer" : "string",
                                                   " data type for this request")}});
    }
  }
  if (problems.empty()) return std::nullopt;
  return V3Error(kV3Validation, "Error validating the request object", std::move(problems));
}

// REQUIRES: CheckV3Fields(fields) found nothing.
void WriteV3Fields(Table& t, Row& row, const json& fields) {
  for (const auto& [name, value] : fields.items()) {
    Cell cell;
    if (value.is_number_integer()) cell = std::to_string(value.get<int64_t>());
    if (value.is_string()) cell = value.get<std::string>();
    t.Set(row, t.def().Find(FindField(name)->column), std::move(cell));
  }
}

MethodResult TaskNotFound(int64_t id) {
  return V3Error(kV3NotFound, absl::StrCat("Task with id `", id, "` not found"));
}

// ---- Order and pagination.

struct Order {
  const V3Field* field = &kFields[0];
  bool descending = false;
};

std::optional<MethodResult> ParseOrder(const json& params, Order* out) {
  auto it = params.find("order");
  if (it == params.end()) return std::nullopt;
  if (!it->is_object() || it->size() > 1) {
    return V3Error(kV3BadOrder, "Unable to recognize the sorting parameter: one field, ASC or DESC");
  }
  for (const auto& [name, direction] : it->items()) {
    const V3Field* f = FindField(name);
    const std::string dir =
        direction.is_string() ? absl::AsciiStrToUpper(direction.get<std::string>()) : "";
    if (f == nullptr || !f->sortable || (dir != "ASC" && dir != "DESC")) {
      return V3Error(kV3BadOrder, absl::StrCat("Unable to recognize sorting parameter `",
                                             it->dump(), "`"));
    }
    out->field = f;
    out->descending = dir == "DESC";
  }
  return std::nullopt;
}

bool Before(const Table& t, const Order& order, const Row* a, const Row* b) {
  if (order.field->kind == Kind::kInt && std::string(order.field->column) == "ID") {
    return order.descending ? a->id > b->id : a->id < b->id;
  }
  const json va = Value(t, *a, *order.field);
  const json vb = Value(t, *b, *order.field);
  if (va != vb) return order.descending ? vb < va : va < vb;
  return a->id < b->id;
}

MethodResult List(const PortalData& d, const MethodCall& call) {
  const json& p = call.params;
  std::vector<const V3Field*> select;
  V3Conditions filter;
  Order order;
  V3Page page;
  if (auto err = ParseSelect(p, {&kFields[0]}, &select)) return *err;
  if (p.contains("filter")) {
    if (auto err = ParseV3Filter(p["filter"], "TaskDto", &filter)) return *err;
  }
  if (auto err = ParseOrder(p, &order)) return *err;
  if (auto err = ParseV3Pagination(p, kDefaultLimit, kMaxLimit, &page)) return *err;
  std::vector<const Row*> rows;
  for (const Row& row : d.task.rows()) {
    if (V3Matches(filter, row.id)) rows.push_back(&row);
  }
  std::stable_sort(rows.begin(), rows.end(),
                   [&](const Row* a, const Row* b) { return Before(d.task, order, a, b); });
  json items = json::array();
  const size_t first = static_cast<size_t>(std::min<int64_t>(page.offset, rows.size()));
  for (size_t i = first; i < rows.size() && items.size() < static_cast<size_t>(page.limit); ++i) {
    items.push_back(Render(d.task, *rows[i], select));
  }
  MethodResult res = Ok({{"items", items}});
  res.work.rows_returned = static_cast<int64_t>(items.size());
  res.work.rows_skipped = static_cast<int64_t>(first);
  return res;
}

MethodResult Add(PortalData& d, const MethodCall& call) {
  auto fields = call.params.find("fields");
  if (fields == call.params.end() || !fields->is_object()) {
    return V3Invalid("fields", "Required field `fields` is not specified");
  }
  json missing = json::array();
  for (const char* name : {"title", "creatorId", "responsibleId"}) {
    if (!fields->contains(name)) {
      missing.push_back({{"field", name}, {"message", absl::StrCat("Required field `", name,
                                                                   "` is not specified")}});
    }
  }
  if (!missing.empty()) {
    return V3Error(kV3Validation, "Error validating the request object", std::move(missing));
  }
  if (auto err = CheckV3Fields(*fields)) return *err;
  Table& t = d.task;
  Row& row = t.Insert();
  const int64_t id = row.id;
  const std::string stamp = FormatDateTime(d.now());
  auto set = [&](const char* column, std::string v) { t.Set(row, t.def().Find(column), std::move(v)); };
  set("CHANGED_BY", std::to_string(call.user_id));
  set("CREATED_DATE", stamp);
  set("CHANGED_DATE", stamp);
  set("STATUS", "2");
  set("PRIORITY", "1");
  set("GROUP_ID", "0");
  WriteV3Fields(t, row, *fields);
  MethodResult res = Ok({{"item", Render(t, *t.Find(id), AllFields())}});
  res.created_entity = "tasks.task";
  res.work.rows_returned = 1;
  return res;
}

MethodResult Update(PortalData& d, const MethodCall& call) {
  std::optional<int64_t> id = V3IdOf(call.params);
  if (!id) return V3Invalid("id", "Required field `id` is not specified");
  auto fields = call.params.find("fields");
  if (fields == call.params.end() || !fields->is_object()) {
    return V3Invalid("fields", "Required field `fields` is not specified");
  }
  if (auto err = CheckV3Fields(*fields)) return *err;
  Row* row = d.task.FindMutable(*id);
  if (row == nullptr) return TaskNotFound(*id);
  WriteV3Fields(d.task, *row, *fields);
  d.task.Set(*row, d.task.def().Find("CHANGED_DATE"), FormatDateTime(d.now()));
  return Ok({{"result", true}});
}

}  // namespace

void RegisterTaskV3Methods(MethodRegistry* r) {
  r->AddWrite("v3/tasks.task.add", Add);
  r->AddWrite("v3/tasks.task.update", Update);
  r->AddWrite("v3/tasks.task.delete", [](PortalData& d, const MethodCall& call) {
    std::optional<int64_t> id = V3IdOf(call.params);
    if (!id) return V3Invalid("id", "Required field `id` is not specified");
    if (!d.task.Erase(*id)) return TaskNotFound(*id);
    return Ok({{"result", true}});
  });
  r->AddRead("v3/tasks.task.get", [](const PortalData& d, const MethodCall& call) {
    std::optional<int64_t> id = V3IdOf(call.params);
    if (!id) return V3Invalid("id", "Required field `id` is not specified");
    const Row* row = d.task.Find(*id);
    if (row == nullptr) return TaskNotFound(*id);
    std::vector<const V3Field*> select;
    if (auto err = ParseSelect(call.params, AllFields(), &select)) return *err;
    MethodResult res = Ok({{"item", Render(d.task, *row, select)}});
    res.work.rows_returned = 1;
    return res;
  });
  r->AddRead("v3/tasks.task.list", List);
}

}  // namespace b24emu::data
