// user.get / user.current, crm.status.list, crm.timeline.comment.{list,add}
// and crm.activity.list.
#include <string>

#include "absl/strings/ascii.h"
#include "absl/strings/match.h"
#include "data/field_write.h"
#include "data/methods_common.h"
#include "data/portal.h"
#include "data/values.h"

namespace b24emu::data {
namespace {

using json = nlohmann::json;

// user.get takes its filter as FILTER, or (legacy) as top-level keys naming
// user fields; SORT names the field and ORDER the direction. An `order` map
// (what generic clients send) is not understood and is ignored.
MethodResult UserGet(const PortalData& d, const MethodCall& call) {
  const EntityDef& def = d.user.def();
  json filter = json::object();
  if (const json* f = Param(call.params, "filter"); f != nullptr && f->is_object()) filter = *f;
  if (call.params.is_object()) {
    for (auto it = call.params.begin(); it != call.params.end(); ++it) {
      std::string name;
      SplitFilterKey(it.key(), &name);
      if (def.Find(name) >= 0 && !absl::EqualsIgnoreCase(it.key(), "sort") &&
          !absl::EqualsIgnoreCase(it.key(), "order")) {
        filter[it.key()] = it.value();
      }
    }
  }
  std::vector<OrderKey> order;
  const json* sort = Param(call.params, "sort");
  const json* dir = Param(call.params, "order");
  if (sort != nullptr && sort->is_string()) {
    int field = def.Find(sort->get<std::string>());
    if (field >= 0) {
      bool desc = dir != nullptr && dir->is_string() && absl::EqualsIgnoreCase(dir->get<std::string>(), "desc");
      order.push_back({field, desc});
    }
  }
  ParsedFilter parsed = ParseFilter(filter, def);
  ListPage page = RunList(d.user, parsed.conditions, order, StartParam(call.params), TotalMode::kCount);
  MethodResult res = Ok(RenderRows(d.user, page, AllFields(def), Style::kUser));
  res.total = page.total;
  res.next = page.next;
  res.work = page.work;
  return res;
}

}  // namespace

void RegisterMiscMethods(MethodRegistry* r) {
  r->AddRead("user.get", UserGet);

  r->AddRead("user.current", [](const PortalData& d, const MethodCall& call) {
    const Row* row = d.user.Find(call.user_id);
    if (row == nullptr) return Ok({{"ID", std::to_string(call.user_id)}});
    return Ok(RenderRow(d.user, *row, AllFields(d.user.def()), Style::kUser));
  });

  r->AddRead("crm.status.list", [](const PortalData& d, const MethodCall& call) {
    return RunListMethod(d.status, ReadListParams(call.params));
  });

  r->AddRead("crm.activity.list", [](const PortalData& d, const MethodCall& call) {
    return RunListMethod(d.activity, ReadListParams(call.params));
  });

  // Stands in for the methods that return no `total` and reject an `order`
  // parameter (the ones fast_bitrix24's forced order breaks).
  r->AddRead("crm.timeline.comment.list", [](const PortalData& d, const MethodCall& call) {
    if (Param(call.params, "order") != nullptr) {
      return Error(400, "INVALID_ARG_VALUE", "Parameter 'order' is not supported by this method");
    }
    ListCall lc = ReadListParams(call.params);
    lc.mode = TotalMode::kNextOnly;
    return RunListMethod(d.timeline_comment, lc);
  });

  r->AddWrite("crm.timeline.comment.add", [](PortalData& d, const MethodCall& call) {
    const json* fields = Param(call.params, "fields");
    if (fields == nullptr || !fields->is_object()) return Error(400, "INVALID_ARG_VALUE", "Parameter 'fields' must be an object");
    for (const char* required : {"ENTITY_ID", "ENTITY_TYPE", "COMMENT"}) {
      const json* v = Param(*fields, required);
      std::optional<std::string> text = v != nullptr ? ScalarText(*v) : std::nullopt;
      if (!text || text->empty()) {
        return Error(400, "INVALID_ARG_VALUE", std::string("Required field ") + required + " is missing");
      }
    }
    Table& t = d.timeline_comment;
    Row& row = t.Insert();
    t.Set(row, t.def().Find("CREATED"), FormatDateTime(d.now()));
    t.Set(row, t.def().Find("AUTHOR_ID"), std::to_string(call.user_id));
    ApplyFields(t, row, *fields, &d.next_multi_id);
    int type = t.def().Find("ENTITY_TYPE");
    Cell entity_type = t.Get(row, type);  // kept alive: AsText points into it
    if (const std::string* s = AsText(entity_type)) t.Set(row, type, absl::AsciiStrToLower(*s));
    MethodResult res = Ok(row.id);
    res.created_entity = "crm.timeline.comment";
    return res;
  });
}

}  // namespace b24emu::data
