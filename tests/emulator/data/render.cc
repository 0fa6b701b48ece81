#include "data/render.h"

#include <string>
#include <utility>
#include <variant>

#include "absl/strings/str_split.h"
#include "data/values.h"

namespace b24emu::data {
namespace {

using json = nlohmann::json;

bool IsIntegerType(FieldType t) {
  switch (t) {
    case FieldType::kInteger:
    case FieldType::kUser:
    case FieldType::kCrmCategory:
    case FieldType::kCrmLead:
    case FieldType::kCrmCompany:
    case FieldType::kCrmContact:
    case FieldType::kCrmDeal:
      return true;
    default:
      return false;
  }
}

json IntList(const std::string& s) {
  json out = json::array();
  for (absl::string_view p : absl::StrSplit(s, ',', absl::SkipEmpty())) {
    std::optional<int64_t> v = ParseInteger(p);
    if (v) out.push_back(*v);
  }
  return out;
}

// True when RenderValue writes a text cell as that very text.
bool RendersAsText(const FieldDef& field, Style style) {
  switch (style) {
    case Style::kUpper:
    case Style::kTask:
      return true;
    case Style::kUser:
      return field.type != FieldType::kBoolean && field.type != FieldType::kIntegerList;
    case Style::kItem:
      return !IsIntegerType(field.type) && field.type != FieldType::kDouble &&
             field.type != FieldType::kBoolean && field.type != FieldType::kIntegerList;
  }
  return false;
}

}  // namespace

json RenderValue(const Cell& cell, const FieldDef& field, Style style) {
  if (const MultiList* m = std::get_if<MultiList>(&cell)) {
    json out = json::array();
    for (const MultiValue& v : *m) {
      out.push_back({{"ID", std::to_string(v.id)},
                     {"VALUE_TYPE", v.value_type},
                     {"VALUE", v.value},
                     {"TYPE_ID", field.name}});
    }
    return out;
  }
  if (const LinkList* l = std::get_if<LinkList>(&cell)) {
    json out = json::array();
    for (const ContactLink& link : *l) out.push_back(link.contact_id);
    return out;
  }
  const std::string* s = AsText(cell);
  if (s == nullptr) return nullptr;
  switch (style) {
    case Style::kUpper:
    case Style::kTask:
      return *s;
    case Style::kUser:
      if (field.type == FieldType::kBoolean) return *s == "Y";
      if (field.type == FieldType::kIntegerList) return IntList(*s);
      return *s;
    case Style::kItem:
      if (IsIntegerType(field.type)) {
        std::optional<int64_t> v = ParseInteger(*s);
        if (v) return *v;
      }
      if (field.type == FieldType::kDouble) {
        std::optional<double> v = ParseNumber(*s);
        if (v) return *v;
      }
      if (field.type == FieldType::kBoolean) return *s == "Y";
      if (field.type == FieldType::kIntegerList) return IntList(*s);
      return *s;
  }
  return *s;
}

json RenderRow(const Table& table, const Row& row, const std::vector<int>& fields, Style style) {
  json out = json::object();
  const bool camel = style == Style::kItem || style == Style::kTask;
  for (int i : fields) {
    const FieldDef& f = table.def().field(i);
    if (f.type == FieldType::kContactLinks) continue;
    Cell cell = table.Get(row, i);
    if (f.type == FieldType::kCrmMultifield) {
      const MultiList* m = std::get_if<MultiList>(&cell);
      if (m == nullptr || m->empty() || style != Style::kUpper) continue;
    }
    // A text cell is the row's own copy (Table::Get): moved into the answer.
    std::string* text = std::get_if<std::string>(&cell);
    out[camel ? f.camel : f.name] =
        text != nullptr && RendersAsText(f, style) ? json(std::move(*text)) : RenderValue(cell, f, style);
  }
  return out;
}

json DescribeField(const FieldDef& f) {
  json d = {{"type", TypeName(f.type)},
            {"isRequired", f.required},
            {"isReadOnly", f.read_only},
            {"isImmutable", false},
            {"isMultiple", f.multiple},
            {"isDynamic", f.custom},
            {"title", f.custom ? f.name : f.title}};
  if (!f.status_type.empty()) d["statusType"] = f.status_type;
  if (f.custom) {
    d["listLabel"] = f.title;
    d["formLabel"] = f.title;
    d["filterLabel"] = f.title;
  }
  return d;
}

}  // namespace b24emu::data
