#include "engine/events/event_pattern.h"

#include <algorithm>
#include <set>
#include <utility>

#include "absl/strings/ascii.h"
#include "absl/strings/str_cat.h"
#include "engine/common/glob.h"

namespace b24gate {

bool IsEventPattern(absl::string_view name) { return name.find('*') != absl::string_view::npos; }

absl::Status ValidateEventName(absl::string_view name, absl::string_view where, bool patterns) {
  bool ok = !name.empty() && name.size() <= 64;
  for (char c : name) ok = ok && (absl::ascii_isalnum(c) || c == '_' || (patterns && c == '*'));
  if (ok) return absl::OkStatus();
  return absl::InvalidArgumentError(absl::StrCat(
      where, patterns ? ": an event name or pattern is 1 to 64 of A-Z a-z 0-9 _ *"
                      : ": an event name is 1 to 64 of A-Z a-z 0-9 _",
      " (got ", name.size(), " characters)"));
}

absl::Status ValidateConsumerName(absl::string_view name, absl::string_view where) {
  bool ok = !name.empty() && name.size() <= 64;
  for (char c : name) ok = ok && (absl::ascii_isalnum(c) || c == '_' || c == '.' || c == '-');
  if (ok) return absl::OkStatus();
  return absl::InvalidArgumentError(absl::StrCat(
      where, ": must be 1 to 64 of A-Z a-z 0-9 _ . - (got ", name.size(), " characters)"));
}

namespace {

absl::Status NormalizeNames(absl::string_view where, std::optional<std::vector<std::string>>* names) {
  if (!names->has_value()) return absl::OkStatus();
  std::vector<std::string> out;
  for (size_t i = 0; i < (*names)->size(); ++i) {
    const std::string at = absl::StrCat(where, "[", i, "]");
    const std::string& given = (**names)[i];
    if (absl::Status s = ValidateEventName(given, at, /*patterns=*/false); !s.ok()) return s;
    const std::string name = absl::AsciiStrToUpper(given);
    if (name == "ONOFFLINEEVENT") {
      return absl::InvalidArgumentError(
          absl::StrCat(at, ": ONOFFLINEEVENT is bound by the offline streams themselves; do not list it"));
    }
    if (std::find(out.begin(), out.end(), name) == out.end()) out.push_back(name);
  }
  *names = std::move(out);
  return absl::OkStatus();
}

}  // namespace

absl::Status NormalizeEventBindings(absl::string_view where, EventBindingsSpec* bindings) {
  if (absl::Status s = NormalizeNames(absl::StrCat(where, ".offline"), &bindings->offline); !s.ok()) return s;
  if (absl::Status s = NormalizeNames(absl::StrCat(where, ".online"), &bindings->online); !s.ok()) return s;
  if (bindings->auth_connector.empty()) return absl::OkStatus();
  return ValidateConsumerName(bindings->auth_connector, absl::StrCat(where, ".auth_connector"));
}

bool MatchesEventPattern(absl::string_view pattern, absl::string_view event) {
  return GlobMatches(pattern, event);
}

std::vector<std::string> ExpandEventPatterns(const std::vector<std::string>& patterns,
                                             const std::vector<std::string>& known,
                                             std::vector<std::string>* unmatched) {
  std::vector<std::string> out;
  std::set<std::string> seen;
  for (const std::string& pattern : patterns) {
    if (!IsEventPattern(pattern)) {
      const std::string name = absl::AsciiStrToUpper(pattern);
      if (seen.insert(name).second) out.push_back(name);
      continue;
    }
    bool any = false;
    for (const std::string& event : known) {
      if (!MatchesEventPattern(pattern, event)) continue;
      any = true;
      const std::string name = absl::AsciiStrToUpper(event);
      if (seen.insert(name).second) out.push_back(name);
    }
    if (!any && unmatched != nullptr) unmatched->push_back(pattern);
  }
  return out;
}

}  // namespace b24gate
