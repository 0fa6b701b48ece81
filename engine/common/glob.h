// Glob patterns where `*` stands for any run of characters, compared
// without regard to ASCII case: the one matcher behind method patterns
// (cache rules, client permissions) and event name patterns.
//
// Thread-safety: a pure function.
#ifndef B24GATE_ENGINE_COMMON_GLOB_H_
#define B24GATE_ENGINE_COMMON_GLOB_H_

#include "absl/strings/string_view.h"

namespace b24gate {

bool GlobMatches(absl::string_view pattern, absl::string_view text);

}  // namespace b24gate

#endif  // B24GATE_ENGINE_COMMON_GLOB_H_
