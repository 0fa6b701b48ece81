// Waiting in tests for something another thread or process does.
//
// Thread-safety: safe to call from any thread; `done` runs on the caller's.
#ifndef B24GATE_TESTS_SUPPORT_WAIT_FOR_H_
#define B24GATE_TESTS_SUPPORT_WAIT_FOR_H_

#include <functional>

namespace b24gate::testing {

// Calls `done` every 10 ms until it returns true or `seconds` pass; returns
// its last answer. The limit only bounds a failing test: a passing one
// returns as soon as `done` holds.
bool WaitFor(const std::function<bool()>& done, double seconds = 30);

}  // namespace b24gate::testing

#endif  // B24GATE_TESTS_SUPPORT_WAIT_FOR_H_
