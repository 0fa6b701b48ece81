// The portal registry with real processes: three gateway replicas of one
// OAuth application on a real redis-server, and a gateway keeping its
// registry in files across a restart. The emulator (one portal, its OAuth
// server the application's) counts the refreshes it granted and refused.
//
// Replicas: a portal added through one replica is callable through the
// others without a restart, a removal through one reaches the others; all
// three replicas calling a portal whose token expired cause one refresh,
// and a refresh token is never used twice; replicas started again on the
// same Redis still know the portals and their tokens.
//
// Installs: portals the emulator installs through one replica's /app (each
// with its own OAuth chain) are callable through all three, and each
// portal's expired token costs one refresh across the replicas.
//
// Restart: a registered portal, its rotated refresh token and the tuning
// set through UpdatePortalTuning are there after the gateway restarts.
#include <sys/types.h>
#include <unistd.h>

#include <atomic>
#include <csignal>
#include <memory>
#include <string>
#include <thread>
#include <vector>

#include <gtest/gtest.h>
#include <httplib.h>

#include "absl/synchronization/mutex.h"
#include "absl/time/clock.h"
#include "bitrix24/gateway/v1/admin.grpc.pb.h"
#include "absl/strings/str_cat.h"
#include "tests/e2e/binaries.h"
#include "tests/e2e/event_helpers.h"
#include "tests/e2e/harness.h"
#include "tests/e2e/rpc_helpers.h"
#include "tests/support/free_port.h"
#include "tests/support/redis_server.h"
#include "tests/support/temp_file.h"

namespace b24gate::e2e::registry_replicas_test {
namespace {

constexpr char kRefresh[] = "registry-replicas-refresh-0";
constexpr char kWebhook[] = "1/e2esecretcode";

struct GatewayProc {
  std::unique_ptr<Process> process;
  std::shared_ptr<grpc::Channel> channel;
};

// The emulator: one portal with a webhook, and the application's OAuth
// server, whose first refresh token is kRefresh.
std::unique_ptr<Process> StartEmulator() {
  absl::StatusOr<std::unique_ptr<Process>> emulator = Process::Start(
      {kEmulatorBin, "--listen", "127.0.0.1:0", "--webhook", kWebhook, "--seed", "crm.lead=20",
       "--no-limits", "--cost-zero", "--oauth", "app.test:app-secret", "--oauth-refresh-token",
       kRefresh});
  EXPECT_TRUE(emulator.ok()) << emulator.status();
  return emulator.ok() ? std::move(*emulator) : nullptr;
}

nlohmann::json Stats(Process& emulator) {
  httplib::Client client("http://" + emulator.address());
  httplib::Result res = client.Get("/_emulator/stats");
  return res && res->status == 200 ? nlohmann::json::parse(res->body, nullptr, false) : nullptr;
}

void ExpireTokens(Process& emulator) {
  httplib::Client("http://" + emulator.address()).Post("/_emulator/expire-tokens", "", "text/plain");
}

// A gateway of the application with no configured portal.
GatewayProc StartGateway(const std::string& emulator, const std::vector<std::string>& args) {
  nlohmann::json config = {{"listen", "127.0.0.1:0"},
                           {"application",
                            {{"client_id", "app.test"},
                             {"client_secret", "app-secret"},
                             {"oauth_url", "http://" + emulator + "/oauth/token/"}}},
                           {"shutdown_grace_seconds", 5},
                           {"predrain_delay_seconds", 0}};
  std::vector<std::string> argv = {kGatewayBin, "--config", testing::TempFile(config.dump())};
  argv.insert(argv.end(), args.begin(), args.end());
  absl::StatusOr<std::unique_ptr<Process>> process = Process::Start(argv);
  EXPECT_TRUE(process.ok()) << process.status();
  GatewayProc g;
  if (!process.ok()) return g;
  g.process = std::move(*process);
  g.channel = grpc::CreateChannel(g.process->address(), grpc::InsecureChannelCredentials());
  return g;
}

// "alpha": OAuth, on the emulator's REST endpoint.
grpc::Status AddAlpha(GatewayProc& g, const std::string& emulator) {
  pb::AddPortalRequest request;
  request.set_name("alpha");
  request.set_member_id("member-alpha");
  request.mutable_credentials()->set_portal_url("http://" + emulator + "/rest/");
  request.mutable_credentials()->set_refresh_token(kRefresh);
  pb::AddPortalResponse response;
  return pb::AdminService::NewStub(g.channel)->AddPortal(Ctx().get(), request, &response);
}

// "beta": the emulator's webhook, under a domain of its own.
grpc::Status AddBeta(GatewayProc& g, const std::string& emulator) {
  pb::AddPortalRequest request;
  request.set_name("beta");
  request.set_domain("beta.example");
  request.mutable_credentials()->set_webhook_url("http://" + emulator + "/rest/" + kWebhook + "/");
  pb::AddPortalResponse response;
  return pb::AdminService::NewStub(g.channel)->AddPortal(Ctx().get(), request, &response);
}

grpc::Status ListLeads(GatewayProc& g, const std::string& portal) {
  pb::CallRequest request;
  request.set_portal(portal);
  request.set_method("crm.lead.list");
  *request.mutable_params() = V({{"select", {"ID"}}});
  pb::CallResponse response;
  return pb::GatewayService::NewStub(g.channel)->Call(Ctx(30).get(), request, &response);
}

// Calls until the answer has `code` (the replicas read the registry's
// changes every second); the last answer.
grpc::Status AwaitCode(GatewayProc& g, const std::string& portal, grpc::StatusCode code) {
  const absl::Time give_up = absl::Now() + absl::Seconds(15);
  grpc::Status status = ListLeads(g, portal);
  while (status.error_code() != code && absl::Now() < give_up) {
    absl::SleepFor(absl::Milliseconds(100));
    status = ListLeads(g, portal);
  }
  return status;
}

struct Replicas {
  std::unique_ptr<testing::RedisServer> redis;
  std::unique_ptr<Process> emulator;
  std::vector<GatewayProc> gateways;

  void StartGateways() {
    gateways.clear();
    for (int i = 0; i < 3; ++i) {
      gateways.push_back(
          StartGateway(emulator->address(), {"--redis", redis->url(), "--replicas", "3"}));
    }
  }
  bool ok() const {
    for (const GatewayProc& g : gateways) {
      if (!g.process) return false;
    }
    return gateways.size() == 3;
  }
};

TEST(RegistryReplicas, PortalsAddedOrRemovedThroughOneReplicaReachTheOthersWithOneRefreshPerExpiry) {
  Replicas r;
  auto redis = testing::RedisServer::Start();
  ASSERT_TRUE(redis.ok()) << redis.status();
  r.redis = std::move(*redis);
  r.emulator = StartEmulator();
  ASSERT_TRUE(r.emulator);
  const std::string emu = r.emulator->address();
  r.StartGateways();
  ASSERT_TRUE(r.ok());

  ASSERT_TRUE(AddAlpha(r.gateways[0], emu).ok());
  ASSERT_TRUE(AddBeta(r.gateways[2], emu).ok());
  for (int i = 0; i < 3; ++i) {
    for (const std::string portal : {"member-alpha", "beta.example"}) {
      grpc::Status status = AwaitCode(r.gateways[i], portal, grpc::StatusCode::OK);
      EXPECT_TRUE(status.ok()) << "replica " << i << ", " << portal << ": " << status.error_message();
    }
  }
  EXPECT_EQ(Stats(*r.emulator)["token_refreshes"], 1) << "one refresh served the three replicas";

  // Every access token expires; 20 calls through each replica at once.
  ExpireTokens(*r.emulator);
  std::atomic<int> ok{0};
  std::vector<std::thread> threads;
  for (int i = 0; i < 3; ++i) {
    for (int k = 0; k < 20; ++k) {
      threads.emplace_back([&, i] { ok += ListLeads(r.gateways[i], "alpha").ok() ? 1 : 0; });
    }
  }
  for (std::thread& t : threads) t.join();
  EXPECT_EQ(ok.load(), 60);
  nlohmann::json stats = Stats(*r.emulator);
  EXPECT_EQ(stats["token_refreshes"], 2) << "one refresh per expiry across the replicas";
  EXPECT_EQ(stats["token_refusals"], 0) << "no refresh token was used twice";

  pb::RemovePortalRequest remove;
  remove.set_portal("beta");
  pb::RemovePortalResponse removed;
  ASSERT_TRUE(pb::AdminService::NewStub(r.gateways[1].channel)
                  ->RemovePortal(Ctx().get(), remove, &removed)
                  .ok());
  for (int i : {0, 2}) {
    EXPECT_EQ(AwaitCode(r.gateways[i], "beta", grpc::StatusCode::NOT_FOUND).error_code(),
              grpc::StatusCode::NOT_FOUND)
        << "replica " << i;
  }

  // All three start again on the same Redis: the registry and the tokens
  // are there; an expiry still costs one refresh.
  for (GatewayProc& g : r.gateways) EXPECT_EQ(g.process->StopWith(SIGTERM), 0);
  r.StartGateways();
  ASSERT_TRUE(r.ok());
  ExpireTokens(*r.emulator);
  for (int i = 0; i < 3; ++i) {
    grpc::Status status = ListLeads(r.gateways[i], "member-alpha");
    EXPECT_TRUE(status.ok()) << "replica " << i << ": " << status.error_message();
    EXPECT_EQ(ListLeads(r.gateways[i], "beta").error_code(), grpc::StatusCode::NOT_FOUND);
  }
  stats = Stats(*r.emulator);
  EXPECT_EQ(stats["token_refreshes"], 3);
  EXPECT_EQ(stats["token_refusals"], 0);
}

// The emulator's stats of the portal at `domain` (NAME.localhost:PORT).
nlohmann::json PortalStats(const std::string& emulator, const std::string& domain) {
  httplib::Client client("http://" + emulator);
  httplib::Result res = client.Get("/_emulator/stats", {{"Host", domain}});
  return res && res->status == 200 ? nlohmann::json::parse(res->body, nullptr, false) : nullptr;
}

TEST(RegistryReplicas, PortalsInstalledThroughOneReplicaRefreshOncePerExpiryAcrossAll) {
  auto redis = testing::RedisServer::Start();
  ASSERT_TRUE(redis.ok()) << redis.status();
  const std::string emu = absl::StrCat("127.0.0.1:", testing::FreePort());
  const std::vector<std::string> shared = {"--redis", (*redis)->url(), "--replicas", "3"};
  std::vector<GatewayProc> gateways;
  std::vector<std::string> first = shared;
  first.insert(first.end(), {"--events-listen", "127.0.0.1:0", "--events-log", testing::TempDir()});
  gateways.push_back(StartGateway(emu, first));
  for (int i = 1; i < 3; ++i) gateways.push_back(StartGateway(emu, shared));
  for (const GatewayProc& g : gateways) ASSERT_TRUE(g.process);
  absl::StatusOr<std::unique_ptr<Process>> emulator = Process::Start(
      {kEmulatorBin, "--listen", emu, "--oauth", "app.test:app-secret", "--app-url",
       "http://" + PrintedAddress(*gateways[0].process, "events") + "/app", "--no-limits",
       "--cost-zero", "--seed", "crm.lead=5"});
  ASSERT_TRUE(emulator.ok()) << emulator.status();

  httplib::Client control("http://" + emu);
  control.set_read_timeout(60, 0);
  httplib::Result created = control.Post("/_emulator/portals", R"({"count": 3})", "application/json");
  ASSERT_TRUE(created && created->status == 200);
  std::vector<std::pair<std::string, std::string>> portals;  // member_id, domain
  const nlohmann::json answer = nlohmann::json::parse(created->body);
  for (const nlohmann::json& p : answer["created"]) {
    EXPECT_EQ(p["install_status"], 200) << p["name"];
    portals.emplace_back(p["member_id"].get<std::string>(), p["domain"].get<std::string>());
  }
  ASSERT_EQ(portals.size(), 3u);
  for (int i = 0; i < 3; ++i) {
    for (const auto& [member_id, domain] : portals) {
      grpc::Status status = AwaitCode(gateways[i], member_id, grpc::StatusCode::OK);
      EXPECT_TRUE(status.ok()) << "replica " << i << ", " << domain << ": " << status.error_message();
    }
  }
  for (const auto& [member_id, domain] : portals) {
    EXPECT_EQ(PortalStats(emu, domain)["token_refreshes"], 1) << domain;
    control.Post("/_emulator/expire-tokens", {{"Host", domain}}, "", "text/plain");
  }
  // Every portal's token expired: 10 calls to each through each replica.
  std::atomic<int> ok{0};
  std::vector<std::thread> threads;
  for (int i = 0; i < 3; ++i) {
    for (const auto& [member_id, domain] : portals) {
      for (int k = 0; k < 10; ++k) {
        threads.emplace_back(
            [&, i, id = member_id] { ok += ListLeads(gateways[i], id).ok() ? 1 : 0; });
      }
    }
  }
  for (std::thread& t : threads) t.join();
  EXPECT_EQ(ok.load(), 90);
  for (const auto& [member_id, domain] : portals) {
    nlohmann::json stats = PortalStats(emu, domain);
    EXPECT_EQ(stats["token_refreshes"], 2) << domain << ": one refresh across the replicas";
    EXPECT_EQ(stats["token_refusals"], 0) << domain;
    EXPECT_EQ(stats["tokens_used_after_rotation"], 0) << domain;
  }
}

TEST(RegistryRestart, APortalItsRotatedTokenAndItsTuningOutlastARestart) {
  std::unique_ptr<Process> emulator = StartEmulator();
  ASSERT_TRUE(emulator);
  const std::string emu = emulator->address();
  const std::vector<std::string> args = {"--portal-store", testing::TempDir() + "/portals"};
  GatewayProc g = StartGateway(emu, args);
  ASSERT_TRUE(g.process);
  ASSERT_TRUE(AddAlpha(g, emu).ok());
  ASSERT_TRUE(ListLeads(g, "alpha").ok());
  pb::UpdatePortalTuningRequest tune;
  tune.set_portal("member-alpha");
  tune.mutable_tuning()->set_batch_size(7);
  pb::UpdatePortalTuningResponse tuned;
  ASSERT_TRUE(pb::AdminService::NewStub(g.channel)->UpdatePortalTuning(Ctx().get(), tune, &tuned).ok());
  EXPECT_EQ(tuned.portal().tuning().batch_size(), 7);
  ASSERT_EQ(g.process->StopWith(SIGTERM), 0);

  // The new process has no access token: it refreshes with the token the
  // first one stored (the first refresh token is spent).
  g = StartGateway(emu, args);
  ASSERT_TRUE(g.process);
  grpc::Status status = ListLeads(g, "alpha");
  EXPECT_TRUE(status.ok()) << status.error_message();
  nlohmann::json stats = Stats(*emulator);
  EXPECT_EQ(stats["token_refreshes"], 2);
  EXPECT_EQ(stats["token_refusals"], 0);
  pb::GetPortalRequest get;
  get.set_portal("alpha");
  pb::GetPortalResponse got;
  ASSERT_TRUE(pb::AdminService::NewStub(g.channel)->GetPortal(Ctx().get(), get, &got).ok());
  EXPECT_EQ(got.portal().tuning().batch_size(), 7) << "the tuning was kept in the record";
}

}  // namespace
}  // namespace b24gate::e2e::registry_replicas_test
