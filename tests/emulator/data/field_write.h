// Writes of `add`/`update` `fields` onto a row, with Bitrix semantics: only
// the given fields change, JSON null (or "") erases, read-only and unknown
// fields are ignored, and multi-fields are edited item by item — items with
// an ID change, `{ID, DELETE:"Y"}` (or an empty VALUE) deletes, items
// without ID are added.
#ifndef B24EMU_DATA_FIELD_WRITE_H_
#define B24EMU_DATA_FIELD_WRITE_H_

#include <cstdint>

#include <nlohmann/json.hpp>

#include "data/table.h"

namespace b24emu::data {

// REQUIRES: `fields` is an object. `next_multi_id` numbers new multi-field
// items portal-wide.
void ApplyFields(Table& table, Row& row, const nlohmann::json& fields, int64_t* next_multi_id);

// Replaces the contact bindings of `row` (its CONTACT_IDS field). The first
// primary link wins; with none marked, the first becomes primary.
void SetLinks(Table& table, Row& row, LinkList links);
// The contact bindings of `row` (empty when the entity has none).
LinkList GetLinks(const Table& table, const Row& row);

}  // namespace b24emu::data

#endif  // B24EMU_DATA_FIELD_WRITE_H_
