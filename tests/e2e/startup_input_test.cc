// Bad start-up input: each case is one line on stderr naming what is wrong,
// a non-zero exit, and no credential anywhere in the output. Runs the real
// b24gate binary.
#include <sys/wait.h>

#include <cstdio>
#include <fstream>
#include <string>
#include <vector>

#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include "absl/strings/str_join.h"
#include "absl/strings/str_split.h"

namespace b24gate::e2e {
namespace {

using ::testing::HasSubstr;
using ::testing::Not;

constexpr char kCode[] = "startupsecretcode";
const std::string kHook = std::string("https://p.example.com/rest/1/") + kCode + "/";

struct RunResult {
  int exit_code = -1;
  std::string output;  // stdout and stderr together
};

std::string Quote(const std::string& arg) {
  std::string q = "'";
  for (char c : arg) q += c == '\'' ? std::string("'\\''") : std::string(1, c);
  return q + "'";
}

// Runs b24gate with `args` (and `env` assignments) and a 10 s timeout.
RunResult Gateway(const std::vector<std::string>& args, const std::string& env = "") {
  std::string cmd = env + " timeout 10 " + Quote(B24GATE_BIN);
  for (const auto& a : args) cmd += " " + Quote(a);
  cmd += " 2>&1 </dev/null";
  RunResult run;
  FILE* p = popen(cmd.c_str(), "r");
  if (!p) return run;
  char buf[4096];
  size_t n;
  while ((n = fread(buf, 1, sizeof buf, p)) > 0) run.output.append(buf, n);
  int status = pclose(p);
  run.exit_code = WIFEXITED(status) ? WEXITSTATUS(status) : 128;
  return run;
}

std::string TempFile(const std::string& text) {
  char path[] = "/tmp/b24gate-startup-XXXXXX";
  int fd = mkstemp(path);
  close(fd);
  std::ofstream(path) << text;
  return path;
}

// One line, starting "b24gate: ", non-zero exit, no secret.
void ExpectOneLineError(const RunResult& run, const std::string& expected,
                        const std::vector<std::string>& secrets = {kCode}) {
  EXPECT_NE(run.exit_code, 0) << run.output;
  EXPECT_NE(run.exit_code, 124) << "timed out: the gateway started instead of refusing";
  std::vector<std::string> lines = absl::StrSplit(run.output, '\n', absl::SkipEmpty());
  ASSERT_EQ(lines.size(), 1u) << run.output;
  EXPECT_THAT(lines[0], HasSubstr("b24gate: "));
  EXPECT_THAT(lines[0], HasSubstr(expected));
  for (const auto& s : secrets) EXPECT_THAT(run.output, Not(HasSubstr(s)));
}

TEST(StartupInput, ListenWithoutPort) {
  ExpectOneLineError(Gateway({"--listen", "127.0.0.1", "--portal", "a=" + kHook}),
                     "listen \"127.0.0.1\": has no port");
}

TEST(StartupInput, PortOutOfRange) {
  ExpectOneLineError(Gateway({"--listen", ":70000", "--portal", "a=" + kHook}),
                     "the port must be a number in 0..65535");
  ExpectOneLineError(Gateway({"--portal", "a=" + kHook}, "B24GATE_LISTEN=127.0.0.1:65536"),
                     "0..65535");
}

TEST(StartupInput, SamePortalTwice) {
  ExpectOneLineError(
      Gateway({"--portal", "a=" + kHook, "--portal", "a=https://q.example.com/rest/1/othercode/"}),
      "portal \"a\" is given twice", {kCode, "othercode"});
}

TEST(StartupInput, UserAndPasswordInAWebhookUrl) {
  std::string hook = std::string("https://admin:pa55word@p.example.com/rest/1/") + kCode + "/";
  ExpectOneLineError(Gateway({"--portal", "a=" + hook}), "must not contain user:password@",
                     {kCode, "pa55word", "admin:"});
  ExpectOneLineError(Gateway({}, "B24GATE_PORTALS=" + Quote("a=" + hook)),
                     "must not contain user:password@", {kCode, "pa55word"});
}

TEST(StartupInput, TruncatedJsonConfig) {
  std::string file = TempFile("{\"portals\": [{\"name\": \"a\", \"webhook\": \"" + kHook + "\"");
  ExpectOneLineError(Gateway({"--config", file}), "not valid JSON: unexpected end of file");
  std::remove(file.c_str());
}

TEST(StartupInput, WrongTypeInConfigIsAnErrorNotACrash) {
  std::string file = TempFile("{\"portals\": [{\"name\": \"a\", \"webhook\": 5}]}");
  ExpectOneLineError(Gateway({"--config", file}), "portals[0].webhook: must be a string");
  std::remove(file.c_str());
}

TEST(StartupInput, UnknownFlagWithASecretValue) {
  ExpectOneLineError(Gateway({"--portl=a=" + kHook}), "unknown flag \"--portl\"");
}

TEST(StartupInput, MetricsAddressThatCannotBeBound) {
  // 256.1.1.1 is no address: the metrics listener cannot start, and the
  // gateway says so and exits rather than run without the metrics asked for.
  RunResult run = Gateway({"--listen", "127.0.0.1:0", "--metrics-listen", "256.1.1.1:9464",
                           "--portal", "a=" + kHook});
  EXPECT_NE(run.exit_code, 0) << run.output;
  EXPECT_NE(run.exit_code, 124) << "timed out: the gateway started";
  EXPECT_THAT(run.output, HasSubstr("cannot serve metrics"));
  EXPECT_THAT(run.output, Not(HasSubstr(kCode)));
}

}  // namespace
}  // namespace b24gate::e2e
