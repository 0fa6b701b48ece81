// One more gateway process next to a Stack's: a replica with a config of its
// own (usually the same portals) and a stub to call it (header-only).
#ifndef B24GATE_TESTS_E2E_REPLICA_H_
#define B24GATE_TESTS_E2E_REPLICA_H_

#include <memory>
#include <string>
#include <vector>

#include <nlohmann/json.hpp>

#include "tests/e2e/binaries.h"
#include "tests/e2e/harness.h"
#include "tests/support/temp_file.h"

namespace b24gate::e2e {

struct Replica {
  std::unique_ptr<Process> process;
  std::unique_ptr<bitrix24::gateway::v1::GatewayService::Stub> stub;
};

// The config file a Stack writes, for one portal object.
inline nlohmann::json GatewayConfig(const nlohmann::json& portal) {
  return {{"listen", "127.0.0.1:0"},
          {"portals", {portal}},
          {"shutdown_grace_seconds", 5},
          {"predrain_delay_seconds", 0}};
}

// Starts b24gate with `config` (written to a temporary file) and `args`.
inline absl::StatusOr<Replica> StartReplica(const nlohmann::json& config,
                                            const std::vector<std::string>& args) {
  std::vector<std::string> argv = {kGatewayBin, "--config", testing::TempFile(config.dump(2))};
  argv.insert(argv.end(), args.begin(), args.end());
  absl::StatusOr<std::unique_ptr<Process>> process = Process::Start(argv);
  if (!process.ok()) return process.status();
  Replica r;
  r.process = std::move(*process);
  r.stub = bitrix24::gateway::v1::GatewayService::NewStub(
      grpc::CreateChannel(r.process->address(), grpc::InsecureChannelCredentials()));
  return r;
}

}  // namespace b24gate::e2e

#endif  // B24GATE_TESTS_E2E_REPLICA_H_
