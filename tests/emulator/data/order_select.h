// The `order` and `select` parameters of list methods.
#ifndef B24EMU_DATA_ORDER_SELECT_H_
#define B24EMU_DATA_ORDER_SELECT_H_

#include <vector>

#include <nlohmann/json.hpp>

#include "data/entity_def.h"

namespace b24emu::data {

struct OrderKey {
  int field = 0;
  bool desc = false;
};

// `{"STAGE_ID":"ASC","ID":"DESC"}` → keys in the map's order (the JSON object
// keeps insertion order). Unknown fields are ignored, as Bitrix does; any
// direction other than DESC (case-insensitive) is ASC.
std::vector<OrderKey> ParseOrder(const nlohmann::json& order, const EntityDef& def);

enum class SelectDefault {
  kStandard,  // absent/empty select = "*" (classic CRM lists)
  kAll,       // "*" and absent/empty select include UF_* too (crm.item)
};

// Field indices to render, in catalog order: `*` = standard fields (no UF_,
// no multi-fields), `UF_*` = custom fields, names (UPPER or camel,
// case-insensitive) = themselves, including multi-fields; ID always.
std::vector<int> ParseSelect(const nlohmann::json& select, const EntityDef& def, SelectDefault dflt);

// Every renderable field: standard + custom + multi-fields (what `get` shows).
std::vector<int> AllFields(const EntityDef& def);

}  // namespace b24emu::data

#endif  // B24EMU_DATA_ORDER_SELECT_H_
