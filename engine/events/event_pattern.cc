#include "engine/events/event_pattern.h"

#include <set>

#include "absl/strings/ascii.h"

namespace b24gate {

bool IsEventPattern(absl::string_view name) { return name.find('*') != absl::string_view::npos; }

// Classic glob with one kind of wildcard: on a mismatch, the last `*` takes
// one more character; linear in practice for names of at most 64.
bool MatchesEventPattern(absl::string_view pattern, absl::string_view event) {
  size_t p = 0, e = 0, star = absl::string_view::npos, resume = 0;
  while (e < event.size()) {
    if (p < pattern.size() && pattern[p] == '*') {
      star = p++;
      resume = e;
    } else if (p < pattern.size() && absl::ascii_toupper(pattern[p]) == absl::ascii_toupper(event[e])) {
      ++p;
      ++e;
    } else if (star != absl::string_view::npos) {
      p = star + 1;
      e = ++resume;
    } else {
      return false;
    }
  }
  while (p < pattern.size() && pattern[p] == '*') ++p;
  return p == pattern.size();
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
