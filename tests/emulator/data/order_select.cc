#include "data/order_select.h"

#include "absl/strings/ascii.h"
#include "absl/strings/match.h"
#include "data/params.h"
#include "data/values.h"

namespace b24emu::data {

namespace {

void AddKey(const std::string& name, const json& dir, const EntityDef& def, std::vector<OrderKey>* out) {
  int field = def.Find(name);
  if (field < 0) return;
  std::optional<std::string> d = ScalarText(dir);
  out->push_back({field, d && absl::EqualsIgnoreCase(*d, "desc")});
}

}  // namespace

std::vector<OrderKey> ParseOrder(const json& order, const EntityDef& def) {
  std::vector<OrderKey> out;
  if (order.is_object()) {
    for (auto it = order.begin(); it != order.end(); ++it) AddKey(it.key(), it.value(), def, &out);
  } else if (order.is_array()) {
    // Ordered forms: [{"STAGE_ID":"ASC"},{"ID":"DESC"}] or [["STAGE_ID","ASC"],...].
    for (const json& item : order) {
      if (item.is_object()) {
        for (auto it = item.begin(); it != item.end(); ++it) AddKey(it.key(), it.value(), def, &out);
      } else if (item.is_array() && item.size() == 2 && item[0].is_string()) {
        AddKey(item[0].get<std::string>(), item[1], def, &out);
      }
    }
  }
  return out;
}

std::vector<int> ParseSelect(const json& select, const EntityDef& def, SelectDefault dflt) {
  std::vector<bool> chosen(def.size(), false);
  bool any = false;
  for (const json* item : ListItems(select)) {
    std::optional<std::string> name = ScalarText(*item);
    if (!name || name->empty()) continue;
    any = true;
    if (*name == "*") {
      for (int i = 0; i < def.size(); ++i) {
        const FieldDef& f = def.field(i);
        chosen[i] = chosen[i] || f.IsSelectedByStar() || (dflt == SelectDefault::kAll && f.custom);
      }
    } else if (absl::EqualsIgnoreCase(*name, "UF_*")) {
      for (int i = 0; i < def.size(); ++i) chosen[i] = chosen[i] || def.field(i).custom;
    } else {
      int i = def.Find(*name);
      if (i >= 0) chosen[i] = true;
    }
  }
  if (!any) {
    for (int i = 0; i < def.size(); ++i) {
      const FieldDef& f = def.field(i);
      chosen[i] = f.IsSelectedByStar() || (dflt == SelectDefault::kAll && f.custom);
    }
  }
  chosen[0] = true;
  std::vector<int> out;
  for (int i = 0; i < def.size(); ++i) {
    if (chosen[i]) out.push_back(i);
  }
  return out;
}

std::vector<int> AllFields(const EntityDef& def) {
  std::vector<int> out;
  for (int i = 0; i < def.size(); ++i) {
    if (def.field(i).type != FieldType::kContactLinks) out.push_back(i);
  }
  return out;
}

}  // namespace b24emu::data
