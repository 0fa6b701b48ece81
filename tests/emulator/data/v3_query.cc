#include "data/v3_query.h"

#include <algorithm>
#include <utility>

#include "absl/strings/ascii.h"
#include "absl/strings/str_cat.h"
#include "data/values.h"

namespace b24emu::data {
namespace {

using json = nlohmann::json;

std::optional<MethodResult> ParseCondition(const json& c, const std::string& dto, V3Condition* out) {
  if (c.is_object()) {
    const std::string logic = absl::AsciiStrToLower(c.value("logic", std::string("and")));
    auto conditions = c.find("conditions");
    if ((logic != "and" && logic != "or") || conditions == c.end() || !conditions->is_array()) {
      return V3Invalid("filter", "A condition group needs `logic` (and/or) and `conditions`");
    }
    out->any = logic == "or";
    return ParseV3Filter(*conditions, dto, &out->children);
  }
  if (!c.is_array() || c.size() < 2 || c.size() > 3 || !c[0].is_string()) {
    return V3Invalid("filter", "A condition is [field, operator, value] or [field, value]");
  }
  const std::string field = c[0].get<std::string>();
  if (field != "id") {
    return V3Invalid(field, absl::StrCat("In DTO `", dto, "`, the `", field,
                                         "` field requires the `Filterable` attribute"));
  }
  const json& value = c.back();
  out->op = c.size() == 3 && c[1].is_string() ? c[1].get<std::string>()
                                              : (value.is_array() ? "in" : "=");
  static const char* kOps[] = {"=", "!=", ">", ">=", "<", "<=", "in", "between"};
  if (std::find_if(std::begin(kOps), std::end(kOps),
                   [&](const char* op) { return out->op == op; }) == std::end(kOps)) {
    return V3Error(kV3UnknownOperator, absl::StrCat("Unknown filter operator `", out->op, "`"));
  }
  for (const json& v : value.is_array() ? value : json::array({value})) {
    std::optional<int64_t> n = JsonToInt(v);
    if (!n) return V3Invalid("id", "The `id` field requires an integer data type for this request");
    out->values.push_back(*n);
  }
  const bool list_op = out->op == "in" || out->op == "between";
  if (out->values.empty() || (!list_op && out->values.size() != 1) ||
      (out->op == "between" && out->values.size() != 2)) {
    return V3Invalid("id", absl::StrCat("Wrong value for the operator `", out->op, "`"));
  }
  return std::nullopt;
}

bool Matches(const V3Condition& c, int64_t id) {
  if (c.op.empty()) return V3Matches(c.children, id, c.any);
  const int64_t v = c.values[0];
  if (c.op == "=") return id == v;
  if (c.op == "!=") return id != v;
  if (c.op == ">") return id > v;
  if (c.op == ">=") return id >= v;
  if (c.op == "<") return id < v;
  if (c.op == "<=") return id <= v;
  if (c.op == "between") return id >= v && id <= c.values[1];
  return std::find(c.values.begin(), c.values.end(), id) != c.values.end();
}

}  // namespace

MethodResult V3Error(std::string code, std::string message, json validation) {
  MethodResult r = Error(400, std::move(code), std::move(message));
  r.validation = std::move(validation);
  return r;
}

MethodResult V3Invalid(const std::string& field, const std::string& message) {
  return V3Error(kV3Validation, "Error validating the request object",
                 json::array({{{"field", field}, {"message", message}}}));
}

std::optional<int64_t> V3IdOf(const json& params) {
  auto it = params.find("id");
  if (it == params.end()) return std::nullopt;
  std::optional<int64_t> id = JsonToInt(*it);
  if (!id || *id <= 0) return std::nullopt;
  return id;
}

std::optional<MethodResult> ParseV3Filter(const json& list, const std::string& dto,
                                          V3Conditions* out) {
  if (!list.is_array()) return V3Invalid("filter", "The `filter` field requires an array");
  for (const json& c : list) {
    V3Condition parsed;
    if (auto err = ParseCondition(c, dto, &parsed)) return err;
    out->push_back(std::move(parsed));
  }
  return std::nullopt;
}

bool V3Matches(const V3Conditions& list, int64_t id, bool any) {
  if (list.empty()) return true;
  for (const V3Condition& c : list) {
    if (Matches(c, id) == any) return any;
  }
  return !any;
}

std::optional<MethodResult> ParseV3Pagination(const json& params, int64_t default_limit,
                                              int64_t max_limit, V3Page* out) {
  out->limit = default_limit;
  out->offset = 0;
  auto it = params.find("pagination");
  if (it == params.end()) return std::nullopt;
  auto bad = [&] {
    return V3Error(kV3BadPagination,
                   absl::StrCat("Unable to recognize the pagination parameter `", it->dump(), "`"));
  };
  if (!it->is_object()) return bad();
  std::optional<int64_t> page, limit, offset;
  for (const auto& [name, value] : it->items()) {
    std::optional<int64_t> n = JsonToInt(value);
    if (!n || *n < 0) return bad();
    if (name == "page") page = n;
    else if (name == "limit") limit = n;
    else if (name == "offset") offset = n;
    else return bad();
  }
  // The docs refuse only `limit` 0. Page 0 is the first page: the official
  // JS SDK's callList/fetchList send it on every request.
  if (limit && *limit == 0) return bad();
  out->limit = std::min(limit.value_or(default_limit), max_limit);
  out->offset = offset ? *offset : (std::max<int64_t>(page.value_or(1), 1) - 1) * out->limit;
  return std::nullopt;
}

}  // namespace b24emu::data
