#include "engine/events/event_pattern.h"

#include <set>

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
