#include "engine/common/glob.h"

#include "absl/strings/ascii.h"

namespace b24gate {

bool GlobMatches(absl::string_view pattern, absl::string_view text) {
  // Greedy, with one backtrack point: the last `*` seen takes one more
  // character whenever the rest fails. Linear in practice, never recursive.
  size_t p = 0, t = 0;
  size_t star = absl::string_view::npos, star_text = 0;
  while (t < text.size()) {
    if (p < pattern.size() && pattern[p] == '*') {
      star = p++;
      star_text = t;
    } else if (p < pattern.size() &&
               absl::ascii_tolower(static_cast<unsigned char>(pattern[p])) ==
                   absl::ascii_tolower(static_cast<unsigned char>(text[t]))) {
      ++p;
      ++t;
    } else if (star != absl::string_view::npos) {
      p = star + 1;
      t = ++star_text;
    } else {
      return false;
    }
  }
  while (p < pattern.size() && pattern[p] == '*') ++p;
  return p == pattern.size();
}

}  // namespace b24gate
