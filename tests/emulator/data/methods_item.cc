// crm.item.{add,get,update,delete,list,fields}: the universal CRM API.
// entityTypeId 128 is the seeded smart process; 1/2/3/4 are views of the
// lead/deal/contact/company tables. camelCase keys, typed values, answers
// wrapped in {"item": ...} / {"items": [...]} / {"fields": {...}}, and errors
// with real codes.
#include <string>

#include "absl/strings/str_cat.h"
#include "data/field_write.h"
#include "data/methods_common.h"
#include "data/portal.h"
#include "data/values.h"

namespace b24emu::data {
namespace {

using json = nlohmann::json;

// The table behind an entityTypeId (as a member pointer, usable on a const
// or mutable PortalData), or an error result.
struct Target {
  Table PortalData::*table = nullptr;
  int type_id = 0;
  std::optional<MethodResult> error;
};

Target Resolve(const json& params) {
  Target t;
  std::optional<int64_t> type = IntParam(params, "entityTypeId");
  if (!type) {
    t.error = Error(400, "ENTITY_TYPE_NOT_SUPPORTED", "entityTypeId is required");
    return t;
  }
  t.type_id = static_cast<int>(*type);
  switch (*type) {
    case 1: t.table = &PortalData::lead; break;
    case 2: t.table = &PortalData::deal; break;
    case 3: t.table = &PortalData::contact; break;
    case 4: t.table = &PortalData::company; break;
    case kSmartProcessTypeId: t.table = &PortalData::item; break;
    default:
      if (*type >= 128) {
        t.error = Error(400, "NOT_FOUND", "Smart process not found");
      } else {
        t.error = Error(400, "ENTITY_TYPE_NOT_SUPPORTED", absl::StrCat("Entity type ", *type, " is not supported"));
      }
  }
  return t;
}

json RenderItem(const Table& t, const Row& row, const std::vector<int>& fields, int type_id) {
  json item = RenderRow(t, row, fields, Style::kItem);
  int links = t.def().Find("CONTACT_IDS");
  if (links > 0 && t.def().field(links).type == FieldType::kContactLinks) {
    item["contactIds"] = RenderValue(t.Get(row, links), t.def().field(links), Style::kItem);
  }
  item["entityTypeId"] = type_id;
  return item;
}

MethodResult NotFound(int64_t id) {
  return Error(400, "NOT_FOUND", absl::StrCat("Element with ID ", id, " not found"));
}

const json* FieldsObject(const json& params) {
  const json* f = Param(params, "fields");
  if (f != nullptr && f->is_array() && f->empty()) {
    static const json* kEmpty = new json(json::object());
    return kEmpty;
  }
  return f != nullptr && f->is_object() ? f : nullptr;
}

void Stamp(Table& t, Row& row, const MethodCall& call, absl::Time now, bool add) {
  const std::string user = std::to_string(call.user_id);
  const std::string stamp = FormatDateTime(now);
  auto set = [&](const char* name, const std::string& v) {
    int i = t.def().Find(name);
    if (i > 0) t.Set(row, i, v);
  };
  // Names cover both the smart process (UPDATED_BY) and classic tables (MODIFY_BY_ID).
  for (const char* f : {"UPDATED_BY", "MODIFY_BY_ID"}) set(f, user);
  for (const char* f : {"UPDATED_TIME", "DATE_MODIFY"}) set(f, stamp);
  if (!add) return;
  for (const char* f : {"CREATED_BY", "CREATED_BY_ID", "MOVED_BY", "ASSIGNED_BY_ID"}) set(f, user);
  for (const char* f : {"CREATED_TIME", "DATE_CREATE", "MOVED_TIME"}) set(f, stamp);
  set("OPENED", "Y");
  if (&t.def() == &SmartItemDef()) {
    set("STAGE_ID", "DT128_9:NEW");
    set("CATEGORY_ID", "9");
    set("CURRENCY_ID", "USD");
    set("OPPORTUNITY", "0.00");
    set("IS_MANUAL_OPPORTUNITY", "N");
    set("TAX_VALUE", "0.00");
  }
}

}  // namespace

void RegisterItemMethods(MethodRegistry* r) {
  r->AddWrite("crm.item.add", [](PortalData& d, const MethodCall& call) {
    Target target = Resolve(call.params);
    if (target.error) return *target.error;
    Table& table = d.*target.table;
    const json* fields = FieldsObject(call.params);
    if (fields == nullptr) return Error(400, "INVALID_ARG_VALUE", "Parameter 'fields' must be an object");
    Row& row = table.Insert();
    const int64_t id = row.id;
    Stamp(table, row, call, d.now(), /*add=*/true);
    ApplyFields(table, row, *fields, &d.next_multi_id);
    MethodResult res =
        Ok({{"item", RenderItem(table, *table.Find(id), ParseSelect(json(), table.def(), SelectDefault::kAll),
                                target.type_id)}});
    res.created_entity = "crm.item";
    return res;
  });

  r->AddRead("crm.item.get", [](const PortalData& cd, const MethodCall& call) {
    Target target = Resolve(call.params);
    if (target.error) return *target.error;
    const Table& table = cd.*target.table;
    std::optional<int64_t> id = IntParam(call.params, "id");
    if (!id) return Error(400, "INVALID_ARG_VALUE", "Parameter 'id' is required");
    const Row* row = table.Find(*id);
    if (row == nullptr) return NotFound(*id);
    return Ok({{"item", RenderItem(table, *row, ParseSelect(json(), table.def(), SelectDefault::kAll),
                                   target.type_id)}});
  });

  r->AddWrite("crm.item.update", [](PortalData& d, const MethodCall& call) {
    Target target = Resolve(call.params);
    if (target.error) return *target.error;
    Table& table = d.*target.table;
    std::optional<int64_t> id = IntParam(call.params, "id");
    if (!id) return Error(400, "INVALID_ARG_VALUE", "Parameter 'id' is required");
    Row* row = table.FindMutable(*id);
    if (row == nullptr) return NotFound(*id);
    const json* fields = FieldsObject(call.params);
    if (fields == nullptr) return Error(400, "INVALID_ARG_VALUE", "Parameter 'fields' must be an object");
    ApplyFields(table, *row, *fields, &d.next_multi_id);
    Stamp(table, *row, call, d.now(), /*add=*/false);
    return Ok({{"item", RenderItem(table, *row, ParseSelect(json(), table.def(), SelectDefault::kAll),
                                   target.type_id)}});
  });

  r->AddWrite("crm.item.delete", [](PortalData& d, const MethodCall& call) {
    Target target = Resolve(call.params);
    if (target.error) return *target.error;
    Table& table = d.*target.table;
    std::optional<int64_t> id = IntParam(call.params, "id");
    if (!id) return Error(400, "INVALID_ARG_VALUE", "Parameter 'id' is required");
    if (!table.Erase(*id)) return NotFound(*id);
    return Ok(json::array());
  });

  r->AddRead("crm.item.list", [](const PortalData& cd, const MethodCall& call) {
    Target target = Resolve(call.params);
    if (target.error) return *target.error;
    const Table& table = cd.*target.table;
    ListCall lc = ReadListParams(call.params);
    lc.select_default = SelectDefault::kAll;
    ParsedFilter filter = ParseFilter(lc.filter != nullptr ? *lc.filter : json(), table.def());
    std::vector<OrderKey> order = ParseOrder(lc.order != nullptr ? *lc.order : json(), table.def());
    std::vector<int> fields = ParseSelect(lc.select != nullptr ? *lc.select : json(), table.def(), lc.select_default);
    ListPage page = RunList(table, filter.conditions, order, lc.start, TotalMode::kCount);
    json items = json::array();
    for (const Row* row : page.rows) items.push_back(RenderItem(table, *row, fields, target.type_id));
    MethodResult res = Ok({{"items", std::move(items)}});
    res.total = page.total;
    res.next = page.next;
    res.work = page.work;
    return res;
  });

  r->AddRead("crm.item.fields", [](const PortalData& cd, const MethodCall& call) {
    Target target = Resolve(call.params);
    if (target.error) return *target.error;
    const Table& table = cd.*target.table;
    json fields = json::object();
    for (const FieldDef& f : table.def().fields()) {
      if (f.type == FieldType::kCrmMultifield) continue;  // crm.item has no PHONE/EMAIL fields
      json desc = DescribeField(f);
      desc["upperName"] = f.name;
      fields[f.camel] = std::move(desc);
    }
    return Ok({{"fields", std::move(fields)}});
  });
}

}  // namespace b24emu::data
