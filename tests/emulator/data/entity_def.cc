#include "data/entity_def.h"

#include <cctype>
#include <utility>

#include "absl/strings/ascii.h"

namespace b24emu::data {

CompareKind CompareKindOf(FieldType type) {
  switch (type) {
    case FieldType::kInteger:
    case FieldType::kDouble:
    case FieldType::kUser:
    case FieldType::kCrmCategory:
    case FieldType::kCrmLead:
    case FieldType::kCrmCompany:
    case FieldType::kCrmContact:
    case FieldType::kCrmDeal:
    case FieldType::kIntegerList:
      return CompareKind::kNumeric;
    case FieldType::kDate:
    case FieldType::kDateTime:
      return CompareKind::kDate;
    default:
      return CompareKind::kText;
  }
}

const char* TypeName(FieldType type) {
  switch (type) {
    case FieldType::kInteger: return "integer";
    case FieldType::kDouble: return "double";
    case FieldType::kString: return "string";
    case FieldType::kChar: return "char";
    case FieldType::kBoolean: return "boolean";
    case FieldType::kDate: return "date";
    case FieldType::kDateTime: return "datetime";
    case FieldType::kCrmStatus: return "crm_status";
    case FieldType::kCrmCurrency: return "crm_currency";
    case FieldType::kCrmCategory: return "crm_category";
    case FieldType::kUser: return "user";
    case FieldType::kCrmLead: return "crm_lead";
    case FieldType::kCrmCompany: return "crm_company";
    case FieldType::kCrmContact: return "crm_contact";
    case FieldType::kCrmDeal: return "crm_deal";
    case FieldType::kCrmMultifield: return "crm_multifield";
    case FieldType::kContactLinks: return "crm_contact";
    case FieldType::kIntegerList: return "integer";
  }
  return "string";
}

std::string SnakeToCamel(std::string_view upper) {
  std::string out;
  bool first = true;
  size_t pos = 0;
  while (pos <= upper.size()) {
    size_t end = upper.find('_', pos);
    if (end == std::string_view::npos) end = upper.size();
    std::string part = absl::AsciiStrToLower(std::string(upper.substr(pos, end - pos)));
    if (!part.empty()) {
      if (!first && !out.empty() && std::isdigit(static_cast<unsigned char>(out.back())) &&
          std::isdigit(static_cast<unsigned char>(part[0]))) {
        out += '_';
      }
      if (!first) part[0] = static_cast<char>(std::toupper(static_cast<unsigned char>(part[0])));
      out += part;
      first = false;
    }
    pos = end + 1;
  }
  return out;
}

EntityDef::EntityDef(std::string name, std::vector<FieldDef> fields)
    : name_(std::move(name)), fields_(std::move(fields)) {
  for (int i = 0; i < size(); ++i) {
    FieldDef& f = fields_[i];
    if (f.camel.empty()) f.camel = SnakeToCamel(f.name);
    if (f.title.empty()) f.title = f.name;
    by_name_.emplace(absl::AsciiStrToLower(f.name), i);
    by_name_.emplace(absl::AsciiStrToLower(f.camel), i);
  }
}

int EntityDef::Find(std::string_view name) const {
  auto it = by_name_.find(absl::AsciiStrToLower(std::string(name)));
  return it == by_name_.end() ? -1 : it->second;
}

void EntityDef::AddAlias(std::string_view alias, std::string_view target) {
  int i = Find(target);
  if (i >= 0) by_name_.emplace(absl::AsciiStrToLower(std::string(alias)), i);
}

}  // namespace b24emu::data
