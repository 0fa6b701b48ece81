// Field catalogs: what each emulated entity consists of. An EntityDef lists
// the fields in the order Bitrix24 emits them, with their wire names (UPPER for
// the classic methods, camelCase for crm.item/tasks), their type (which decides
// how filters compare and how values render), the flags `*.fields` reports,
// and how a seeded row computes the value lazily from its id.
//
// Thread-safety: EntityDefs are immutable after construction and shared.
#ifndef B24EMU_DATA_ENTITY_DEF_H_
#define B24EMU_DATA_ENTITY_DEF_H_

#include <string>
#include <string_view>
#include <vector>

#include "absl/container/flat_hash_map.h"
#include "data/cell.h"

namespace b24emu::data {

enum class FieldType {
  kInteger,
  kDouble,       // money: "1000000.00"
  kString,
  kChar,         // Y/N flag
  kBoolean,      // Y/N stored; user.get renders a JSON bool
  kDate,
  kDateTime,
  kCrmStatus,    // a STATUS_ID from crm.status.list (statusType says which list)
  kCrmCurrency,
  kCrmCategory,
  kUser,         // a user id
  kCrmLead,
  kCrmCompany,
  kCrmContact,
  kCrmDeal,
  kCrmMultifield,  // PHONE/EMAIL/WEB/IM: a MultiList cell
  kContactLinks,   // internal: a LinkList cell (deal/lead ↔ contact bindings)
  kIntegerList,    // "1,3" stored; rendered as [1,3] (UF_DEPARTMENT)
};

// Ordering class of a field type for filters and `order`.
enum class CompareKind { kNumeric, kDate, kText };
CompareKind CompareKindOf(FieldType type);
// The name `*.fields` reports ("integer", "crm_status", ...).
const char* TypeName(FieldType type);

class Table;
struct Row;
struct SeedContext;

// Computes a seeded row's value from its id (never called for added rows).
using Generator = Cell (*)(const Row& row, const SeedContext& ctx);
// Computes a read-only value from other fields of the row (HAS_PHONE, CLOSED).
using Deriver = Cell (*)(const Table& table, const Row& row);

struct FieldDef {
  std::string name;   // UPPER_CASE wire name ("ASSIGNED_BY_ID")
  std::string camel;  // camelCase name ("assignedById"); derived when empty
  FieldType type = FieldType::kString;
  std::string title;
  bool required = false;
  bool read_only = false;
  bool multiple = false;
  bool custom = false;  // a UF_* user field: selected by "UF_*", not by "*"
  std::string status_type;  // kCrmStatus: ENTITY_ID of its crm.status.list
  Generator gen = nullptr;
  Deriver derive = nullptr;
  // Omitted from "*" selects and default rendering (multi-fields, links).
  bool IsSelectedByStar() const {
    return !custom && type != FieldType::kCrmMultifield && type != FieldType::kContactLinks;
  }
};

// Bitrix StringHelper::snake2camel: "ASSIGNED_BY_ID" → "assignedById",
// "UF_CRM_5_1700000101" → "ufCrm5_1700000101" (the '_' between two digit
// groups survives).
std::string SnakeToCamel(std::string_view upper);

class EntityDef {
 public:
  // `fields[0]` must be the integer ID.
  EntityDef(std::string name, std::vector<FieldDef> fields);

  const std::string& name() const { return name_; }
  const std::vector<FieldDef>& fields() const { return fields_; }
  const FieldDef& field(int i) const { return fields_[i]; }
  int size() const { return static_cast<int>(fields_.size()); }

  // Index of a field by UPPER or camel name, case-insensitively; -1 if none.
  int Find(std::string_view name) const;
  // Makes `alias` (e.g. "ENTITY_TYPE") another name of `target`'s field.
  void AddAlias(std::string_view alias, std::string_view target);

 private:
  std::string name_;
  std::vector<FieldDef> fields_;
  absl::flat_hash_map<std::string, int> by_name_;  // lower-cased names
};

}  // namespace b24emu::data

#endif  // B24EMU_DATA_ENTITY_DEF_H_
