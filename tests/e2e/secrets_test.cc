// Secrets never reach any output. A full scenario — a webhook portal and an
// OAuth portal, successes, Bitrix24 errors, injected 500s, resets and 502s
// (retries and OUTCOME_UNKNOWN), a token expiry and refresh, /metrics,
// ListPortals, start-up errors, debug logging, shutdown — runs with this
// process's stdout and stderr (inherited by the gateways and emulators)
// captured to a file. Then every secret is searched for in it: the webhook
// code, the OAuth client secret, the initial and the rotated refresh tokens,
// and a password given in a URL.
//
// Not searched: the emulator's own start-up banner on its stdout (read by the
// harness, never printed), which announces the webhook it accepts — it is
// the portal, the owner of that secret.
#include <fcntl.h>
#include <signal.h>
#include <unistd.h>

#include <cstdio>
#include <fstream>
#include <iostream>
#include <sstream>
#include <string>
#include <vector>

#include <gtest/gtest.h>

#include "absl/strings/match.h"
#include "bitrix24/gateway/v1/admin.grpc.pb.h"
#include "tests/e2e/binaries.h"
#include "tests/e2e/output_capture.h"
#include "tests/e2e/rpc_helpers.h"

namespace b24gate::e2e::secrets_test {
namespace {

constexpr char kWebhookCode[] = "e2ewebhooksecret7";
constexpr char kClientSecret[] = "oauth-client-secret-k3y";
constexpr char kRefreshToken[] = "oauth-refresh-tok-9x";
constexpr char kPassword[] = "pa55w0rdInUrl";

void PrintMetricsAndPortals(Stack& stack) {
  std::cout << ScrapeMetrics(stack.gateway()) << std::endl;
  auto admin = bitrix24::gateway::v1::AdminService::NewStub(stack.channel());
  bitrix24::gateway::v1::ListPortalsResponse portals;
  grpc::Status s = admin->ListPortals(Ctx(10).get(), {}, &portals);
  std::cout << "ListPortals: " << s.error_message() << " " << portals.DebugString() << std::endl;
}

// Every kind of traffic that makes the gateway log something.
void Traffic(Stack& stack) {
  std::vector<json> ids = IdsOf(RestAll(stack, "crm.lead.list", {{"select", {"ID"}}}));
  CallOut ok = Call1(stack, "crm.lead.get", {{"id", ids.at(0)}});
  std::cout << "get: " << ok.status.error_message() << " " << ok.result().dump() << std::endl;
  CallOut unknown = Call1(stack, "no.such.method", json::object());
  std::cout << "unknown: " << unknown.status.error_message() << std::endl;
  stack.SetFaults("500=@2,reset=@1,502=@2");
  CallOut write = Call1(stack, "crm.lead.add", {{"fields", {{"TITLE", "secrets"}}}});
  std::cout << "write: " << write.status.error_message() << std::endl;
  CallOut read = Call1(stack, "crm.lead.get", {{"id", ids.at(1)}});
  std::cout << "read: " << read.status.error_message() << std::endl;
  stack.SetFaults("none");
  GetAllOut all = GetAll(stack, "crm.deal.list", {{"select", {"ID"}}});
  std::cout << "getall: " << all.items.size() << " " << all.status.error_message() << std::endl;
}

TEST(Secrets, NeverInAnyOutputOfAFullRun) {
  std::string token_file = ::testing::TempDir() + "/b24gate-secrets-token-" + std::to_string(getpid());
  std::remove(token_file.c_str());
  OutputCapture capture;
  {
    // A webhook portal, debug logs and metrics on.
    EmulatorSpec emulator;
    emulator.webhook = std::string("1/") + kWebhookCode;
    GatewaySpec gateway;
    gateway.extra_args = {"--log-level", "debug", "--metrics-listen", "127.0.0.1:0"};
    auto stack = Stack::Start(emulator, gateway);
    EXPECT_TRUE(stack.ok()) << stack.status();
    if (stack.ok()) {
      Traffic(**stack);
      PrintMetricsAndPortals(**stack);
      EXPECT_EQ((*stack)->gateway().StopWith(SIGTERM), 0);
    }
  }
  {
    // An OAuth portal: first refresh, an expiry and a second refresh.
    EmulatorSpec emulator;
    emulator.extra_args = {"--oauth", std::string("app.secrets:") + kClientSecret,
                           "--oauth-refresh-token", kRefreshToken};
    GatewaySpec gateway;
    gateway.extra_args = {"--log-level", "debug", "--log-format", "text", "--metrics-listen",
                          "127.0.0.1:0"};
    gateway.customize = [&](nlohmann::json* portal, const std::string& address) {
      portal->erase("webhook");
      (*portal)["oauth"] = {{"client_id", "app.secrets"},
                            {"client_secret", kClientSecret},
                            {"refresh_token", kRefreshToken},
                            {"oauth_url", "http://" + address + "/oauth/token/"},
                            {"portal_url", "http://" + address + "/rest/"},
                            {"token_file", token_file}};
    };
    auto stack = Stack::Start(emulator, gateway);
    EXPECT_TRUE(stack.ok()) << stack.status();
    if (stack.ok()) {
      CallOut first = Call1(**stack, "crm.lead.list", {{"select", {"ID"}}});
      std::cout << "oauth first: " << first.status.error_message() << std::endl;
      (*stack)->ExpireTokens();
      CallOut again = Call1(**stack, "crm.lead.list", {{"select", {"ID"}}});
      std::cout << "oauth after expiry: " << again.status.error_message() << std::endl;
      Traffic(**stack);
      PrintMetricsAndPortals(**stack);
      EXPECT_GE((*stack)->EmulatorStats()["token_refreshes"].get<int>(), 2);
      EXPECT_EQ((*stack)->gateway().StopWith(SIGTERM), 0);
    }
  }
  // Start-up errors that would have to mention a credential.
  std::string hook = std::string("https://admin:") + kPassword + "@p.example.com/rest/1/" + kWebhookCode + "/";
  std::system(("'" + std::string(kGatewayBin) + "' --portal 'a=" + hook + "'").c_str());
  std::system(("'" + std::string(kGatewayBin) + "' --portl='a=" + hook + "'").c_str());
  std::system(("B24GATE_PORTALS='a=https://p.example.com/rest/1/" + std::string(kWebhookCode) +
               "/,a=https://p.example.com/rest/1/" + kWebhookCode + "/' '" + kGatewayBin + "'")
                  .c_str());
  std::string output = capture.Stop();

  std::vector<std::string> secrets = {kWebhookCode, kClientSecret, kRefreshToken, kPassword};
  std::ifstream rotated(token_file);
  std::string line;
  while (std::getline(rotated, line)) {
    // The token file holds the rotated refresh token (JSON or plain).
    json j = json::parse(line, nullptr, false);
    if (!j.is_discarded() && j.is_object()) {
      for (const auto& [k, v] : j.items()) {
        if (v.is_string() && v.get<std::string>().size() >= 8) secrets.push_back(v.get<std::string>());
      }
    } else if (line.size() >= 8) {
      secrets.push_back(line);
    }
  }
  EXPECT_GT(secrets.size(), 4u) << "no rotated refresh token was found in " << token_file;
  std::remove(token_file.c_str());
  // The run produced output worth searching.
  EXPECT_TRUE(absl::StrContains(output, "\"message\":\"rpc\"")) << "no JSON rpc lines";
  EXPECT_TRUE(absl::StrContains(output, "oauth token refreshed")) << "no token refresh line";
  EXPECT_TRUE(absl::StrContains(output, "b24gate_http_requests_total")) << "no metrics";
  EXPECT_TRUE(absl::StrContains(output, "must not contain user:password@"));
  for (const auto& secret : secrets) {
    size_t at = output.find(secret);
    EXPECT_EQ(at, std::string::npos)
        << "a secret (" << secret.size() << " characters, starting \"" << secret.substr(0, 3)
        << "\") appears in the output: ..."
        << (at == std::string::npos ? "" : output.substr(at > 80 ? at - 80 : 0, 80)) << "[secret]";
  }
  if (HasFailure()) {
    // The captured run, secrets masked, to see what went wrong.
    std::string shown = output;
    for (const auto& secret : secrets) {
      for (size_t at; (at = shown.find(secret)) != std::string::npos;) shown.replace(at, secret.size(), "[SECRET]");
    }
    std::cout << "---- captured output (secrets masked)\n" << shown << "---- end" << std::endl;
  }
  std::cout << "searched " << output.size() << " bytes of output for " << secrets.size()
            << " secrets" << std::endl;
}

}  // namespace
}  // namespace b24gate::e2e::secrets_test
