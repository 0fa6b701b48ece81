// What a failed test leaves behind (ctest sets B24GATE_TEST_LOGS for every
// test of a b24gate_test_binary, tests/CMakeLists.txt): its output — gtest's
// lines, and the log lines of the gateways and emulators it starts, which
// inherit its stdout and stderr — is written as it goes to
// B24GATE_TEST_LOGS/output.log as well as to ctest, and the e2e harness has
// each emulator write its access log beside it (emulator-N.log, one line per
// request; tests/emulator/access_log.h). A test process that passes removes
// the directory; one that fails keeps it and prints where it is and
// B24GATE_TEST_RERUN, the command that runs the test alone. A test killed
// (a crash, ctest's timeout) keeps it too: scripts/test.sh prints the tail of
// every failed test's files, for CI, whose machine is gone afterwards.
//
// Unset (a test binary run by hand): nothing is kept, output goes only where
// it always went.
#ifndef B24GATE_TESTS_SUPPORT_KEPT_LOGS_H_
#define B24GATE_TESTS_SUPPORT_KEPT_LOGS_H_

#include <string>

namespace b24gate::testing {

// The environment variables ctest sets.
inline constexpr char kKeptLogsVariable[] = "B24GATE_TEST_LOGS";
inline constexpr char kRerunVariable[] = "B24GATE_TEST_RERUN";

// The directory of this test process's kept logs (B24GATE_TEST_LOGS), ""
// when none is kept.
std::string KeptLogsDir();

// Empties KeptLogsDir() and copies this process's stdout and stderr (and so
// its children's) into output.log there: fds 1 and 2 become a pipe read by a
// forked copier that writes to both the old stdout and the file. A no-op
// when KeptLogsDir() is "". Call first in main(), before any thread starts.
void StartKeepingLogs();

// The end of the test process: `passed` removes the directory; otherwise
// prints (on stderr) where the logs are and the command that reruns the test.
void FinishKeepingLogs(bool passed);

}  // namespace b24gate::testing

#endif  // B24GATE_TESTS_SUPPORT_KEPT_LOGS_H_
