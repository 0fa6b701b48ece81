// A gateway's threads do not grow with its portals: the same gateway with 1
// portal and with 500 portals (all in front of one emulator) runs the same
// number of threads, and every portal still answers.
#include <dirent.h>
#include <signal.h>
#include <stdlib.h>
#include <unistd.h>

#include <cstdio>
#include <fstream>
#include <string>

#include <gtest/gtest.h>

#include "absl/strings/str_cat.h"
#include "tests/e2e/binaries.h"
#include "tests/e2e/rpc_helpers.h"

namespace b24gate::e2e::portal_threads_test {
namespace {

// Threads of process `pid` that the gateway's own code started: they keep
// the process's name. gRPC names its threads ("grpc_global_timer",
// "event_engine", ...) and starts or ends some with its internal timers, so
// those are counted apart and not compared.
struct Threads {
  int own = 0;
  int all = 0;
};

Threads ThreadsOf(pid_t pid) {
  Threads t;
  DIR* dir = opendir(absl::StrCat("/proc/", pid, "/task").c_str());
  if (dir == nullptr) return t;
  while (dirent* entry = readdir(dir)) {
    if (entry->d_name[0] == '.') continue;
    std::ifstream comm(absl::StrCat("/proc/", pid, "/task/", entry->d_name, "/comm"));
    std::string name;
    std::getline(comm, name);
    ++t.all;
    if (name == "b24gate") ++t.own;
  }
  closedir(dir);
  return t;
}

// One call of crm.lead.list through `portal`; OK or the failure.
grpc::Status ListThrough(pb::GatewayService::Stub& stub, const std::string& portal) {
  pb::CallRequest request;
  request.set_portal(portal);
  request.set_method("crm.lead.list");
  pb::CallResponse response;
  return stub.Call(Ctx().get(), request, &response);
}

// A gateway process with `portals` portals named p0, p1, ..., each in front
// of `webhook_url`.
std::unique_ptr<Process> StartGateway(int portals, const std::string& webhook_url) {
  nlohmann::json list = nlohmann::json::array();
  for (int i = 0; i < portals; ++i) {
    list.push_back({{"name", absl::StrCat("p", i)}, {"webhook", webhook_url}});
  }
  nlohmann::json config = {{"listen", "127.0.0.1:0"},
                           {"portals", list},
                           {"shutdown_grace_seconds", 2},
                           {"predrain_delay_seconds", 0}};
  char path[] = "/tmp/b24gate-e2e-XXXXXX";
  int fd = mkstemp(path);
  if (fd < 0) return nullptr;
  close(fd);
  std::ofstream(path) << config.dump();
  auto process = Process::Start({kGatewayBin, "--config", path});
  unlink(path);
  return process.ok() ? std::move(*process) : nullptr;
}

TEST(PortalThreads, FiveHundredPortalsRunOnTheThreadsOfOne) {
  auto stack = Up();
  ASSERT_TRUE(stack);
  Threads threads[2];
  const int portals[2] = {1, 500};
  for (int run = 0; run < 2; ++run) {
    auto gateway = StartGateway(portals[run], stack->webhook_url());
    ASSERT_TRUE(gateway) << portals[run] << " portals";
    auto stub = pb::GatewayService::NewStub(
        grpc::CreateChannel(gateway->address(), grpc::InsecureChannelCredentials()));
    // The same traffic in both runs: a call through the first and the last
    // portal.
    const std::string last = absl::StrCat("p", portals[run] - 1);
    for (const std::string& portal : {std::string("p0"), last}) {
      grpc::Status status = ListThrough(*stub, portal);
      EXPECT_TRUE(status.ok()) << portal << ": " << status.error_message();
    }
    threads[run] = ThreadsOf(gateway->pid());
    EXPECT_EQ(gateway->StopWith(SIGTERM), 0);
  }
  std::printf("gateway threads (own / with gRPC's): 1 portal %d / %d, 500 portals %d / %d\n",
              threads[0].own, threads[0].all, threads[1].own, threads[1].all);
  EXPECT_GT(threads[0].own, 0);
  EXPECT_EQ(threads[1].own, threads[0].own);
}

}  // namespace
}  // namespace b24gate::e2e::portal_threads_test
