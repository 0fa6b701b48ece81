// crm.{lead,deal,contact,company}.{add,get,update,delete,list,fields} and
// crm.{lead,deal}.contact.{add,delete,items.get,items.set}: the classic CRM
// methods (UPPER keys, string values, errors with an empty code).
#include <algorithm>
#include <string>

#include "absl/strings/str_cat.h"
#include "data/field_write.h"
#include "data/methods_common.h"
#include "data/portal.h"
#include "data/values.h"

namespace b24emu::data {
namespace {

using json = nlohmann::json;

constexpr const char* kBadId = "ID is not defined or invalid.";
constexpr const char* kBadFields = "Parameter 'fields' must be array.";
constexpr const char* kNotFound = "Not found";

std::optional<int64_t> IdParam(const json& params) {
  std::optional<int64_t> id = IntParam(params, "id");
  if (!id || *id <= 0) return std::nullopt;
  return id;
}

// `fields` as an object ({} for a JSON/PHP empty list); nullptr when absent
// or not a map.
const json* FieldsParam(const json& params, const char* name = "fields") {
  static const json* kEmpty = new json(json::object());
  const json* f = Param(params, name);
  if (f == nullptr) return nullptr;
  if (f->is_object()) return f;
  if (f->is_array() && f->empty()) return kEmpty;
  return nullptr;
}

void SetText(Table& t, Row& row, const char* field, std::string value) {
  int i = t.def().Find(field);
  if (i > 0) t.Set(row, i, std::move(value));
}

// Values Bitrix fills in on add when the caller gives none.
void SetAddDefaults(Table& t, Row& row, const std::string& entity, const MethodCall& call, absl::Time now) {
  const std::string user = std::to_string(call.user_id);
  const std::string stamp = FormatDateTime(now);
  for (const char* f : {"ASSIGNED_BY_ID", "CREATED_BY_ID", "MODIFY_BY_ID"}) SetText(t, row, f, user);
  SetText(t, row, "DATE_CREATE", stamp);
  SetText(t, row, "DATE_MODIFY", stamp);
  SetText(t, row, "OPENED", "Y");
  if (entity == "lead") {
    SetText(t, row, "STATUS_ID", "NEW");
    SetText(t, row, "IS_RETURN_CUSTOMER", "N");
  }
  if (entity == "deal") {
    SetText(t, row, "STAGE_ID", "NEW");
    SetText(t, row, "CATEGORY_ID", "0");
    SetText(t, row, "IS_RECURRING", "N");
    SetText(t, row, "IS_RETURN_CUSTOMER", "N");
    SetText(t, row, "TAX_VALUE", "0.00");
    SetText(t, row, "BEGINDATE", FormatDate(absl::ToUnixSeconds(now)));
  }
  if (entity == "contact") SetText(t, row, "EXPORT", "Y");
  if (entity == "company") SetText(t, row, "IS_MY_COMPANY", "N");
  if (entity != "contact") {
    SetText(t, row, "CURRENCY_ID", "USD");
    SetText(t, row, entity == "company" ? "REVENUE" : "OPPORTUNITY", "0.00");
  }
  if (entity == "lead" || entity == "deal") SetText(t, row, "IS_MANUAL_OPPORTUNITY", "N");
}

std::string DefaultTitle(const std::string& entity, int64_t id) {
  if (entity == "lead") return absl::StrCat("Lead #", id);
  if (entity == "deal") return absl::StrCat("Deal #", id);
  if (entity == "company") return absl::StrCat("Company #", id);
  return "";
}

void Touch(Table& t, Row& row, const MethodCall& call, absl::Time now) {
  SetText(t, row, "DATE_MODIFY", FormatDateTime(now));
  SetText(t, row, "MODIFY_BY_ID", std::to_string(call.user_id));
}

void RegisterEntity(MethodRegistry* r, const std::string& entity) {
  const std::string prefix = "crm." + entity + ".";

  r->AddWrite(prefix + "add", [entity](PortalData& d, const MethodCall& call) {
    const json* fields = FieldsParam(call.params);
    if (fields == nullptr) return CrmError(kBadFields);
    Table& t = *d.CrmTable(entity);
    Row& row = t.Insert();
    const int64_t id = row.id;
    SetAddDefaults(t, row, entity, call, d.now());
    ApplyFields(t, row, *fields, &d.next_multi_id);
    Row& added = *t.FindMutable(id);
    int title = t.def().Find("TITLE");
    if (title > 0 && IsNull(t.Get(added, title)) && !DefaultTitle(entity, id).empty()) {
      t.Set(added, title, DefaultTitle(entity, id));
    }
    MethodResult res = Ok(id);
    res.created_entity = "crm." + entity;
    return res;
  });

  r->AddRead(prefix + "get", [entity](const PortalData& d, const MethodCall& call) {
    std::optional<int64_t> id = IdParam(call.params);
    if (!id) return CrmError(kBadId);
    const Table& t = *d.CrmTable(entity);
    const Row* row = t.Find(*id);
    if (row == nullptr) return CrmError(kNotFound);
    return Ok(RenderRow(t, *row, AllFields(t.def()), Style::kUpper));
  });

  r->AddWrite(prefix + "update", [entity](PortalData& d, const MethodCall& call) {
    std::optional<int64_t> id = IdParam(call.params);
    if (!id) return CrmError(kBadId);
    Table& t = *d.CrmTable(entity);
    Row* row = t.FindMutable(*id);
    if (row == nullptr) return CrmError(kNotFound);
    const json* fields = FieldsParam(call.params);
    if (fields == nullptr) return CrmError(kBadFields);
    ApplyFields(t, *row, *fields, &d.next_multi_id);
    Touch(t, *row, call, d.now());
    return Ok(true);
  });

  r->AddWrite(prefix + "delete", [entity](PortalData& d, const MethodCall& call) {
    std::optional<int64_t> id = IdParam(call.params);
    if (!id) return CrmError(kBadId);
    if (!d.CrmTable(entity)->Erase(*id)) return CrmError(kNotFound);
    return Ok(true);
  });

  r->AddRead(prefix + "list", [entity](const PortalData& d, const MethodCall& call) {
    const Table& t = *d.CrmTable(entity);
    return RunListMethod(t, ReadListParams(call.params));
  });

  r->AddRead(prefix + "fields", [entity](const PortalData& d, const MethodCall&) {
    const Table& t = *d.CrmTable(entity);
    json out = json::object();
    for (const FieldDef& f : t.def().fields()) out[f.name] = DescribeField(f);
    return Ok(out);
  });
}

json RenderLinks(const LinkList& links) {
  json out = json::array();
  for (const ContactLink& l : links) {
    out.push_back({{"CONTACT_ID", l.contact_id},
                   {"SORT", l.sort},
                   {"ROLE_ID", l.role_id},
                   {"IS_PRIMARY", l.is_primary ? "Y" : "N"}});
  }
  return out;
}

// One binding from {CONTACT_ID, SORT, ROLE_ID, IS_PRIMARY}; nullopt when the
// contact id is missing or invalid.
std::optional<ContactLink> ParseLink(const json& item, int default_sort) {
  if (!item.is_object()) return std::nullopt;
  const json* cid = Param(item, "CONTACT_ID");
  std::optional<int64_t> id = cid != nullptr ? JsonToInt(*cid) : std::nullopt;
  if (!id || *id <= 0) return std::nullopt;
  ContactLink l{*id, default_sort, 0, false};
  if (auto s = IntParam(item, "SORT")) l.sort = static_cast<int>(*s);
  const json* p = Param(item, "IS_PRIMARY");
  if (p != nullptr) {
    std::optional<std::string> y = NormaliseInput(*p, FieldType::kChar);
    l.is_primary = y && *y == "Y";
  }
  return l;
}

void RegisterLinks(MethodRegistry* r, const std::string& entity) {
  const std::string prefix = "crm." + entity + ".contact.";
  constexpr const char* kBadContact = "The parameter 'CONTACT_ID' is not defined or invalid.";

  r->AddWrite(prefix + "add", [entity, kBadContact](PortalData& d, const MethodCall& call) {
    std::optional<int64_t> id = IdParam(call.params);
    if (!id) return CrmError(kBadId);
    const json* fields = FieldsParam(call.params);
    if (fields == nullptr) return CrmError("The parameter 'fields' must be array.");
    Table& t = *d.CrmTable(entity);
    Row* row = t.FindMutable(*id);
    if (row == nullptr) return CrmError(kNotFound);
    LinkList links = GetLinks(t, *row);
    int next_sort = links.empty() ? 10 : links.back().sort + 10;
    std::optional<ContactLink> link = ParseLink(*fields, next_sort);
    if (!link) return CrmError(kBadContact);
    if (d.contact.Find(link->contact_id) == nullptr) return CrmError(kNotFound);
    auto it = std::find_if(links.begin(), links.end(),
                           [&](const ContactLink& l) { return l.contact_id == link->contact_id; });
    if (it != links.end()) links.erase(it);
    if (link->is_primary) {
      for (ContactLink& l : links) l.is_primary = false;
    }
    links.push_back(*link);
    std::stable_sort(links.begin(), links.end(),
                     [](const ContactLink& a, const ContactLink& b) { return a.sort < b.sort; });
    SetLinks(t, *row, std::move(links));
    return Ok(true);
  });

  r->AddWrite(prefix + "delete", [entity, kBadContact](PortalData& d, const MethodCall& call) {
    std::optional<int64_t> id = IdParam(call.params);
    if (!id) return CrmError(kBadId);
    const json* fields = FieldsParam(call.params);
    if (fields == nullptr) return CrmError("The parameter 'fields' must be array.");
    Table& t = *d.CrmTable(entity);
    Row* row = t.FindMutable(*id);
    if (row == nullptr) return CrmError(kNotFound);
    std::optional<ContactLink> link = ParseLink(*fields, 0);
    if (!link) return CrmError(kBadContact);
    LinkList links = GetLinks(t, *row);
    bool was_primary = false;
    links.erase(std::remove_if(links.begin(), links.end(),
                               [&](const ContactLink& l) {
                                 if (l.contact_id != link->contact_id) return false;
                                 was_primary = l.is_primary;
                                 return true;
                               }),
                links.end());
    if (was_primary && !links.empty()) links[0].is_primary = true;
    SetLinks(t, *row, std::move(links));
    return Ok(true);
  });

  r->AddRead(prefix + "items.get", [entity](const PortalData& d, const MethodCall& call) {
    std::optional<int64_t> id = IdParam(call.params);
    if (!id) return CrmError(kBadId);
    const Table& t = *d.CrmTable(entity);
    const Row* row = t.Find(*id);
    if (row == nullptr) return CrmError(kNotFound);
    return Ok(RenderLinks(GetLinks(t, *row)));
  });

  r->AddWrite(prefix + "items.set", [entity](PortalData& d, const MethodCall& call) {
    std::optional<int64_t> id = IdParam(call.params);
    if (!id) return CrmError(kBadId);
    const json* items = Param(call.params, "items");
    if (items == nullptr || !(items->is_array() || items->is_object())) {
      return CrmError("The parameter 'items' must be array.");
    }
    Table& t = *d.CrmTable(entity);
    Row* row = t.FindMutable(*id);
    if (row == nullptr) return CrmError(kNotFound);
    LinkList links;
    for (const json* item : ListItems(*items)) {
      std::optional<ContactLink> link = ParseLink(*item, 10 * (static_cast<int>(links.size()) + 1));
      if (!link) return CrmError("The parameter 'items' contains an item without a valid CONTACT_ID.");
      links.push_back(*link);
    }
    std::stable_sort(links.begin(), links.end(),
                     [](const ContactLink& a, const ContactLink& b) { return a.sort < b.sort; });
    SetLinks(t, *row, std::move(links));
    return Ok(true);
  });
}

}  // namespace

void RegisterCrmMethods(MethodRegistry* registry) {
  for (const char* e : {"lead", "deal", "contact", "company"}) RegisterEntity(registry, e);
  for (const char* e : {"lead", "deal"}) RegisterLinks(registry, e);
}

}  // namespace b24emu::data
