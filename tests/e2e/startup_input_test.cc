// Bad start-up input: each case is one line on stderr naming what is wrong,
// a non-zero exit, and no credential anywhere in the output. Runs the real
// b24gate binary.
#include <signal.h>
#include <sys/wait.h>

#include <cstdio>
#include <cstdlib>
#include <iterator>
#include <fstream>
#include <string>
#include <vector>

#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include "absl/strings/str_join.h"
#include "absl/strings/str_split.h"
#include "tests/e2e/binaries.h"
#include "tests/e2e/harness.h"
#include "tests/support/listening_socket.h"
#include "tests/support/temp_file.h"

namespace b24gate::e2e::startup_input_test {
namespace {

using ::testing::HasSubstr;
using ::testing::Not;
using ::b24gate::testing::TempFile;

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

// Runs b24gate with `args` (and `env` assignments); SIGTERM after
// `seconds` (then the exit code is timeout's 124: it was still running).
RunResult Gateway(const std::vector<std::string>& args, const std::string& env = "",
                  int seconds = 10) {
  std::string cmd = env + " timeout " + std::to_string(seconds) + " " + Quote(kGatewayBin);
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
  EXPECT_EQ(run.exit_code, 2) << run.output;
  ExpectOneLineError(run, "metrics-listen \"256.1.1.1:9464\"");
}

// A TCP port held by a listening socket of this test ("another program").
using HeldPort = ::b24gate::testing::ListeningSocket;

TEST(StartupInput, ListenOnAPortInUseIsAnError) {
  HeldPort held(1);
  RunResult run = Gateway({"--listen", held.address(), "--portal", "a=" + kHook});
  EXPECT_EQ(run.exit_code, 2) << run.output;
  ExpectOneLineError(run, "listen \"" + held.address() + "\": address in use");
  run = Gateway({"--metrics-listen", held.address(), "--listen", "127.0.0.1:0", "--portal", "a=" + kHook});
  EXPECT_EQ(run.exit_code, 2) << run.output;
  ExpectOneLineError(run, "metrics-listen \"" + held.address() + "\": address in use");
}

// gRPC turns SO_REUSEPORT on by default: a second gateway on the same port
// started too and the kernel split the connections between them.
TEST(StartupInput, SecondGatewayOnTheSamePortIsAnError) {
  auto first = Process::Start(
      {kGatewayBin, "--listen", "127.0.0.1:0", "--predrain-delay", "0", "--portal", "a=" + kHook});
  ASSERT_TRUE(first.ok()) << first.status();
  RunResult run = Gateway({"--listen", (*first)->address(), "--portal", "a=" + kHook});
  EXPECT_EQ(run.exit_code, 2) << run.output;
  ExpectOneLineError(run, "address in use");
  EXPECT_EQ((*first)->StopWith(SIGTERM), 0);
}

TEST(StartupInput, MetricsOnTheGrpcPortIsAnError) {
  int port = HeldPort(1).port();  // free again once the holder is gone
  const std::string address = "127.0.0.1:" + std::to_string(port);
  RunResult run = Gateway({"--listen", address, "--metrics-listen", address, "--portal", "a=" + kHook});
  EXPECT_EQ(run.exit_code, 2) << run.output;
  ExpectOneLineError(run, "the same port as listen");
}

TEST(StartupInput, MetricsBeyondLoopbackStartWithAWarning) {
  RunResult run = Gateway({"--listen", "127.0.0.1:0", "--metrics-listen", "0.0.0.0:0",
                           "--predrain-delay", "0", "--log-format", "text", "--portal", "a=" + kHook},
                          "", 2);
  EXPECT_EQ(run.exit_code, 124) << run.output;  // ran until timeout's SIGTERM
  EXPECT_THAT(run.output, HasSubstr("metrics beyond loopback: anyone who reaches 0.0.0.0:"));
}

// Configuration that was accepted without a word, or refused with a
// misleading message: one line naming the problem, exit 2.
TEST(StartupInput, ConfigMistakesAreOneLineNamingTheProblem) {
  const std::string hook_file = TempFile(kHook);
  const std::string portal = R"({"name": "a", "webhook": ")" + kHook + "\"";
  for (auto [text, expected] : std::vector<std::pair<std::string, std::string>>{
           {"{\"portals\": [" + portal + R"(, "request_timeout_seconds": 1e308}]})",
            "portals[0].request_timeout_seconds"},
           {"{\"listen\": \"127.0.0.1:0\", \"listen\": \"127.0.0.1:1\", \"portals\": [" + portal + "}]}",
            "config.listen: given twice"},
           {"{\"portals\": [" + portal + R"(, "webhook_file": ")" + hook_file + "\"}]}",
            "not both"},
           {"{\"portals\": [" + portal + R"(, "name": "b"}]})", "config.portals[0].name: given twice"},
           {R"({"portals": [{"name": "a b", "webhook": ")" + kHook + "\"}]}", "a portal name is"},
           {R"({"portals": [{"name": "../x", "webhook": ")" + kHook + "\"}]}", "a portal name is"},
           {R"({"portals": [{"name": "a\u0000", "webhook": ")" + kHook + "\"}]}", "a portal name is"},
           {R"({"portals": [{"name": "a", "webhook": "https://p.example.com/rest/1/x y/"}]})",
            "must not contain spaces"},
           {"{\"portals\": [" + portal + R"(, "ca_file": "/nonexistent/ca.pem"}]})",
            "ca_file: cannot read"},
           {R"({"portals": [{"name": "a", "webhook_file": "/tmp"}]})", "\"/tmp\" is a directory"},
       }) {
    std::string file = TempFile(text);
    RunResult run = Gateway({"--config", file, "--listen", "127.0.0.1:0"});
    EXPECT_EQ(run.exit_code, 2) << text << "\n" << run.output;
    ExpectOneLineError(run, expected);
    std::remove(file.c_str());
  }
  RunResult run = Gateway({"--config", "/tmp"});
  EXPECT_EQ(run.exit_code, 2) << run.output;
  ExpectOneLineError(run, "--config: \"/tmp\" is a directory");
  std::remove(hook_file.c_str());
}

// Without client authentication the gateway binds loopback only, unless told.
TEST(StartupInput, AnyInterfaceWithoutClientAuthenticationIsRefused) {
  for (const char* listen : {"0.0.0.0:0", ":0", "[::]:0", "192.0.2.1:0"}) {
    ExpectOneLineError(Gateway({"--listen", listen, "--portal", "a=" + kHook}),
                       "no client authentication is configured, so only a loopback address");
  }
  std::string file = TempFile(R"({"listen": "0.0.0.0:0", "portals": [{"name": "a", "webhook": ")" +
                              kHook + R"("}]})");
  ExpectOneLineError(Gateway({"--config", file}), "--insecure-listen-any");
  std::remove(file.c_str());
}

TEST(StartupInput, AnyInterfaceWithInsecureListenAnyStartsAndSaysSo) {
  RunResult run = Gateway({"--listen", "0.0.0.0:0", "--insecure-listen-any", "--predrain-delay", "0",
                           "--log-format", "text", "--portal", "a=" + kHook},
                          "", 2);
  EXPECT_EQ(run.exit_code, 124) << run.output;  // ran until timeout's SIGTERM
  EXPECT_THAT(run.output, HasSubstr("listening on 0.0.0.0:"));
  EXPECT_THAT(run.output, HasSubstr("no client authentication: listening on 0.0.0.0:"));
  EXPECT_THAT(run.output, HasSubstr("because of --insecure-listen-any"));

  std::string file = TempFile(R"({"listen": "0.0.0.0:0", "insecure_listen_any": true,
                                  "portals": [{"name": "a", "webhook": ")" + kHook + R"("}]})");
  run = Gateway({"--config", file, "--predrain-delay", "0"}, "", 2);
  EXPECT_EQ(run.exit_code, 124) << run.output;
  EXPECT_THAT(run.output, HasSubstr("because of --insecure-listen-any"));
  std::remove(file.c_str());
}

TEST(StartupInput, LoopbackWithoutClientAuthenticationSaysSo) {
  RunResult run = Gateway({"--listen", "127.0.0.1:0", "--predrain-delay", "0", "--portal", "a=" + kHook},
                          "", 2);
  EXPECT_EQ(run.exit_code, 124) << run.output;
  EXPECT_THAT(run.output, HasSubstr("no client authentication: listening on loopback only"));
}

TEST(StartupInput, AnyInterfaceWithConfiguredClientsIsAllowed) {
  // sha256("a test token")
  std::string file = TempFile(
      R"({"listen": "0.0.0.0:0", "clients": [{"name": "svc", "token_sha256":
          "b8c5be7eec5618f93ae685a066b77d13979ada2a80af593c7b39423104cf13ef"}],
          "portals": [{"name": "a", "webhook": ")" + kHook + R"("}]})");
  RunResult run = Gateway({"--config", file, "--predrain-delay", "0"}, "", 2);
  EXPECT_EQ(run.exit_code, 124) << run.output;
  EXPECT_THAT(run.output, HasSubstr("client authentication on: listening on 0.0.0.0:"));
  std::remove(file.c_str());
}

// A key given as the certificate (and the other way round), an unreadable
// file, a TLS client CA without TLS: one line each, exit 2, no key material.
TEST(StartupInput, BadTlsFilesAreOneLineWithoutKeyMaterial) {
  std::string dir = TempFile("");
  std::remove(dir.c_str());
  ASSERT_EQ(std::system(("bash " + Quote(kTestCertsScript) + " " + dir + " >/dev/null").c_str()), 0);
  const std::string cert = dir + "/server-1001.pem", key = dir + "/server-1001.key";
  std::ifstream key_in(key);
  std::string key_text((std::istreambuf_iterator<char>(key_in)), std::istreambuf_iterator<char>());
  // A line of the key's base64, which must appear nowhere.
  std::vector<std::string> key_lines = absl::StrSplit(key_text, '\n', absl::SkipEmpty());
  ASSERT_GE(key_lines.size(), 3u);
  const std::vector<std::string> secrets = {kCode, key_lines[1], "PRIVATE KEY-----"};
  auto run = [&](std::vector<std::string> args) {
    args.insert(args.end(), {"--listen", "127.0.0.1:0", "--portal", "a=" + kHook});
    RunResult r = Gateway(args);
    EXPECT_EQ(r.exit_code, 2) << r.output;
    return r;
  };
  ExpectOneLineError(run({"--tls-cert", key, "--tls-key", key}), "no PEM certificate", secrets);
  ExpectOneLineError(run({"--tls-cert", cert, "--tls-key", cert}), "not a PEM private key", secrets);
  ExpectOneLineError(run({"--tls-cert", cert, "--tls-key", dir + "/client.key"}),
                     "does not belong to the certificate", secrets);
  ExpectOneLineError(run({"--tls-cert", cert, "--tls-key", dir + "/missing.key"}),
                     "cannot read", secrets);
  ExpectOneLineError(run({"--tls-cert", cert}), "needs both a certificate and its key", secrets);
  ExpectOneLineError(run({"--tls-client-ca", dir + "/ca.pem"}), "needs TLS", secrets);
  ExpectOneLineError(run({"--tls-cert", cert, "--tls-key", key, "--tls-client-ca", key}),
                     "TLS client CA", secrets);
  std::system(("rm -rf " + dir).c_str());
}

}  // namespace
}  // namespace b24gate::e2e::startup_input_test
