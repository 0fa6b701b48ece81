// OAuth with several replicas: three gateway processes configured with the
// same OAuth application share its tokens through a real redis-server. The
// emulator counts the refreshes its OAuth server issued: three gateways
// starting need one, and after every access token expired 50 concurrent
// calls through each gateway need one more; every call succeeds, and every
// gateway's token file ends with the same (newest) refresh token. A gateway
// that refreshed on its own while Redis did not answer puts the new pair in
// Redis once it answers, with no further call, and after a restart too: the
// others then take it instead of spending the old refresh token.
#include <signal.h>

#include <atomic>
#include <cstdio>
#include <fstream>
#include <thread>

#include <gtest/gtest.h>

#include "tests/e2e/harness.h"
#include "tests/e2e/replica.h"
#include "tests/e2e/rpc_helpers.h"
#include "engine/redis/redis_client.h"
#include "tests/support/redis_server.h"
#include "tests/support/wait_for.h"

namespace b24gate::e2e::oauth_replicas_test {
namespace {

constexpr char kInitialRefresh[] = "initial-refresh-token-for-replicas";

std::string TokenFile(int replica) {
  std::string path = ::testing::TempDir() + "/b24gate-oauth-replica-" + std::to_string(getpid()) +
                     "-" + std::to_string(replica);
  std::remove(path.c_str());
  return path;
}

nlohmann::json OAuthPortal(const std::string& emulator, const std::string& token_file) {
  return {{"name", "main"},
          {"oauth",
           {{"client_id", "app.test"},
            {"client_secret", "app-secret"},
            {"refresh_token", kInitialRefresh},
            {"oauth_url", "http://" + emulator + "/oauth/token/"},
            {"portal_url", "http://" + emulator + "/rest/"},
            {"token_file", token_file}}}};
}

std::string FirstLine(const std::string& path) {
  std::ifstream in(path);
  std::string s;
  std::getline(in, s);
  return s;
}

// The refresh token the replicas share in Redis ("" when none or unreadable).
std::string SharedRefreshToken(const testing::RedisServer& redis) {
  RedisOptions options;
  options.address = *ParseRedisUrl(redis.url());
  RedisClient client(options, Clock::Real());
  absl::StatusOr<RedisReply> reply = client.Command({"GET", "b24gate:oauth:4:main:app.test"});
  if (!reply.ok() || reply->is_nil()) return "";
  nlohmann::json j = nlohmann::json::parse(reply->str, nullptr, /*allow_exceptions=*/false);
  return j.is_object() ? j.value("refresh_token", "") : "";
}

struct ThreeReplicas {
  std::unique_ptr<testing::RedisServer> redis;
  std::unique_ptr<Stack> stack;  // the emulator and replica 0
  std::vector<Replica> others;   // replicas 1 and 2
  std::vector<std::string> token_files;
  std::vector<std::string> args;
  pb::GatewayService::Stub& stub(int i) { return i == 0 ? stack->stub() : *others[i - 1].stub; }
  // Replica 1 or 2 killed (SIGKILL: nothing more reaches Redis).
  void Kill(int i) { others[i - 1].process->StopWith(SIGKILL); }
  // Started again with the same configuration and token file.
  bool StartAgain(int i) {
    auto replica = StartReplica(
        GatewayConfig(OAuthPortal(stack->emulator().address(), token_files[i])), args);
    EXPECT_TRUE(replica.ok()) << replica.status();
    if (!replica.ok()) return false;
    others[i - 1] = std::move(*replica);
    return true;
  }
};

ThreeReplicas Start() {
  ThreeReplicas r;
  auto redis = testing::RedisServer::Start();
  EXPECT_TRUE(redis.ok()) << redis.status();
  if (!redis.ok()) return r;
  r.redis = std::move(*redis);
  const std::vector<std::string> args = {"--redis", r.redis->url(), "--replicas", "3"};
  r.args = args;
  for (int i = 0; i < 3; ++i) r.token_files.push_back(TokenFile(i));
  EmulatorSpec emulator;
  emulator.extra_args = {"--oauth", "app.test:app-secret", "--oauth-refresh-token", kInitialRefresh};
  GatewaySpec gateway;
  std::string first_file = r.token_files[0];
  gateway.customize = [first_file](nlohmann::json* portal, const std::string& address) {
    *portal = OAuthPortal(address, first_file);
  };
  gateway.extra_args = args;
  r.stack = Up(emulator, gateway);
  if (!r.stack) return r;
  for (int i = 1; i < 3; ++i) {
    auto replica = StartReplica(
        GatewayConfig(OAuthPortal(r.stack->emulator().address(), r.token_files[i])), args);
    EXPECT_TRUE(replica.ok()) << replica.status();
    if (!replica.ok()) return r;
    r.others.push_back(std::move(*replica));
  }
  return r;
}

grpc::Status ListLeads(pb::GatewayService::Stub& stub) {
  pb::CallRequest request;
  request.set_method("crm.lead.list");
  *request.mutable_params() = V({{"select", {"ID"}}});
  pb::CallResponse response;
  return stub.Call(Ctx().get(), request, &response);
}

TEST(OAuthReplicas, ThreeReplicasStartingRefreshOnce) {
  ThreeReplicas r = Start();
  ASSERT_EQ(r.others.size(), 2u);
  for (int i = 0; i < 3; ++i) {
    grpc::Status status = ListLeads(r.stub(i));
    ASSERT_TRUE(status.ok()) << "replica " << i << ": " << status.error_message();
  }
  auto stats = r.stack->EmulatorStats();
  EXPECT_EQ(stats["token_refreshes"], 1) << "replicas 1 and 2 take replica 0's token from Redis";
  EXPECT_EQ(stats["token_refusals"], 0);
}

TEST(OAuthReplicas, FiftyConcurrentCallsThroughEachOnExpiredTokensCauseOneRefresh) {
  ThreeReplicas r = Start();
  ASSERT_EQ(r.others.size(), 2u);
  for (int i = 0; i < 3; ++i) ASSERT_TRUE(ListLeads(r.stub(i)).ok());
  ASSERT_EQ(r.stack->EmulatorStats()["token_refreshes"], 1);

  r.stack->ExpireTokens();
  std::atomic<int> ok{0};
  std::vector<std::string> failures;
  absl::Mutex mu;
  std::vector<std::thread> threads;
  for (int i = 0; i < 3; ++i) {
    for (int k = 0; k < 50; ++k) {
      threads.emplace_back([&, i] {
        grpc::Status status = ListLeads(r.stub(i));
        if (status.ok()) {
          ok++;
        } else {
          absl::MutexLock lock(&mu);
          failures.push_back(status.error_message());
        }
      });
    }
  }
  for (auto& t : threads) t.join();
  EXPECT_EQ(ok.load(), 150) << (failures.empty() ? "" : failures.front());
  auto stats = r.stack->EmulatorStats();
  EXPECT_EQ(stats["token_refreshes"], 2) << "exactly one refresh for the three replicas";
  EXPECT_EQ(stats["token_refusals"], 0) << "no refresh token was used twice";

  // Every replica wrote the newest refresh token to its own file; it works.
  std::string newest = FirstLine(r.token_files[0]);
  EXPECT_FALSE(newest.empty());
  EXPECT_TRUE(newest != kInitialRefresh);
  for (int i = 1; i < 3; ++i) EXPECT_TRUE(FirstLine(r.token_files[i]) == newest) << "replica " << i;
}

TEST(OAuthReplicas, WithoutRedisEachReplicaStillWorksAlone) {
  ThreeReplicas r = Start();
  ASSERT_EQ(r.others.size(), 2u);
  ASSERT_TRUE(ListLeads(r.stub(0)).ok());
  r.redis->Kill();
  // Replica 1 has no token yet and Redis is gone: it refreshes on its own,
  // with the refresh token of its configuration, which replica 0 spent.
  // That is refused (Bitrix24 rotates refresh tokens) and reported, not
  // retried in a loop; replica 0 keeps working.
  grpc::Status lone = ListLeads(r.stub(1));
  EXPECT_EQ(lone.error_code(), grpc::StatusCode::UNAUTHENTICATED);
  EXPECT_TRUE(ListLeads(r.stub(0)).ok());
  EXPECT_EQ(r.stack->EmulatorStats()["token_refusals"], 1);
}

// Replica 1 refreshes on its own while Redis does not answer (its refresh
// token is then spent, and Redis still holds it). Once Redis answers again,
// replica 1's sharing thread writes the new pair there without another call;
// replicas 0 and 2 take it.
TEST(OAuthReplicas, APairRefreshedWhileRedisStalledReachesRedisWithoutAnotherCall) {
  ThreeReplicas r = Start();
  ASSERT_EQ(r.others.size(), 2u);
  for (int i = 0; i < 3; ++i) ASSERT_TRUE(ListLeads(r.stub(i)).ok());
  const std::string spent = SharedRefreshToken(*r.redis);
  ASSERT_FALSE(spent.empty());
  r.stack->ExpireTokens();
  r.redis->Pause();
  grpc::Status alone = ListLeads(r.stub(1));
  r.redis->Resume();
  ASSERT_TRUE(alone.ok()) << alone.error_message();
  ASSERT_EQ(r.stack->EmulatorStats()["token_refreshes"], 2) << "replica 1 refreshed on its own";
  const std::string newest = FirstLine(r.token_files[1]);
  ASSERT_TRUE(newest != spent);  // (compared, never printed: tokens are secrets)
  EXPECT_TRUE(testing::WaitFor([&] { return SharedRefreshToken(*r.redis) == newest; }))
      << "replica 1's pair is written once Redis answers";
  EXPECT_TRUE(ListLeads(r.stub(0)).ok());
  EXPECT_TRUE(ListLeads(r.stub(2)).ok());
  auto stats = r.stack->EmulatorStats();
  EXPECT_EQ(stats["token_refreshes"], 2) << "replicas 0 and 2 took replica 1's pair";
  EXPECT_EQ(stats["token_refusals"], 0) << "nobody sent the spent refresh token";
}

// As above, but replica 1 is killed before Redis answers again. Its token
// file kept the pair with its version: started again, it puts that pair in
// Redis instead of taking Redis's older one (whose refresh token it spent).
TEST(OAuthReplicas, AReplicaRestartedBeforeRedisAnsweredPublishesThePairItRefreshedAlone) {
  ThreeReplicas r = Start();
  ASSERT_EQ(r.others.size(), 2u);
  for (int i = 0; i < 3; ++i) ASSERT_TRUE(ListLeads(r.stub(i)).ok());
  const std::string spent = SharedRefreshToken(*r.redis);
  r.stack->ExpireTokens();
  r.redis->Pause();
  ASSERT_TRUE(ListLeads(r.stub(1)).ok());
  // While Redis is paused only reads were sent (a write follows a read that
  // answered), so the killed replica left nothing behind to run later.
  r.Kill(1);
  r.redis->Resume();
  const std::string newest = FirstLine(r.token_files[1]);
  ASSERT_TRUE(newest != spent);  // (compared, never printed: tokens are secrets)
  ASSERT_TRUE(SharedRefreshToken(*r.redis) == spent) << "Redis holds the spent token";
  ASSERT_TRUE(r.StartAgain(1));  // a gateway starts only with Redis answering
  EXPECT_TRUE(testing::WaitFor([&] { return SharedRefreshToken(*r.redis) == newest; }))
      << "the restarted replica 1 publishes its pair";
  for (int i = 0; i < 3; ++i) EXPECT_TRUE(ListLeads(r.stub(i)).ok()) << "replica " << i;
  auto stats = r.stack->EmulatorStats();
  EXPECT_EQ(stats["token_refreshes"], 2);
  EXPECT_EQ(stats["token_refusals"], 0);
  EXPECT_TRUE(FirstLine(r.token_files[1]) == newest) << "the pair was not replaced by the older one";
}

}  // namespace
}  // namespace b24gate::e2e::oauth_replicas_test
