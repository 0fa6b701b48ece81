// Several gateway replicas in front of one emulated portal, and many clients
// pushing calls through all of them at once. Shared by replicas_test.cc
// (limits never tripped, nothing lost) and tests/bench/replicas_bench.cc
// (aggregate rate against the portal's ceiling). Header-only; not a test.
//
// The emulator runs the standard plan (burst 50, 2 requests per simulated
// second) time-scaled by `time_scale`, so a run of seconds sends hundreds of
// requests; the gateways get the same policy in real seconds. Each client
// thread calls one gateway in a loop: a keyset page of leads, a lead by id,
// or a lead add (so adds can be counted exactly against the emulator).
#ifndef B24GATE_TESTS_E2E_REPLICA_LOAD_H_
#define B24GATE_TESTS_E2E_REPLICA_LOAD_H_

#include <signal.h>

#include <atomic>
#include <map>
#include <memory>
#include <mutex>
#include <random>
#include <string>
#include <thread>
#include <vector>

#include "absl/strings/str_cat.h"
#include "tests/e2e/rpc_helpers.h"
#include "tests/e2e/throttle_load.h"

namespace b24gate::e2e {

struct ReplicaSetup {
  int replicas = 3;
  std::string redis_url;  // empty: each gateway keeps its own budget
  double time_scale = 0.2;
  double burst = 50;
  double drain_per_second = 2;  // simulated
  int leads = 500;
};

inline EmulatorSpec ReplicaEmulatorSpec(const ReplicaSetup& s) {
  EmulatorSpec e;
  e.seed = absl::StrCat("crm.lead=", s.leads);
  e.extra_args = {"--plan", "standard", "--time-scale", FormatNumber(s.time_scale)};
  return e;
}

inline GatewaySpec ReplicaGatewaySpec(const ReplicaSetup& s) {
  LoadConfig c;
  c.time_scale = s.time_scale;
  c.burst = s.burst;
  c.drain_per_second = s.drain_per_second;
  GatewaySpec g = LoadGatewaySpec(c);
  if (!s.redis_url.empty()) {
    g.extra_args = {"--redis", s.redis_url, "--replicas", absl::StrCat(s.replicas)};
  }
  return g;
}

// The emulator, the first gateway (stack->gateway()) and the others.
struct Replicas {
  std::unique_ptr<Stack> stack;
  std::vector<std::unique_ptr<Process>> others;
  std::vector<std::string> addresses;  // every gateway, the first first

  Process& gateway(size_t i) { return i == 0 ? stack->gateway() : *others[i - 1]; }
  // The portal's status as gateway `i` reports it (AdminService).
  bool State(size_t i, pb::PortalState* state) {
    auto channel = grpc::CreateChannel(addresses[i], grpc::InsecureChannelCredentials());
    auto admin = pb::AdminService::NewStub(channel);
    pb::ListPortalsResponse response;
    if (!admin->ListPortals(Ctx(5).get(), {}, &response).ok() || response.portals_size() != 1) {
      return false;
    }
    *state = response.portals(0);
    return true;
  }
};

inline std::unique_ptr<Replicas> StartReplicas(const ReplicaSetup& s) {
  auto r = std::make_unique<Replicas>();
  r->stack = Up(ReplicaEmulatorSpec(s), ReplicaGatewaySpec(s));
  if (!r->stack) return nullptr;
  r->addresses.push_back(r->stack->gateway().address());
  for (int i = 1; i < s.replicas; ++i) {
    absl::StatusOr<std::unique_ptr<Process>> p = r->stack->StartReplica();
    EXPECT_TRUE(p.ok()) << p.status();
    if (!p.ok()) return nullptr;
    r->addresses.push_back((*p)->address());
    r->others.push_back(std::move(*p));
  }
  return r;
}

// Clients pushing calls through every gateway until Stop().
class ReplicaLoad {
 public:
  struct PerGateway {
    int64_t rpcs = 0;
    std::map<std::string, int64_t> by_code;
    int64_t adds_ok = 0;
  };

  ReplicaLoad(const std::vector<std::string>& addresses, int clients_per_gateway, int leads)
      : results_(addresses.size()), alive_(addresses.size()) {
    for (size_t g = 0; g < addresses.size(); ++g) {
      alive_[g] = std::make_unique<std::atomic<bool>>(true);
      auto channel = grpc::CreateChannel(addresses[g], grpc::InsecureChannelCredentials());
      for (int c = 0; c < clients_per_gateway; ++c) {
        threads_.emplace_back([this, g, c, channel, leads] { Client(g, c, channel, leads); });
      }
    }
  }
  ~ReplicaLoad() { Stop(); }

  // Gateway `g` is about to be killed: its clients stop, and what they were
  // waiting for is not counted (its callers saw the process die).
  void Abandon(size_t g) { *alive_[g] = false; }

  void Stop() {
    stop_ = true;
    for (auto& t : threads_) {
      if (t.joinable()) t.join();
    }
  }

  std::vector<PerGateway> results() {
    std::lock_guard<std::mutex> lock(mu_);
    return results_;
  }
  // Calls that did not succeed on gateways still alive.
  int64_t Failures() {
    std::lock_guard<std::mutex> lock(mu_);
    int64_t n = 0;
    for (size_t g = 0; g < results_.size(); ++g) {
      if (!*alive_[g]) continue;
      for (const auto& [code, count] : results_[g].by_code) n += code == "OK" ? 0 : count;
    }
    return n;
  }
  int64_t Rpcs() {
    std::lock_guard<std::mutex> lock(mu_);
    int64_t n = 0;
    for (const auto& r : results_) n += r.rpcs;
    return n;
  }
  int64_t AddsOk() {
    std::lock_guard<std::mutex> lock(mu_);
    int64_t n = 0;
    for (const auto& r : results_) n += r.adds_ok;
    return n;
  }
  std::string Summary() {
    std::lock_guard<std::mutex> lock(mu_);
    std::string s;
    for (size_t g = 0; g < results_.size(); ++g) {
      absl::StrAppend(&s, "gateway ", g, ": rpcs=", results_[g].rpcs);
      for (const auto& [code, count] : results_[g].by_code) absl::StrAppend(&s, " ", code, "=", count);
      absl::StrAppend(&s, "\n");
    }
    return s;
  }

 private:
  void Client(size_t g, int c, std::shared_ptr<grpc::Channel> channel, int leads) {
    auto stub = pb::GatewayService::NewStub(channel);
    std::mt19937 rng(static_cast<unsigned>(1000 * g + c));
    int64_t n = 0;
    while (!stop_ && *alive_[g]) {
      ++n;
      pb::CallRequest request;
      int kind = (c + n) % 3;
      if (kind == 0) {
        int64_t after = std::uniform_int_distribution<int64_t>(0, leads)(rng);
        request.set_method("crm.lead.list");
        *request.mutable_params() = V({{"select", {"ID", "TITLE"}},
                                       {"filter", {{">ID", after}}},
                                       {"order", {{"ID", "ASC"}}},
                                       {"start", -1}});
      } else if (kind == 1) {
        // One lead by id (seeded ids are sparse: some find nothing).
        request.set_method("crm.lead.list");
        *request.mutable_params() =
            V({{"select", {"ID", "TITLE"}},
               {"filter", {{"=ID", std::uniform_int_distribution<int64_t>(1, leads)(rng)}}},
               {"start", -1}});
      } else {
        request.set_method("crm.lead.add");
        *request.mutable_params() =
            V({{"fields", {{"TITLE", absl::StrCat("replica ", g, " client ", c, " #", n)}}}});
      }
      pb::CallResponse response;
      grpc::Status status = stub->Call(Ctx(60).get(), request, &response);
      std::lock_guard<std::mutex> lock(mu_);
      if (!*alive_[g]) return;
      PerGateway& r = results_[g];
      r.rpcs++;
      r.by_code[CodeName(status.error_code())]++;
      if (kind == 2 && status.ok()) r.adds_ok++;
    }
  }

  std::mutex mu_;
  std::vector<PerGateway> results_;
  std::vector<std::unique_ptr<std::atomic<bool>>> alive_;
  std::atomic<bool> stop_{false};
  std::vector<std::thread> threads_;
};

}  // namespace b24gate::e2e

#endif  // B24GATE_TESTS_E2E_REPLICA_LOAD_H_
