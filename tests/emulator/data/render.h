// Rows → JSON in the four wire styles Bitrix24 uses.
#ifndef B24EMU_DATA_RENDER_H_
#define B24EMU_DATA_RENDER_H_

#include <vector>

#include <nlohmann/json.hpp>

#include "data/table.h"

namespace b24emu::data {

enum class Style {
  kUpper,  // classic crm.*: UPPER keys, every scalar a string, multi-fields as lists
  kItem,   // crm.item.*: camelCase keys, real JSON types (ids and money as numbers)
  kTask,   // tasks.task.*: camelCase keys, scalars as strings
  kUser,   // user.*: UPPER keys, strings, ACTIVE a bool, UF_DEPARTMENT a list of ints
};

// The value of one field. Multi-fields render as
// [{"ID":"156","VALUE_TYPE":"WORK","VALUE":"+1...","TYPE_ID":"PHONE"}].
nlohmann::json RenderValue(const Cell& cell, const FieldDef& field, Style style);

// An object of the given fields. Empty multi-fields are omitted (Bitrix
// leaves the key out when a row has no phone), as are link fields.
nlohmann::json RenderRow(const Table& table, const Row& row, const std::vector<int>& fields, Style style);

// The `*.fields` description of one field.
nlohmann::json DescribeField(const FieldDef& field);

}  // namespace b24emu::data

#endif  // B24EMU_DATA_RENDER_H_
