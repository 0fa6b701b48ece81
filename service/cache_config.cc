#include "service/cache_config.h"

#include <cmath>
#include <vector>

#include "absl/strings/ascii.h"
#include "absl/strings/str_cat.h"

namespace b24gate {
namespace {

// Method names are letters, digits, '_' and '.'; a pattern adds '*'.
absl::Status CheckPattern(const std::string& pattern, const std::string& where) {
  if (pattern.empty()) return Bad(where, "must not be empty");
  for (char c : pattern) {
    if (!absl::ascii_isalnum(static_cast<unsigned char>(c)) && c != '_' && c != '.' && c != '*') {
      return Bad(where, "may hold only letters, digits, '_', '.' and '*' (e.g. \"crm.*.list\")");
    }
  }
  return absl::OkStatus();
}

absl::StatusOr<size_t> ReadBound(const ConfigJson& j, const char* key, const std::string& where,
                                 size_t value) {
  double v = static_cast<double>(value);
  B24GATE_RETURN_IF_ERROR(ReadNumber(j, key, where, &v));
  if (!(v >= 1 && v < 1e15) || v != std::floor(v)) {
    return Bad(absl::StrCat(where, ".", key), "must be a whole number >= 1");
  }
  return static_cast<size_t>(v);
}

}  // namespace

absl::StatusOr<CacheOptions> ParseCacheConfig(const ConfigJson& section, const std::string& where) {
  if (!section.is_object()) return Bad(where, "must be an object");
  B24GATE_RETURN_IF_ERROR(CheckKeys(section, where, {"rules", "max_entries", "max_bytes"}));
  CacheOptions options;
  auto rules = section.find("rules");
  if (rules == section.end() || !rules->is_array() || rules->empty()) {
    return Bad(absl::StrCat(where, ".rules"),
               "must be a non-empty list of {\"methods\": PATTERN(S), \"ttl_seconds\": N}");
  }
  for (size_t i = 0; i < rules->size(); ++i) {
    const ConfigJson& rule = (*rules)[i];
    const std::string at = absl::StrCat(where, ".rules[", i, "]");
    if (!rule.is_object()) return Bad(at, "must be an object");
    B24GATE_RETURN_IF_ERROR(CheckKeys(rule, at, {"methods", "ttl_seconds"}));
    std::vector<std::string> patterns;
    B24GATE_RETURN_IF_ERROR(ReadStringList(rule, "methods", at, &patterns));
    if (patterns.empty()) return Bad(absl::StrCat(at, ".methods"), "is required");
    double ttl = 0;
    B24GATE_RETURN_IF_ERROR(ReadNumber(rule, "ttl_seconds", at, &ttl));
    if (!(ttl > 0 && ttl <= 86400 * 30)) {
      return Bad(absl::StrCat(at, ".ttl_seconds"), "is required: seconds > 0, at most 30 days");
    }
    for (size_t k = 0; k < patterns.size(); ++k) {
      B24GATE_RETURN_IF_ERROR(CheckPattern(patterns[k], absl::StrCat(at, ".methods[", k, "]")));
      options.rules.push_back(CacheRule{patterns[k], absl::Seconds(ttl)});
    }
  }
  absl::StatusOr<size_t> entries = ReadBound(section, "max_entries", where, options.max_entries);
  if (!entries.ok()) return entries.status();
  options.max_entries = *entries;
  absl::StatusOr<size_t> bytes = ReadBound(section, "max_bytes", where, options.max_bytes);
  if (!bytes.ok()) return bytes.status();
  options.max_bytes = *bytes;
  return options;
}

}  // namespace b24gate
