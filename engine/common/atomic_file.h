// Replacing a file so that a crash leaves the old content or the new, never
// a mix: write a temporary file beside it (mode 0600: what is written this
// way holds secrets), fsync it, rename it over the target (atomic on POSIX),
// then fsync the directory so the rename itself is durable.
//
// Thread-safety: callers writing one path at once must take turns (the
// temporary file's name is the target's plus ".tmp").
#ifndef B24GATE_ENGINE_COMMON_ATOMIC_FILE_H_
#define B24GATE_ENGINE_COMMON_ATOMIC_FILE_H_

#include <string>

#include "absl/status/status.h"

namespace b24gate {

// INTERNAL naming the step and path on failure (the content is never quoted).
absl::Status WriteFileAtomically(const std::string& path, const std::string& content);

}  // namespace b24gate

#endif  // B24GATE_ENGINE_COMMON_ATOMIC_FILE_H_
