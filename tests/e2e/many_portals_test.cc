// An application installed on 1,000 portals at run time, through the
// install flow, with real processes: the emulator serves every portal (each
// at its own NAME.localhost domain, with its own member_id, OAuth chain and
// limits) and posts each installation's ONAPPINSTALL to the gateway's
// POST /app, which registers the portal with its tokens. Callers keep
// calling the portals installed so far, by member_id, all along. Then 100 of
// them are uninstalled (the emulator posts ONAPPUNINSTALL) and callers go on
// with the other 900 while access tokens, living 2 s, expire and the gateway
// refreshes them. Every call to an installed portal succeeds, every call to
// a removed one is NOT_FOUND, and the emulator saw no token used after its
// rotation (a reused refresh token, or an access token used after the
// refresh that replaced it).
#include <algorithm>
#include <atomic>
#include <chrono>
#include <memory>
#include <random>
#include <string>
#include <thread>
#include <vector>

#include <gtest/gtest.h>
#include <httplib.h>

#include "absl/strings/str_cat.h"
#include "absl/synchronization/mutex.h"
#include "tests/e2e/binaries.h"
#include "tests/e2e/event_helpers.h"
#include "tests/support/free_port.h"
#include "tests/support/temp_file.h"
#include "tests/support/wait_for.h"

namespace b24gate::e2e::many_portals_test {
namespace {

constexpr int kPortals = 1000;
constexpr int kBatch = 100;     // portals created by one /_emulator/portals request
constexpr int kRemoved = 100;   // every tenth
constexpr int kCallers = 8;
constexpr double kTokenLifetime = 2;

struct Installed {
  std::string name;
  std::string member_id;
};

// The gateway (an OAuth application with its install endpoint) and the
// emulator that installs the application on its portals. The emulator's
// port is chosen first: each process is told the other's address.
struct AppPortals {
  std::unique_ptr<Process> gateway;
  std::unique_ptr<Process> emulator;
  std::string emulator_address;
  std::shared_ptr<grpc::Channel> channel;

  bool Start() {
    emulator_address = absl::StrCat("127.0.0.1:", ::b24gate::testing::FreePort());
    json config = {{"listen", "127.0.0.1:0"},
                   {"portals", {{{"name", "main"},
                                 {"webhook", "http://" + emulator_address + "/rest/1/unused/"}}}},
                   {"application",
                    {{"client_id", "app.test"},
                     {"client_secret", "app-secret"},
                     {"oauth_url", "http://" + emulator_address + "/oauth/token/"}}},
                   {"shutdown_grace_seconds", 5},
                   {"predrain_delay_seconds", 0}};
    absl::StatusOr<std::unique_ptr<Process>> gw =
        Process::Start({kGatewayBin, "--config", ::b24gate::testing::TempFile(config.dump()),
                        "--events-listen", "127.0.0.1:0", "--events-log", ::b24gate::testing::TempDir()});
    if (!gw.ok()) return false;
    gateway = std::move(*gw);
    const std::string app_url = "http://" + PrintedAddress(*gateway, "events") + "/app";
    absl::StatusOr<std::unique_ptr<Process>> emu = Process::Start(
        {kEmulatorBin, "--listen", emulator_address, "--oauth", "app.test:app-secret",
         "--app-url", app_url, "--token-lifetime", absl::StrCat(kTokenLifetime), "--cost-zero",
         "--seed", "user=2", "--threads", "512", "--keep-alive-timeout", "2"});
    if (!emu.ok()) return false;
    emulator = std::move(*emu);
    channel = grpc::CreateChannel(gateway->address(), grpc::InsecureChannelCredentials());
    return true;
  }

  httplib::Client Emulator() {
    httplib::Client client("http://" + emulator_address);
    client.set_read_timeout(120, 0);
    return client;
  }
};

grpc::Status CallOn(pb::GatewayService::Stub& stub, const std::string& portal) {
  pb::CallRequest request;
  request.set_method("user.current");
  request.set_portal(portal);
  pb::CallResponse response;
  return stub.Call(Ctx(30).get(), request, &response);
}

// Callers calling the portals in `live`, picked at random, until stopped.
class Callers {
 public:
  explicit Callers(std::shared_ptr<grpc::Channel> channel) {
    for (int i = 0; i < kCallers; ++i) {
      picks_.push_back(std::make_unique<std::atomic<int64_t>>(0));
      threads_.emplace_back([this, channel, i] { Run(channel, i); });
    }
  }
  ~Callers() { Stop(); }

  void Add(const std::vector<Installed>& portals) {
    absl::MutexLock lock(&mu_);
    for (const Installed& p : portals) live_.push_back(p.member_id);
  }
  // Takes `member_id` out and returns once no call to it is in flight:
  // every caller has picked again since.
  void Withdraw(const std::vector<std::string>& member_ids) {
    {
      absl::MutexLock lock(&mu_);
      for (const std::string& gone : member_ids) live_.erase(std::find(live_.begin(), live_.end(), gone));
    }
    std::vector<int64_t> before;
    for (const auto& p : picks_) before.push_back(p->load());
    for (int i = 0; i < kCallers; ++i) {
      while (picks_[i]->load() == before[i]) std::this_thread::sleep_for(std::chrono::milliseconds(1));
    }
  }
  void Stop() {
    stop_ = true;
    for (std::thread& t : threads_) {
      if (t.joinable()) t.join();
    }
  }
  int64_t succeeded() const { return succeeded_; }
  std::vector<std::string> failures() {
    absl::MutexLock lock(&mu_);
    return failures_;
  }

 private:
  void Run(std::shared_ptr<grpc::Channel> channel, int i) {
    auto stub = pb::GatewayService::NewStub(channel);
    std::mt19937 rng(i);
    while (!stop_) {
      std::string member_id;
      {
        // Counted under the lock that guards the pick: counted after it, a
        // caller that picked a portal just before Withdraw took it out
        // could count its pick after Withdraw's snapshot and let Withdraw
        // return while it still calls that portal.
        absl::MutexLock lock(&mu_);
        if (!live_.empty()) member_id = live_[rng() % live_.size()];
        ++*picks_[i];
      }
      if (member_id.empty()) {
        std::this_thread::sleep_for(std::chrono::milliseconds(5));
        continue;
      }
      const grpc::Status status = CallOn(*stub, member_id);
      if (status.ok()) {
        ++succeeded_;
        continue;
      }
      absl::MutexLock lock(&mu_);
      if (failures_.size() < 10) {
        failures_.push_back(absl::StrCat(member_id, ": ", status.error_code(), " ", status.error_message()));
      }
    }
  }

  absl::Mutex mu_;
  std::vector<std::string> live_ ABSL_GUARDED_BY(mu_);
  std::vector<std::string> failures_ ABSL_GUARDED_BY(mu_);
  std::vector<std::unique_ptr<std::atomic<int64_t>>> picks_;
  std::atomic<bool> stop_{false};
  std::atomic<int64_t> succeeded_{0};
  std::vector<std::thread> threads_;
};

// Creates `kBatch` portals; each install must be accepted by the gateway.
std::vector<Installed> InstallBatch(AppPortals& s) {
  std::vector<Installed> batch;
  httplib::Result res = s.Emulator().Post("/_emulator/portals", json{{"count", kBatch}}.dump(),
                                          "application/json");
  EXPECT_TRUE(res && res->status == 200) << (res ? res->body : "no answer");
  if (!res || res->status != 200) return batch;
  const json answer = json::parse(res->body);
  for (const json& p : answer["created"]) {
    EXPECT_EQ(p["install_status"], 200) << p["name"];
    batch.push_back({p["name"], p["member_id"]});
  }
  return batch;
}

json EmulatorStatsOf(AppPortals& s, const std::string& portal) {
  const std::string host = absl::StrCat(portal, ".localhost:", s.emulator->port());
  httplib::Result res = s.Emulator().Get("/_emulator/stats", {{"Host", host}});
  return res && res->status == 200 ? json::parse(res->body) : json();
}

TEST(ManyPortals, ThousandInstalledWhileCallsRunHundredUninstalledNoTokenUsedAfterRotation) {
  AppPortals s;
  ASSERT_TRUE(s.Start());
  auto stub = pb::GatewayService::NewStub(s.channel);
  Callers callers(s.channel);

  std::vector<Installed> installed;
  for (int done = 0; done < kPortals; done += kBatch) {
    std::vector<Installed> batch = InstallBatch(s);
    ASSERT_EQ(batch.size(), static_cast<size_t>(kBatch));
    if (done == 0) {
      ASSERT_TRUE(CallOn(*stub, batch.front().member_id).ok()) << "its first refresh, now";
    }
    callers.Add(batch);
    installed.insert(installed.end(), batch.begin(), batch.end());
  }
  const auto all_installed = std::chrono::steady_clock::now();

  std::vector<Installed> removed;
  std::vector<Installed> kept;
  for (size_t i = 0; i < installed.size(); ++i) (i % 10 == 5 ? removed : kept).push_back(installed[i]);
  ASSERT_EQ(removed.size(), static_cast<size_t>(kRemoved));
  std::vector<std::string> removed_ids;
  for (const Installed& p : removed) removed_ids.push_back(p.member_id);
  callers.Withdraw(removed_ids);
  for (const Installed& p : removed) {
    httplib::Result res = s.Emulator().Delete("/_emulator/portals/" + p.name);
    ASSERT_TRUE(res && res->status == 200) << p.name;
    EXPECT_EQ(json::parse(res->body)["uninstall_status"], 200) << p.name;
  }
  for (const Installed& p : removed) {
    EXPECT_EQ(CallOn(*stub, p.member_id).error_code(), grpc::StatusCode::NOT_FOUND) << p.name;
  }

  // The first portal's first access token (from its first call, before the
  // other batches) has expired by now; every kept portal is called once
  // more. The callers go on until they have made more calls than there are
  // portals: how many they make in a given time is the machine's speed (818
  // next to other builds), which is not what this test is about.
  std::this_thread::sleep_until(all_installed + std::chrono::milliseconds(
                                                    static_cast<int>(kTokenLifetime * 1500)));
  EXPECT_TRUE(::b24gate::testing::WaitFor([&] { return callers.succeeded() > kPortals; }, 300))
      << callers.succeeded() << " calls succeeded";
  callers.Stop();
  int failed_last_pass = 0;
  for (const Installed& p : kept) {
    const grpc::Status status = CallOn(*stub, p.member_id);
    if (!status.ok() && ++failed_last_pass <= 5) {
      ADD_FAILURE() << p.name << ": " << status.error_code() << " " << status.error_message();
    }
  }
  EXPECT_EQ(failed_last_pass, 0);
  EXPECT_EQ(callers.failures(), std::vector<std::string>()) << "calls to installed portals failed";

  httplib::Result list = s.Emulator().Get("/_emulator/portals");
  ASSERT_TRUE(list && list->status == 200);
  const json portals = json::parse(list->body);
  EXPECT_EQ(portals["count"], kPortals - kRemoved);
  EXPECT_EQ(portals["tokens_used_after_rotation"], 0);
  // Rotations did happen: the first portal installed refreshed at its first
  // call and again after its first token expired.
  EXPECT_GE(EmulatorStatsOf(s, kept.front().name).value("token_refreshes", 0), 2);
}

}  // namespace
}  // namespace b24gate::e2e::many_portals_test
