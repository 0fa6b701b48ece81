// FUZZ_CHECK: a property a fuzz target asserts. A failure prints the reason
// and aborts, which libFuzzer reports as a crash and saves the input.
#ifndef B24GATE_TESTS_FUZZ_FUZZ_CHECK_H_
#define B24GATE_TESTS_FUZZ_FUZZ_CHECK_H_

#include <cstdio>
#include <cstdlib>
#include <string>

#define FUZZ_CHECK(condition, message)                                                    \
  do {                                                                                    \
    if (!(condition)) {                                                                   \
      std::fprintf(stderr, "%s:%d: FUZZ_CHECK(%s) failed: %s\n", __FILE__, __LINE__,      \
                   #condition, std::string(message).c_str());                             \
      std::abort();                                                                       \
    }                                                                                     \
  } while (0)

#endif  // B24GATE_TESTS_FUZZ_FUZZ_CHECK_H_
