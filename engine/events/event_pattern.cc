#include "engine/events/event_pattern.h"

#include <set>

#include "absl/strings/ascii.h"
#include "engine/common/glob.h"

namespace b24gate {

bool IsEventPattern(absl::string_view name) { return name.find('*') != absl::string_view::npos; }

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
