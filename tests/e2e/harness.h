// End-to-end test fixtures: real `b24-emulator` and `b24gate` processes on
// 127.0.0.1 with free ports, and a gRPC stub talking to the gateway.
//
// Process paths come from compile definitions set by tests/e2e/CMakeLists.txt.
// Processes are stopped with SIGTERM (then SIGKILL) when their handle dies.
//
// Thread-safety: a fixture belongs to one test thread; Stats() may be called
// from any thread.
#ifndef B24GATE_TESTS_E2E_HARNESS_H_
#define B24GATE_TESTS_E2E_HARNESS_H_

#include <sys/types.h>

#include <functional>
#include <memory>
#include <string>
#include <vector>

#include <grpcpp/grpcpp.h>
#include <nlohmann/json.hpp>

#include "absl/status/statusor.h"
#include "bitrix24/gateway/v1/gateway.grpc.pb.h"
#include "tests/support/error_reason.h"

namespace b24gate::e2e {

// A child process whose first stdout line is "listening on HOST:PORT".
class Process {
 public:
  // Starts argv[0] with the arguments; waits up to `startup` seconds for the
  // listening line. Stdout lines after it are kept (see lines()). An emulator
  // started under ctest writes its access log beside the test's output
  // (tests/support/kept_logs.h).
  static absl::StatusOr<std::unique_ptr<Process>> Start(std::vector<std::string> argv,
                                                        double startup_seconds = 60);
  ~Process();

  const std::string& address() const { return address_; }  // HOST:PORT
  int port() const;
  pid_t pid() const { return pid_; }
  // Sends `signal` and waits for the exit; returns the exit code (or
  // 128+signal when killed), -1 on timeout.
  int StopWith(int signal, double timeout_seconds = 30);
  // Lines printed on stdout after the listening line, read so far.
  std::vector<std::string> lines();

 private:
  Process() = default;
  pid_t pid_ = -1;
  int stdout_fd_ = -1;
  std::string address_;
  std::string buffer_;
  std::vector<std::string> lines_;
  bool exited_ = false;
};

// Options of the emulator under test.
struct EmulatorSpec {
  std::string webhook = "1/e2esecretcode";
  std::string seed = "crm.lead=300,crm.deal=120,crm.contact=80,crm.company=20,tasks.task=60,user=12,crm.item=60";
  std::vector<std::string> extra_args;  // e.g. {"--no-limits", "--cost-zero"}
};

// Options of the gateway under test: the config file's portal object.
struct GatewaySpec {
  // Merged into the default portal; a null value removes the key.
  nlohmann::json portal = nlohmann::json::object();
  // Last edit of the portal object, once the emulator's address is known.
  std::function<void(nlohmann::json* portal, const std::string& emulator_address)> customize;
  std::vector<std::string> extra_args;
  double shutdown_grace_seconds = 5;
  // After SIGTERM the gateway keeps accepting this long (0: tests stop fast).
  double predrain_delay_seconds = 0;
  // Merged into the top level of the config file (e.g. max_bulk_items).
  nlohmann::json settings = nlohmann::json::object();
  // How stub() connects (e.g. grpc::SslCredentials); null = plain text.
  std::shared_ptr<grpc::ChannelCredentials> credentials;
  // Sent as "authorization: Bearer TOKEN" on every call of stub() and
  // channel() (see Stack::UseToken); empty: no credentials.
  std::string token;
};

class Stack {
 public:
  static absl::StatusOr<std::unique_ptr<Stack>> Start(EmulatorSpec emulator = {},
                                                      GatewaySpec gateway = {});
  bitrix24::gateway::v1::GatewayService::Stub& stub() { return *stub_; }
  std::shared_ptr<grpc::Channel> channel() { return channel_; }
  Process& emulator() { return *emulator_; }
  Process& gateway() { return *gateway_; }
  const std::string& webhook_url() const { return webhook_url_; }
  // The gateway's config file: a test may rewrite it before
  // RestartGateway().
  const std::string& config_path() const { return config_path_; }
  // Stops the gateway (SIGTERM, expecting exit 0) and starts it again with
  // the same configuration; the stub talks to the new process.
  absl::Status RestartGateway();
  // One more gateway process with the same configuration and flags, in front
  // of the same emulator: replicas (talk to it through its address()).
  absl::StatusOr<std::unique_ptr<Process>> StartReplica();
  // From now on stub() and channel() send "authorization: Bearer TOKEN" on
  // every call (empty: no credentials), so the shared helpers act as that
  // client.
  void UseToken(const std::string& token);
  // A channel to the gateway whose calls carry `token` (as UseToken), for
  // tests that act as several clients at once.
  std::shared_ptr<grpc::Channel> ChannelAs(const std::string& token);
  // GET /_emulator/stats, POST /_emulator/reset, POST /_emulator/faults.
  nlohmann::json EmulatorStats();
  // GET /_emulator/commands: the last commands the emulator ran, as it read
  // them ({"method", "params"}), oldest first; reset with the stats.
  nlohmann::json EmulatorCommands();
  void ResetEmulator();
  void SetFaults(const std::string& spec);
  // POST /_emulator/expire-tokens: every access token expires now.
  void ExpireTokens();
  // GET /_emulator/PATH (e.g. "disk/files/7"): its JSON, null unless 200.
  nlohmann::json EmulatorGet(const std::string& path);
  // Direct REST call to the emulator, bypassing the gateway (for checks).
  nlohmann::json Rest(const std::string& method, const nlohmann::json& params);

 private:
  std::unique_ptr<Process> emulator_;
  std::unique_ptr<Process> gateway_;
  std::string webhook_url_;
  std::string config_path_;
  std::vector<std::string> gateway_args_;
  std::shared_ptr<grpc::ChannelCredentials> credentials_;
  std::string token_;
  absl::Status StartGateway();
  std::shared_ptr<grpc::Channel> channel_;
  std::unique_ptr<bitrix24::gateway::v1::GatewayService::Stub> stub_;
};

// The HOST:PORT of a gateway's /metrics endpoint (started with
// --metrics-listen), from the "metrics on HOST:PORT" line it prints; waits up
// to 5 s for it, "" when none comes.
std::string MetricsAddress(Process& gateway);
// The gateway's /metrics page; "" when there is none or it cannot be read.
std::string ScrapeMetrics(Process& gateway);
// The value of one series on that page, as text: SERIES is the metric's
// name with its labels, e.g. `b24gate_transport_connects_total{path="ahead"}`
// ("" when the series is absent).
std::string MetricText(Process& gateway, const std::string& series);

// Starts a stack for the running test: a failure to start fails the test
// and returns null (tests then ASSERT_TRUE(stack)). The one preamble of the
// e2e tests.
std::unique_ptr<Stack> Up(EmulatorSpec emulator = {}, GatewaySpec gateway = {});

// Test helpers for JSON-shaped protobuf values.
google::protobuf::Value V(const nlohmann::json& j);
google::protobuf::Struct S(const nlohmann::json& j);
nlohmann::json J(const google::protobuf::Value& v);
nlohmann::json J(const google::protobuf::Struct& s);

// A context with a deadline `seconds` from now.
std::unique_ptr<grpc::ClientContext> Ctx(double seconds = 60);

using testing::ReasonOf;

}  // namespace b24gate::e2e

#endif  // B24GATE_TESTS_E2E_HARNESS_H_
