#include "data/field_write.h"

#include <algorithm>
#include <string>

#include "data/params.h"
#include "data/values.h"

namespace b24emu::data {
namespace {

bool IsYes(const json* v) {
  if (v == nullptr) return false;
  std::optional<std::string> t = NormaliseInput(*v, FieldType::kChar);
  return t && *t == "Y";
}

MultiList EditMulti(MultiList current, const json& v, int64_t* next_multi_id) {
  if (v.is_null()) return {};
  for (const json* item : ListItems(v)) {
    if (!item->is_object()) {
      // A bare value (fields[PHONE]=123) adds a WORK item.
      std::optional<std::string> s = ScalarText(*item);
      if (s && !s->empty()) current.push_back({(*next_multi_id)++, "WORK", *s});
      continue;
    }
    const json* id_json = Param(*item, "ID");
    const json* value = Param(*item, "VALUE");
    const json* type = Param(*item, "VALUE_TYPE");
    std::optional<int64_t> id = id_json != nullptr ? JsonToInt(*id_json) : std::nullopt;
    std::optional<std::string> text = value != nullptr ? ScalarText(*value) : std::nullopt;
    std::optional<std::string> type_text = type != nullptr ? ScalarText(*type) : std::nullopt;
    if (id) {
      auto it = std::find_if(current.begin(), current.end(), [&](const MultiValue& m) { return m.id == *id; });
      if (it == current.end()) continue;
      if (IsYes(Param(*item, "DELETE")) || (value != nullptr && (!text || text->empty()))) {
        current.erase(it);
        continue;
      }
      if (text) it->value = *text;
      if (type_text && !type_text->empty()) it->value_type = *type_text;
    } else if (text && !text->empty() && !IsYes(Param(*item, "DELETE"))) {
      current.push_back({(*next_multi_id)++, type_text && !type_text->empty() ? *type_text : "WORK", *text});
    }
  }
  return current;
}

}  // namespace

LinkList GetLinks(const Table& table, const Row& row) {
  int i = table.def().Find("CONTACT_IDS");
  if (i < 0 || table.def().field(i).type != FieldType::kContactLinks) return {};
  Cell c = table.Get(row, i);
  const LinkList* l = std::get_if<LinkList>(&c);
  return l == nullptr ? LinkList{} : *l;
}

void SetLinks(Table& table, Row& row, LinkList links) {
  int i = table.def().Find("CONTACT_IDS");
  if (i < 0 || table.def().field(i).type != FieldType::kContactLinks) return;
  bool primary_seen = false;
  for (ContactLink& l : links) {
    if (l.is_primary && primary_seen) l.is_primary = false;
    primary_seen = primary_seen || l.is_primary;
  }
  if (!primary_seen && !links.empty()) links[0].is_primary = true;
  table.Set(row, i, std::move(links));
}

void ApplyFields(Table& table, Row& row, const json& fields, int64_t* next_multi_id) {
  const EntityDef& def = table.def();
  const int links_field = def.Find("CONTACT_IDS");
  const bool has_links = links_field >= 0 && def.field(links_field).type == FieldType::kContactLinks;
  for (auto it = fields.begin(); it != fields.end(); ++it) {
    int i = def.Find(it.key());
    if (i <= 0) continue;  // unknown, or ID
    const FieldDef& f = def.field(i);
    const json& v = it.value();
    if (has_links && f.name == "CONTACT_ID") {
      // CONTACT_ID writes the primary binding.
      LinkList links = GetLinks(table, row);
      std::optional<int64_t> cid = JsonToInt(v);
      if (!cid || *cid <= 0) {
        links.clear();
      } else {
        links.erase(std::remove_if(links.begin(), links.end(),
                                   [&](const ContactLink& l) { return l.contact_id == *cid; }),
                    links.end());
        for (ContactLink& l : links) l.is_primary = false;
        links.insert(links.begin(), ContactLink{*cid, 10, 0, true});
      }
      SetLinks(table, row, std::move(links));
      continue;
    }
    if (f.read_only || f.derive != nullptr) continue;
    switch (f.type) {
      case FieldType::kCrmMultifield: {
        Cell current = table.Get(row, i);
        const MultiList* m = std::get_if<MultiList>(&current);
        table.Set(row, i, EditMulti(m == nullptr ? MultiList{} : *m, v, next_multi_id));
        break;
      }
      case FieldType::kContactLinks: {
        LinkList links;
        for (const json* e : ListItems(v)) {
          std::optional<int64_t> cid = JsonToInt(*e);
          if (cid && *cid > 0) links.push_back({*cid, 10 * (static_cast<int>(links.size()) + 1), 0, false});
        }
        SetLinks(table, row, std::move(links));
        break;
      }
      default: {
        std::optional<std::string> text = NormaliseInput(v, f.type);
        if (text) {
          table.Set(row, i, std::move(*text));
        } else {
          table.Set(row, i, std::monostate{});
        }
      }
    }
  }
}

}  // namespace b24emu::data
