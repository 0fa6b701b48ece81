// main() of the per-folder test binaries (tests/CMakeLists.txt,
// b24gate_test_binary): one executable holds every test file of a folder, and
// ctest runs it once per file with `--test_file=PATH`, so each file stays its
// own ctest test (its name, labels, timeout, RUN_SERIAL) and its own process
// (test suites that start servers once in SetUpTestSuite keep doing so).
//
//   engine_tests --test_file=tests/engine/portal/portal_test.cc
//
// runs the tests defined in that file (matched on the path's end, as the
// compiler saw it); no test there is an error, so a renamed file cannot
// silently run nothing. Without --test_file the binary runs like any gtest
// binary (all tests, or --gtest_filter).
//
// Under ctest a failed test process keeps its output in a directory of the
// build tree (kept_logs.h).
#include <cstdio>
#include <cstring>
#include <string>

#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include "tests/support/kept_logs.h"

namespace {

constexpr char kFlag[] = "--test_file=";

// True when `file` (a test's __FILE__) is `wanted` or ends with "/wanted".
bool SameFile(const std::string& file, const std::string& wanted) {
  if (file == wanted) return true;
  return file.size() > wanted.size() && file[file.size() - wanted.size() - 1] == '/' &&
         file.compare(file.size() - wanted.size(), wanted.size(), wanted) == 0;
}

// The gtest filter naming every test defined in `wanted`; empty when none.
std::string FilterForFile(const std::string& wanted) {
  std::string filter;
  const ::testing::UnitTest& all = *::testing::UnitTest::GetInstance();
  for (int i = 0; i < all.total_test_suite_count(); ++i) {
    const ::testing::TestSuite& suite = *all.GetTestSuite(i);
    for (int j = 0; j < suite.total_test_count(); ++j) {
      const ::testing::TestInfo& test = *suite.GetTestInfo(j);
      if (!SameFile(test.file(), wanted)) continue;
      if (!filter.empty()) filter += ':';
      filter += std::string(test.test_suite_name()) + "." + test.name();
    }
  }
  return filter;
}

}  // namespace

int main(int argc, char** argv) {
  b24gate::testing::StartKeepingLogs();  // before gtest or a test starts a thread
  ::testing::InitGoogleMock(&argc, argv);
  std::string wanted;
  for (int i = 1; i < argc; ++i) {
    if (std::strncmp(argv[i], kFlag, sizeof(kFlag) - 1) == 0) {
      wanted = argv[i] + sizeof(kFlag) - 1;
    } else {
      std::fprintf(stderr, "unknown argument %s (expected %sPATH or --gtest_*)\n", argv[i], kFlag);
      return 2;
    }
  }
  if (!wanted.empty()) {
    if (GTEST_FLAG_GET(filter) != "*") {
      std::fprintf(stderr, "give either %s or --gtest_filter, not both\n", kFlag);
      return 2;
    }
    std::string filter = FilterForFile(wanted);
    if (filter.empty()) {
      std::fprintf(stderr, "no test is defined in %s\n", wanted.c_str());
      return 1;
    }
    GTEST_FLAG_SET(filter, filter);
  }
  int status = RUN_ALL_TESTS();
  b24gate::testing::FinishKeepingLogs(status == 0);
  return status;
}
