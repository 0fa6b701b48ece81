// Files with given contents for tests (config files mostly), and empty
// directories.
//
// Thread-safety: safe to call from any thread (every call makes a new file).
#ifndef B24GATE_TESTS_SUPPORT_TEMP_FILE_H_
#define B24GATE_TESTS_SUPPORT_TEMP_FILE_H_

#include <string>

#include "absl/strings/string_view.h"

namespace b24gate::testing {

// Writes `text` to a new file /tmp/b24gate-test-XXXXXX and returns its path;
// the caller may remove it, and the process does when it exits. Aborts the program when /tmp cannot be written:
// no test can run then.
std::string TempFile(absl::string_view text);

// Makes a new empty directory /tmp/b24gate-test-XXXXXX and returns its path;
// it is removed with what it holds when the process exits.
std::string TempDir();

}  // namespace b24gate::testing

#endif  // B24GATE_TESTS_SUPPORT_TEMP_FILE_H_
