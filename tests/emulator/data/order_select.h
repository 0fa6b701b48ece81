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

// `{"STAGE_ID":"ASC","ID":"DESC"}` → keys in the object's iteration order.
// Caveat: nlohmann::json objects iterate in key order, not in the order the
// client sent, so the protocol layer must keep the order some other way for
// multi-key priority to survive; the ordered forms
// `[{"STAGE_ID":"ASC"},{"ID":"DESC"}]` and `[["STAGE_ID","ASC"],...]` are
// accepted for that. Unknown fields are ignored, as Bitrix does; any
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
