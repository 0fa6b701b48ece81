// Helpers shared by the method families: the list-method pipeline
// (filter → order → page → select → render) and common argument checks.
#ifndef B24EMU_DATA_METHODS_COMMON_H_
#define B24EMU_DATA_METHODS_COMMON_H_

#include <string>

#include <nlohmann/json.hpp>

#include "data/list_query.h"
#include "data/order_select.h"
#include "data/params.h"
#include "data/render.h"
#include "data/table.h"
#include "method_api.h"

namespace b24emu::data {

// Old CRM methods answer errors with HTTP 400 and an empty code.
inline MethodResult CrmError(std::string description) { return Error(400, "", std::move(description)); }

struct ListCall {
  const nlohmann::json* filter = nullptr;  // may be null
  const nlohmann::json* order = nullptr;
  const nlohmann::json* select = nullptr;
  int64_t start = 0;
  std::vector<OrderKey> default_order;  // when `order` is absent or empty
  SelectDefault select_default = SelectDefault::kStandard;
  TotalMode mode = TotalMode::kCount;
  Style style = Style::kUpper;
};

// Reads filter/order/select/start from `params` (case-insensitive names).
ListCall ReadListParams(const nlohmann::json& params);

// Runs the list and renders the page as a JSON array in result; total/next
// and work filled in. Extra filter conditions (e.g. a required parent) are
// appended by the caller through `extra`.
MethodResult RunListMethod(const Table& table, const ListCall& call,
                           const std::vector<Condition>& extra = {});

// Renders a page's rows (for callers that wrap the list).
nlohmann::json RenderRows(const Table& table, const ListPage& page, const std::vector<int>& fields,
                          Style style);

}  // namespace b24emu::data

#endif  // B24EMU_DATA_METHODS_COMMON_H_
