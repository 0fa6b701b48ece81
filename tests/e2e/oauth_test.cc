// OAuth end to end: the gateway as an OAuth application of the emulator.
// Refresh-token rotation survives a restart; concurrent calls hitting an
// expired token cause exactly one refresh; a refused refresh is final.
#include <atomic>
#include <cstdio>
#include <fstream>
#include <thread>

#include <gtest/gtest.h>

#include "tests/e2e/harness.h"

namespace b24gate::e2e::oauth_test {
namespace {

namespace pb = bitrix24::gateway::v1;

constexpr char kInitialRefresh[] = "initial-refresh-token-for-tests";

struct OAuthStack {
  std::unique_ptr<Stack> stack;
  std::string token_file;
};

OAuthStack StartOAuth(const std::string& initial_refresh = kInitialRefresh) {
  OAuthStack s;
  s.token_file = ::testing::TempDir() + "/b24gate-oauth-" + std::to_string(getpid()) + "-" +
                 ::testing::UnitTest::GetInstance()->current_test_info()->name();
  std::remove(s.token_file.c_str());
  EmulatorSpec emulator;
  emulator.extra_args = {"--oauth", "app.test:app-secret", "--oauth-refresh-token", kInitialRefresh};
  GatewaySpec gateway;
  std::string token_file = s.token_file;
  gateway.customize = [initial_refresh, token_file](nlohmann::json* portal,
                                                    const std::string& address) {
    portal->erase("webhook");
    (*portal)["oauth"] = {{"client_id", "app.test"},
                          {"client_secret", "app-secret"},
                          {"refresh_token", initial_refresh},
                          {"oauth_url", "http://" + address + "/oauth/token/"},
                          {"portal_url", "http://" + address + "/rest/"},
                          {"token_file", token_file}};
  };
  s.stack = Up(emulator, gateway);
  return s;
}

grpc::Status ListLeads(Stack& stack, pb::CallResponse* response) {
  pb::CallRequest request;
  request.set_method("crm.lead.list");
  *request.mutable_params() = V({{"select", {"ID"}}});
  return stack.stub().Call(Ctx().get(), request, response);
}

std::string ReadFile(const std::string& path) {
  std::ifstream in(path);
  std::string s;
  std::getline(in, s);
  return s;
}

TEST(OAuth, FirstCallRefreshesAndPersistsTheRotatedToken) {
  OAuthStack s = StartOAuth();
  ASSERT_TRUE(s.stack);
  pb::CallResponse response;
  grpc::Status status = ListLeads(*s.stack, &response);
  ASSERT_TRUE(status.ok()) << status.error_message();
  EXPECT_EQ(J(response.result()).size(), 50u);
  std::string stored = ReadFile(s.token_file);
  EXPECT_FALSE(stored.empty());
  EXPECT_NE(stored, kInitialRefresh) << "the rotated refresh token was not persisted";
  EXPECT_EQ(s.stack->EmulatorStats()["token_refreshes"], 1);
}

TEST(OAuth, RestartAfterRotationStillWorks) {
  OAuthStack s = StartOAuth();
  ASSERT_TRUE(s.stack);
  pb::CallResponse response;
  ASSERT_TRUE(ListLeads(*s.stack, &response).ok());
  // The initial refresh token is dead now; only the persisted one works.
  ASSERT_TRUE(s.stack->RestartGateway().ok());
  grpc::Status status = ListLeads(*s.stack, &response);
  ASSERT_TRUE(status.ok()) << status.error_message();
  auto stats = s.stack->EmulatorStats();
  EXPECT_EQ(stats["token_refreshes"], 2);
  EXPECT_EQ(stats["token_refusals"], 0);
}

TEST(OAuth, FiftyConcurrentCallsOnAnExpiredTokenCauseOneRefresh) {
  OAuthStack s = StartOAuth();
  ASSERT_TRUE(s.stack);
  pb::CallResponse warmup;
  ASSERT_TRUE(ListLeads(*s.stack, &warmup).ok());
  ASSERT_EQ(s.stack->EmulatorStats()["token_refreshes"], 1);
  // Expire every access token, then fire 50 calls at once.
  s.stack->ExpireTokens();
  std::vector<std::thread> threads;
  std::atomic<int> ok{0};
  for (int i = 0; i < 50; ++i) {
    threads.emplace_back([&] {
      pb::CallRequest request;
      request.set_method("crm.lead.list");
      *request.mutable_params() = V({{"select", {"ID"}}});
      pb::CallResponse response;
      if (s.stack->stub().Call(Ctx().get(), request, &response).ok()) ok++;
    });
  }
  for (auto& t : threads) t.join();
  EXPECT_EQ(ok.load(), 50);
  EXPECT_EQ(s.stack->EmulatorStats()["token_refreshes"], 2) << "expected exactly one more refresh";
}

TEST(OAuth, RefusedRefreshIsUnauthenticatedWithoutALoop) {
  OAuthStack s = StartOAuth("not-a-valid-refresh-token");
  ASSERT_TRUE(s.stack);
  for (int i = 0; i < 3; ++i) {
    pb::CallResponse response;
    grpc::Status status = ListLeads(*s.stack, &response);
    EXPECT_EQ(status.error_code(), grpc::StatusCode::UNAUTHENTICATED);
    EXPECT_EQ(ReasonOf(status), "invalid_grant");
  }
  auto stats = s.stack->EmulatorStats();
  EXPECT_EQ(stats["token_refusals"], 1) << "a refused refresh token must not be tried again";
  EXPECT_EQ(stats["requests"], 0) << "no REST call may go out without a token";
}

}  // namespace
}  // namespace b24gate::e2e::oauth_test
