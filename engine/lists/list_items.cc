#include "engine/lists/list_items.h"

#include <algorithm>

#include "absl/strings/ascii.h"
#include "absl/strings/numbers.h"
#include "absl/strings/str_cat.h"

namespace b24gate {

bool ItemExtractor::Extract(const Json& result, std::vector<Json>* items) {
  Json copy = result;
  return Take(&copy, items);
}

bool ItemExtractor::Take(Json* result, std::vector<Json>* items) {
  Json* list = result;
  if (!items_key_.empty()) {
    if (!result->is_object() || !result->contains(items_key_)) {
      // An empty wrapped list may come back as `[]` (PHP's empty map).
      return result->is_array() && result->empty();
    }
    list = &(*result)[items_key_];
  } else if (result->is_object() && result->size() == 1 && result->begin()->is_array()) {
    // Auto-detect a wrapped list the table does not know: {"things": [...]}.
    items_key_ = result->begin().key();
    list = &*result->begin();
  }
  if (!list->is_object() && !list->is_array()) return false;
  // An object: PHP `{}` for none, or a map with non-sequential keys: its
  // values.
  items->reserve(items->size() + list->size());
  for (auto& v : *list) items->push_back(std::move(v));
  return true;
}

bool ToInt64(const Json& v, int64_t* out) {
  if (v.is_number_integer()) {
    *out = v.get<int64_t>();
    return true;
  }
  if (v.is_number_float()) {
    double d = v.get<double>();
    if (d != static_cast<double>(static_cast<int64_t>(d))) return false;
    *out = static_cast<int64_t>(d);
    return true;
  }
  if (v.is_string()) return absl::SimpleAtoi(v.get<std::string>(), out);
  return false;
}

std::optional<int64_t> ItemId(const Json& item, const std::string& field) {
  if (!item.is_object()) return std::nullopt;
  auto it = item.find(field);
  int64_t id = 0;
  if (it == item.end() || !ToInt64(*it, &id)) return std::nullopt;
  return id;
}

bool OrderAllowsKeyset(const Json& params, const std::string& field) {
  auto it = params.find("order");
  if (it == params.end() || it->is_null()) return true;
  if (it->is_array() && it->empty()) return true;
  if (!it->is_object()) return false;
  if (it->empty()) return true;
  if (it->size() != 1) return false;
  auto f = it->begin();
  return absl::AsciiStrToLower(f.key()) == absl::AsciiStrToLower(field) && f->is_string() &&
         absl::AsciiStrToUpper(f->get<std::string>()) == "ASC";
}

absl::StatusOr<CallerIdFilter> SplitIdFilter(const Json& params, const std::string& field) {
  CallerIdFilter out;
  auto filter = params.find("filter");
  if (filter == params.end() || !filter->is_object()) return out;
  const std::string lower_field = absl::AsciiStrToLower(field);
  for (auto it = filter->begin(); it != filter->end(); ++it) {
    std::string key = absl::AsciiStrToLower(it.key());
    std::string op;
    if (key == ">=" + lower_field) {
      op = ">=";
    } else if (key == "<=" + lower_field) {
      op = "<=";
    } else if (key == ">" + lower_field) {
      op = ">";
    } else if (key == "<" + lower_field) {
      op = "<";
    }
    if (op.empty()) {
      out.filter[it.key()] = it.value();
      continue;
    }
    int64_t v = 0;
    if (!ToInt64(it.value(), &v)) {
      return absl::InvalidArgumentError(
          absl::StrCat("params.filter.", it.key(), ": must be an integer id to read the list by id"));
    }
    // Integer ids: >=v is >v-1, <=v is <v+1.
    if (op == ">") out.range.after = std::max(out.range.after, v);
    if (op == ">=") out.range.after = std::max(out.range.after, v - 1);
    int64_t before = op == "<" ? v : v + 1;
    if (op == "<" || op == "<=") {
      out.range.before = out.range.before ? std::min(*out.range.before, before) : before;
    }
  }
  return out;
}

Json KeysetPageParams(const Json& params, const Json& base_filter, const ListShape& shape,
                      const Json& after, std::optional<int64_t> before) {
  Json p = params;
  const std::string& f = shape.keyset_filter_field;
  Json filter = base_filter;
  filter[">" + f] = after;
  if (before) filter["<" + f] = *before;
  p["filter"] = std::move(filter);
  p["order"] = Json::object({{shape.keyset_order_field, "ASC"}});
  // Later pages' references need the id in every row.
  auto select = p.find("select");
  if (select != p.end() && select->is_array() && !select->empty()) {
    bool has = false;
    for (const auto& s : *select) {
      if (s.is_string() &&
          (s.get<std::string>() == "*" ||
           absl::AsciiStrToLower(s.get<std::string>()) == absl::AsciiStrToLower(shape.item_id_field))) {
        has = true;
      }
    }
    if (!has) select->push_back(f);
  }
  p["start"] = -1;
  return p;
}

}  // namespace b24gate
