#include "engine/cache/cache_key.h"

#include <algorithm>
#include <vector>

#include "absl/strings/ascii.h"
#include "absl/strings/str_split.h"
#include "absl/strings/str_join.h"
#include "engine/common/glob.h"

namespace b24gate {
namespace {

void AppendCanonical(const nlohmann::ordered_json& value, bool keep_order, std::string* out) {
  if (value.is_object()) {
    std::vector<const std::string*> keys;
    for (auto it = value.begin(); it != value.end(); ++it) keys.push_back(&it.key());
    if (!keep_order) {
      std::sort(keys.begin(), keys.end(), [](const std::string* a, const std::string* b) { return *a < *b; });
    }
    out->push_back('{');
    for (size_t i = 0; i < keys.size(); ++i) {
      if (i > 0) out->push_back(',');
      out->append(nlohmann::ordered_json(*keys[i]).dump());
      out->push_back(':');
      // Below an `order` key everything keeps its given order.
      bool order = keep_order || absl::AsciiStrToLower(*keys[i]) == "order";
      AppendCanonical(value.at(*keys[i]), order, out);
    }
    out->push_back('}');
  } else if (value.is_array()) {
    out->push_back('[');
    for (size_t i = 0; i < value.size(); ++i) {
      if (i > 0) out->push_back(',');
      AppendCanonical(value[i], keep_order, out);
    }
    out->push_back(']');
  } else {
    out->append(value.dump());
  }
}

}  // namespace

std::string CanonicalParams(const nlohmann::ordered_json& params) {
  std::string out;
  AppendCanonical(params, /*keep_order=*/false, &out);
  return out;
}

std::string EntityOf(absl::string_view normalized_method) {
  std::vector<absl::string_view> parts = absl::StrSplit(normalized_method, '.');
  if (parts.size() > 1) parts.pop_back();
  if (parts.size() > 2) parts.resize(2);
  return absl::StrJoin(parts, ".");
}

bool MethodMatches(absl::string_view pattern, absl::string_view method) {
  return GlobMatches(pattern, method);
}

}  // namespace b24gate
