#include "data/params.h"

#include <algorithm>
#include <string>

#include "absl/strings/match.h"
#include "absl/strings/numbers.h"
#include "data/values.h"

namespace b24emu::data {

const json* Param(const json& params, std::string_view name) {
  if (!params.is_object()) return nullptr;
  auto exact = params.find(std::string(name));
  if (exact != params.end()) return &*exact;
  for (auto it = params.begin(); it != params.end(); ++it) {
    if (absl::EqualsIgnoreCase(it.key(), absl::string_view(name.data(), name.size()))) return &it.value();
  }
  return nullptr;
}

const json* Positional(const json& params, size_t i) {
  if (params.is_array()) return i < params.size() ? &params[i] : nullptr;
  if (params.is_object()) {
    auto it = params.find(std::to_string(i));
    if (it != params.end()) return &*it;
  }
  return nullptr;
}

std::vector<const json*> ListItems(const json& v) {
  std::vector<const json*> out;
  if (v.is_array()) {
    for (const json& e : v) out.push_back(&e);
  } else if (v.is_object()) {
    std::vector<std::pair<std::string, const json*>> items;
    for (auto it = v.begin(); it != v.end(); ++it) items.emplace_back(it.key(), &it.value());
    std::stable_sort(items.begin(), items.end(), [](const auto& a, const auto& b) {
      int64_t x, y;
      bool nx = absl::SimpleAtoi(a.first, &x), ny = absl::SimpleAtoi(b.first, &y);
      if (nx && ny) return x < y;
      return nx && !ny;
    });
    for (auto& [k, p] : items) out.push_back(p);
  } else if (!v.is_null()) {
    out.push_back(&v);
  }
  return out;
}

int64_t StartParam(const json& params) {
  const json* s = Param(params, "start");
  if (s == nullptr) return 0;
  std::optional<int64_t> v = JsonToInt(*s);
  if (!v) return 0;
  if (*v == -1) return -1;
  return std::max<int64_t>(0, *v);
}

std::optional<int64_t> IntParam(const json& params, std::string_view name) {
  const json* v = Param(params, name);
  if (v == nullptr) return std::nullopt;
  return JsonToInt(*v);
}

}  // namespace b24emu::data
