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
#include "data/values.h"

namespace b24emu::data {
namespace {

using json = nlohmann::json;

constexpr char kValidation[] = "BITRIX_REST_V3_EXCEPTION_VALIDATION_REQUESTVALIDATIONEXCEPTION";
constexpr char kNotFound[] = "BITRIX_REST_V3_EXCEPTION_ENTITYNOTFOUNDEXCEPTION";
constexpr char kUnknownField[] = "BITRIX_REST_V3_EXCEPTION_UNKNOWNDTOPROPERTYEXCEPTION";
constexpr char kUnknownOperator[] = "BITRIX_REST_V3_EXCEPTION_UNKNOWNFILTEROPERATOREXCEPTION";
constexpr char kBadPagination[] = "BITRIX_REST_V3_EXCEPTION_INVALIDPAGINATIONEXCEPTION";
constexpr char kBadOrder[] = "BITRIX_REST_V3_EXCEPTION_INVALIDORDEREXCEPTION";

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

MethodResult V3Error(std::string code, std::string message, json validation = json()) {
  MethodResult r = Error(400, std::move(code), std::move(message));
  r.validation = std::move(validation);
  return r;
}

MethodResult Invalid(const std::string& field, const std::string& message) {
  return V3Error(kValidation, "Error validating the request object",
                 json::array({{{"field", field}, {"message", message}}}));
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
  if (!it->is_array()) return Invalid("select", "The `select` field requires an array");
  for (const json& name : *it) {
    const V3Field* f = name.is_string() ? FindField(name.get<std::string>()) : nullptr;
    if (f == nullptr) {
      return V3Error(kUnknownField, absl::StrCat("Unknown field `", name.dump(),
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
  return V3Error(kValidation, "Error validating the request object", std::move(problems));
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

std::optional<int64_t> IdOf(const json& params) {
  auto it = params.find("id");
  if (it == params.end()) return std::nullopt;
  std::optional<int64_t> id = JsonToInt(*it);
  if (!id || *id <= 0) return std::nullopt;
  return id;
}

MethodResult NotFound(int64_t id) {
  return V3Error(kNotFound, absl::StrCat("Task with id `", id, "` not found"));
}

// ---- Filters: ["field", "op", value], ["field", value], {"logic", "conditions"}.

struct Condition;
using Conditions = std::vector<Condition>;
struct Condition {
  std::string op;  // "" for a group
  std::vector<int64_t> values;
  bool any = false;  // group: OR (else AND)
  Conditions children;
};

std::optional<MethodResult> ParseConditions(const json& list, Conditions* out);

std::optional<MethodResult> ParseCondition(const json& c, Condition* out) {
  if (c.is_object()) {
    const std::string logic = absl::AsciiStrToLower(c.value("logic", std::string("and")));
    auto conditions = c.find("conditions");
    if ((logic != "and" && logic != "or") || conditions == c.end() || !conditions->is_array()) {
      return Invalid("filter", "A condition group needs `logic` (and/or) and `conditions`");
    }
    out->any = logic == "or";
    return ParseConditions(*conditions, &out->children);
  }
  if (!c.is_array() || c.size() < 2 || c.size() > 3 || !c[0].is_string()) {
    return Invalid("filter", "A condition is [field, operator, value] or [field, value]");
  }
  const std::string field = c[0].get<std::string>();
  if (field != "id") {
    return Invalid(field, absl::StrCat("In DTO `TaskDto`, the `", field,
                                       "` field requires the `Filterable` attribute"));
  }
  const json& value = c.back();
  out->op = c.size() == 3 && c[1].is_string() ? c[1].get<std::string>()
                                              : (value.is_array() ? "in" : "=");
  static const char* kOps[] = {"=", "!=", ">", ">=", "<", "<=", "in", "between"};
  if (std::find_if(std::begin(kOps), std::end(kOps),
                   [&](const char* op) { return out->op == op; }) == std::end(kOps)) {
    return V3Error(kUnknownOperator, absl::StrCat("Unknown filter operator `", out->op, "`"));
  }
  for (const json& v : value.is_array() ? value : json::array({value})) {
    std::optional<int64_t> n = JsonToInt(v);
    if (!n) return Invalid("id", "The `id` field requires an integer data type for this request");
    out->values.push_back(*n);
  }
  const bool list_op = out->op == "in" || out->op == "between";
  if (out->values.empty() || (!list_op && out->values.size() != 1) ||
      (out->op == "between" && out->values.size() != 2)) {
    return Invalid("id", absl::StrCat("Wrong value for the operator `", out->op, "`"));
  }
  return std::nullopt;
}

std::optional<MethodResult> ParseConditions(const json& list, Conditions* out) {
  if (!list.is_array()) return Invalid("filter", "The `filter` field requires an array");
  for (const json& c : list) {
    Condition parsed;
    if (auto err = ParseCondition(c, &parsed)) return err;
    out->push_back(std::move(parsed));
  }
  return std::nullopt;
}

bool Matches(const Condition& c, int64_t id);

bool MatchesAll(const Conditions& list, int64_t id, bool any) {
  if (list.empty()) return true;
  for (const Condition& c : list) {
    if (Matches(c, id) == any) return any;
  }
  return !any;
}

bool Matches(const Condition& c, int64_t id) {
  if (c.op.empty()) return MatchesAll(c.children, id, c.any);
  const int64_t v = c.values[0];
  if (c.op == "=") return id == v;
  if (c.op == "!=") return id != v;
  if (c.op == ">") return id > v;
  if (c.op == ">=") return id >= v;
  if (c.op == "<") return id < v;
  if (c.op == "<=") return id <= v;
  if (c.op == "between") return id >= v && id <= c.values[1];
  return std::find(c.values.begin(), c.values.end(), id) != c.values.end();
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
    return V3Error(kBadOrder, "Unable to recognize the sorting parameter: one field, ASC or DESC");
  }
  for (const auto& [name, direction] : it->items()) {
    const V3Field* f = FindField(name);
    const std::string dir =
        direction.is_string() ? absl::AsciiStrToUpper(direction.get<std::string>()) : "";
    if (f == nullptr || !f->sortable || (dir != "ASC" && dir != "DESC")) {
      return V3Error(kBadOrder, absl::StrCat("Unable to recognize sorting parameter `",
                                             it->dump(), "`"));
    }
    out->field = f;
    out->descending = dir == "DESC";
  }
  return std::nullopt;
}

struct Page {
  int64_t limit = kDefaultLimit;
  int64_t offset = 0;
};

std::optional<MethodResult> ParsePagination(const json& params, Page* out) {
  auto it = params.find("pagination");
  if (it == params.end()) return std::nullopt;
  auto bad = [&] {
    return V3Error(kBadPagination,
                   absl::StrCat("Unable to recognize the pagination parameter `", it->dump(), "`"));
  };
  if (!it->is_object()) return bad();
  std::optional<int64_t> page, limit, offset;
  for (const auto& [name, value] : it->items()) {
    std::optional<int64_t> n = JsonToInt(value);
    if (!n || *n < 0) return bad();
    if (name == "page") page = n;
    else if (name == "limit") limit = n;
    else if (name == "offset") offset = n;
    else return bad();
  }
  if ((limit && *limit == 0) || (page && *page == 0)) return bad();
  // Larger pages are cut to the maximum without a word, as the portal does.
  out->limit = std::min(limit.value_or(kDefaultLimit), kMaxLimit);
  out->offset = offset ? *offset : (page.value_or(1) - 1) * out->limit;
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
  Conditions filter;
  Order order;
  Page page;
  if (auto err = ParseSelect(p, {&kFields[0]}, &select)) return *err;
  if (p.contains("filter")) {
    if (auto err = ParseConditions(p["filter"], &filter)) return *err;
  }
  if (auto err = ParseOrder(p, &order)) return *err;
  if (auto err = ParsePagination(p, &page)) return *err;
  std::vector<const Row*> rows;
  for (const Row& row : d.task.rows()) {
    if (MatchesAll(filter, row.id, /*any=*/false)) rows.push_back(&row);
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
    return Invalid("fields", "Required field `fields` is not specified");
  }
  json missing = json::array();
  for (const char* name : {"title", "creatorId", "responsibleId"}) {
    if (!fields->contains(name)) {
      missing.push_back({{"field", name}, {"message", absl::StrCat("Required field `", name,
                                                                   "` is not specified")}});
    }
  }
  if (!missing.empty()) {
    return V3Error(kValidation, "Error validating the request object", std::move(missing));
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
  std::optional<int64_t> id = IdOf(call.params);
  if (!id) return Invalid("id", "Required field `id` is not specified");
  auto fields = call.params.find("fields");
  if (fields == call.params.end() || !fields->is_object()) {
    return Invalid("fields", "Required field `fields` is not specified");
  }
  if (auto err = CheckV3Fields(*fields)) return *err;
  Row* row = d.task.FindMutable(*id);
  if (row == nullptr) return NotFound(*id);
  WriteV3Fields(d.task, *row, *fields);
  d.task.Set(*row, d.task.def().Find("CHANGED_DATE"), FormatDateTime(d.now()));
  return Ok({{"result", true}});
}

}  // namespace

void RegisterTaskV3Methods(MethodRegistry* r) {
  r->AddWrite("v3/tasks.task.add", Add);
  r->AddWrite("v3/tasks.task.update", Update);
  r->AddWrite("v3/tasks.task.delete", [](PortalData& d, const MethodCall& call) {
    std::optional<int64_t> id = IdOf(call.params);
    if (!id) return Invalid("id", "Required field `id` is not specified");
    if (!d.task.Erase(*id)) return NotFound(*id);
    return Ok({{"result", true}});
  });
  r->AddRead("v3/tasks.task.get", [](const PortalData& d, const MethodCall& call) {
    std::optional<int64_t> id = IdOf(call.params);
    if (!id) return Invalid("id", "Required field `id` is not specified");
    const Row* row = d.task.Find(*id);
    if (row == nullptr) return NotFound(*id);
    std::vector<const V3Field*> select;
    if (auto err = ParseSelect(call.params, AllFields(), &select)) return *err;
    MethodResult res = Ok({{"item", Render(d.task, *row, select)}});
    res.work.rows_returned = 1;
    return res;
  });
  r->AddRead("v3/tasks.task.list", List);
}

}  // namespace b24emu::data
