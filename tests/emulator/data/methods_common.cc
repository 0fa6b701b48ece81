#include "data/methods_common.h"

namespace b24emu::data {

ListCall ReadListParams(const nlohmann::json& params) {
  ListCall c;
  c.filter = Param(params, "filter");
  c.order = Param(params, "order");
  c.select = Param(params, "select");
  c.start = StartParam(params);
  return c;
}

nlohmann::json RenderRows(const Table& table, const ListPage& page, const std::vector<int>& fields,
                          Style style) {
  nlohmann::json rows = nlohmann::json::array();
  for (const Row* row : page.rows) rows.push_back(RenderRow(table, *row, fields, style));
  return rows;
}

MethodResult RunListMethod(const Table& table, const ListCall& call, const std::vector<Condition>& extra) {
  const EntityDef& def = table.def();
  ParsedFilter filter = ParseFilter(call.filter != nullptr ? *call.filter : nlohmann::json(), def);
  filter.conditions.insert(filter.conditions.end(), extra.begin(), extra.end());
  std::vector<OrderKey> order = ParseOrder(call.order != nullptr ? *call.order : nlohmann::json(), def);
  if (order.empty()) order = call.default_order;
  std::vector<int> fields =
      ParseSelect(call.select != nullptr ? *call.select : nlohmann::json(), def, call.select_default);
  ListPage page = RunList(table, filter.conditions, order, call.start, call.mode);
  MethodResult r = Ok(RenderRows(table, page, fields, call.style));
  r.total = page.total;
  r.next = page.next;
  r.work = page.work;
  return r;
}

}  // namespace b24emu::data
