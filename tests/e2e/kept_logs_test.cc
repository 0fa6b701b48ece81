// A failed test keeps its output and its servers' logs (tests/support/
// kept_logs.h; the emulators' access logs, harness.h), with no secret in
// them; a passed one leaves nothing. The
// tests run this binary again, as ctest would, on two hidden tests: one that
// sends traffic through a stack whose webhook code is a secret and fails on
// purpose, and one that passes.
#include <sys/wait.h>
#include <unistd.h>

#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <sstream>
#include <string>

#include <gtest/gtest.h>

#include "absl/strings/match.h"
#include "tests/e2e/rpc_helpers.h"
#include "tests/support/temp_file.h"

namespace b24gate::e2e::kept_logs_test {
namespace {

constexpr char kWebhookCode[] = "keptlogswebhooksecret5";
constexpr char kFailure[] = "failing on purpose";

// Runs one hidden test of this binary as ctest runs a test, with
// B24GATE_TEST_LOGS=`dir`; its stdout and stderr go to `output`. Returns its
// exit code.
int RunHidden(const std::string& test, const std::string& dir, const std::string& output) {
  char self[4096];
  ssize_t n = readlink("/proc/self/exe", self, sizeof self - 1);
  if (n <= 0) return -1;
  self[n] = '\0';
  std::string command = "B24GATE_TEST_LOGS='" + dir + "' B24GATE_TEST_RERUN='rerun-it-like-this' '" +
                        self + "' --gtest_also_run_disabled_tests --gtest_filter=KeptLogs." + test +
                        " >'" + output + "' 2>&1 </dev/null";
  int status = std::system(command.c_str());
  return WIFEXITED(status) ? WEXITSTATUS(status) : -1;
}

std::string Read(const std::filesystem::path& path) {
  std::ifstream in(path);
  std::stringstream text;
  text << in.rdbuf();
  return text.str();
}

// Every call kind that makes the gateway log: successes, a Bitrix24 error,
// retried 500s and resets, an unknown write.
void Traffic(Stack& stack) {
  std::vector<json> ids = IdsOf(RestAll(stack, "crm.lead.list", {{"select", {"ID"}}}));
  Call1(stack, "crm.lead.get", {{"id", ids.at(0)}});
  Call1(stack, "no.such.method", json::object());
  stack.SetFaults("500=@2,reset=@1,502=@2");
  Call1(stack, "crm.lead.add", {{"fields", {{"TITLE", "kept logs"}}}});
  Call1(stack, "crm.lead.get", {{"id", ids.at(1)}});
  stack.SetFaults("none");
}

TEST(KeptLogs, DISABLED_FailsWithASecretWebhook) {
  EmulatorSpec emulator;
  emulator.webhook = std::string("1/") + kWebhookCode;
  auto stack = Up(emulator);
  ASSERT_TRUE(stack);
  Traffic(*stack);
  ADD_FAILURE() << kFailure;
}

TEST(KeptLogs, DISABLED_Passes) {
  auto stack = Up();
  ASSERT_TRUE(stack);
  EXPECT_TRUE(Call1(*stack, "crm.lead.list", {{"select", {"ID"}}}).status.ok());
}

TEST(KeptLogs, AFailedTestKeepsItsOutputAndTheServersLogsWithNoSecret) {
  const std::string dir = ::b24gate::testing::TempDir() + "/failed";
  const std::string output = ::b24gate::testing::TempFile("");
  EXPECT_NE(RunHidden("DISABLED_FailsWithASecretWebhook", dir, output), 0);

  ASSERT_TRUE(std::filesystem::is_directory(dir)) << "nothing kept; the test printed:\n" << Read(output);
  const std::string kept = Read(dir + "/output.log");
  EXPECT_TRUE(absl::StrContains(kept, kFailure)) << kept;
  // The gateway's log lines (it inherits the test's stderr), a retry among them.
  EXPECT_TRUE(absl::StrContains(kept, "\"message\":\"rpc\"")) << kept;
  EXPECT_TRUE(absl::StrContains(kept, "\"message\":\"retry\"")) << kept;
  EXPECT_TRUE(absl::StrContains(kept, "rerun it alone: rerun-it-like-this")) << kept;
  EXPECT_TRUE(absl::StrContains(kept, dir)) << "where the logs are: " << kept;
  // What ctest saw is what was kept.
  EXPECT_EQ(Read(output), kept);
  // What the emulator was asked and answered, the injected 500s among it.
  const std::string access = Read(dir + "/emulator-1.log");
  EXPECT_TRUE(absl::StrContains(access, "/rest/1/***/crm.lead.list")) << access;
  EXPECT_TRUE(absl::StrContains(access, " 500 ")) << access;

  int files = 0;
  for (const auto& entry : std::filesystem::recursive_directory_iterator(dir)) {
    if (!entry.is_regular_file()) continue;
    ++files;
    EXPECT_FALSE(absl::StrContains(Read(entry.path()), kWebhookCode))
        << entry.path() << " holds the webhook code";
  }
  EXPECT_GE(files, 1);
}

TEST(KeptLogs, APassedTestLeavesNothing) {
  const std::string dir = ::b24gate::testing::TempDir() + "/passed";
  const std::string output = ::b24gate::testing::TempFile("");
  EXPECT_EQ(RunHidden("DISABLED_Passes", dir, output), 0) << Read(output);
  EXPECT_FALSE(std::filesystem::exists(dir));
  // Its output still reached ctest.
  EXPECT_TRUE(absl::StrContains(Read(output), "[  PASSED  ] 1 test")) << Read(output);
}

}  // namespace
}  // namespace b24gate::e2e::kept_logs_test
