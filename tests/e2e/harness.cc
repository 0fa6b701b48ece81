#include "tests/e2e/harness.h"

#include <algorithm>
#include <atomic>

#include <fcntl.h>
#include <poll.h>
#include <signal.h>
#include <sys/wait.h>
#include <unistd.h>

#include <chrono>
#include <cstdlib>
#include <sstream>
#include <thread>

#include <grpcpp/support/client_interceptor.h>
#include <gtest/gtest.h>
#include <httplib.h>

#include "absl/strings/match.h"
#include "absl/strings/numbers.h"
#include "absl/strings/str_cat.h"
#include "service/json_value.h"
#include "tests/e2e/binaries.h"
#include "tests/support/kept_logs.h"
#include "tests/support/temp_file.h"
#include "tests/support/wait_for.h"

namespace b24gate::e2e {

namespace {

// Under ctest, each emulator's access log goes beside the test's output
// (tests/support/kept_logs.h): emulator-1.log, emulator-2.log, ... in the
// order they start.
void AddAccessLog(std::vector<std::string>* argv) {
  static std::atomic<int> emulators{0};
  const std::string dir = testing::KeptLogsDir();
  if (dir.empty() || argv->empty() || (*argv)[0] != kEmulatorBin) return;
  for (const std::string& arg : *argv) {
    if (absl::StartsWith(arg, "--access-log")) return;  // the test's own
  }
  argv->insert(argv->end(), {"--access-log", absl::StrCat(dir, "/emulator-", ++emulators, ".log")});
}

}  // namespace

absl::StatusOr<std::unique_ptr<Process>> Process::Start(std::vector<std::string> argv,
                                                        double startup_seconds) {
  AddAccessLog(&argv);
  int pipe_fds[2];
  if (pipe(pipe_fds) != 0) return absl::InternalError("pipe failed");
  pid_t pid = fork();
  if (pid < 0) return absl::InternalError("fork failed");
  if (pid == 0) {
    dup2(pipe_fds[1], STDOUT_FILENO);
    close(pipe_fds[0]);
    close(pipe_fds[1]);
    std::vector<char*> args;
    for (auto& a : argv) args.push_back(a.data());
    args.push_back(nullptr);
    execv(args[0], args.data());
    _exit(127);
  }
  close(pipe_fds[1]);
  std::unique_ptr<Process> p(new Process);
  p->pid_ = pid;
  p->stdout_fd_ = pipe_fds[0];
  fcntl(p->stdout_fd_, F_SETFL, O_NONBLOCK);
  auto deadline = std::chrono::steady_clock::now() +
                  std::chrono::milliseconds(static_cast<int>(startup_seconds * 1000));
  while (std::chrono::steady_clock::now() < deadline) {
    pollfd pfd{p->stdout_fd_, POLLIN, 0};
    poll(&pfd, 1, 100);
    char buf[4096];
    ssize_t n = read(p->stdout_fd_, buf, sizeof buf);
    if (n > 0) p->buffer_.append(buf, n);
    size_t nl = p->buffer_.find('\n');
    if (nl != std::string::npos) {
      std::string first = p->buffer_.substr(0, nl);
      p->buffer_.erase(0, nl + 1);
      if (!absl::StartsWith(first, "listening on ")) {
        return absl::InternalError(absl::StrCat(argv[0], " printed \"", first, "\" first"));
      }
      p->address_ = first.substr(13);
      return p;
    }
    int status;
    if (n == 0 || waitpid(pid, &status, WNOHANG) == pid) {
      p->exited_ = true;
      return absl::InternalError(absl::StrCat(argv[0], " exited before listening"));
    }
  }
  return absl::DeadlineExceededError(absl::StrCat(argv[0], " did not start listening"));
}

int Process::port() const {
  int port = 0;
  (void)absl::SimpleAtoi(address_.substr(address_.rfind(':') + 1), &port);
  return port;
}

std::vector<std::string> Process::lines() {
  char buf[4096];
  ssize_t n;
  while ((n = read(stdout_fd_, buf, sizeof buf)) > 0) buffer_.append(buf, n);
  size_t nl;
  while ((nl = buffer_.find('\n')) != std::string::npos) {
    lines_.push_back(buffer_.substr(0, nl));
    buffer_.erase(0, nl + 1);
  }
  return lines_;
}

int Process::StopWith(int signal, double timeout_seconds) {
  if (exited_ || pid_ <= 0) return -1;
  kill(pid_, signal);
  auto deadline = std::chrono::steady_clock::now() +
                  std::chrono::milliseconds(static_cast<int>(timeout_seconds * 1000));
  int status = 0;
  while (std::chrono::steady_clock::now() < deadline) {
    if (waitpid(pid_, &status, WNOHANG) == pid_) {
      exited_ = true;
      if (WIFEXITED(status)) return WEXITSTATUS(status);
      return 128 + WTERMSIG(status);
    }
    std::this_thread::sleep_for(std::chrono::milliseconds(20));
  }
  return -1;
}

Process::~Process() {
  if (!exited_ && pid_ > 0) {
    if (StopWith(SIGTERM, 10) == -1 && !exited_) {
      kill(pid_, SIGKILL);
      waitpid(pid_, nullptr, 0);
    }
  }
  if (stdout_fd_ >= 0) close(stdout_fd_);
}

absl::StatusOr<std::unique_ptr<Stack>> Stack::Start(EmulatorSpec emulator, GatewaySpec gateway) {
  auto stack = std::unique_ptr<Stack>(new Stack);
  std::vector<std::string> emu_args = {kEmulatorBin, "--listen", "127.0.0.1:0", "--webhook",
                                       emulator.webhook};
  if (!emulator.seed.empty()) {
    emu_args.push_back("--seed");
    emu_args.push_back(emulator.seed);
  }
  for (auto& a : emulator.extra_args) emu_args.push_back(a);
  absl::StatusOr<std::unique_ptr<Process>> emu = Process::Start(emu_args);
  if (!emu.ok()) return emu.status();
  stack->emulator_ = std::move(*emu);
  bool tls = false;
  for (auto& a : emulator.extra_args) tls = tls || a == "--tls-cert";
  stack->webhook_url_ = absl::StrCat(tls ? "https://" : "http://", stack->emulator_->address(),
                                     "/rest/", emulator.webhook, "/");

  nlohmann::json portal = {{"name", "main"}, {"webhook", stack->webhook_url_}};
  for (auto& [k, v] : gateway.portal.items()) {
    if (v.is_null()) {
      portal.erase(k);
    } else {
      portal[k] = v;
    }
  }
  if (gateway.customize) gateway.customize(&portal, stack->emulator_->address());
  nlohmann::json config = {{"listen", "127.0.0.1:0"}, {"portals", {portal}}, {"shutdown_grace_seconds", gateway.shutdown_grace_seconds}, {"predrain_delay_seconds", gateway.predrain_delay_seconds}};
  for (auto& [k, v] : gateway.settings.items()) config[k] = v;
  stack->config_path_ = testing::TempFile(config.dump(2));
  stack->token_ = gateway.token;
  stack->gateway_args_ = {kGatewayBin, "--config", stack->config_path_};
  for (auto& a : gateway.extra_args) stack->gateway_args_.push_back(a);
  // Offline events wait in the events log: a fresh one unless the test
  // names it (the default directory is the deployment's).
  if (std::find(gateway.extra_args.begin(), gateway.extra_args.end(), "--events-log") == gateway.extra_args.end()) {
    stack->gateway_args_.insert(stack->gateway_args_.end(), {"--events-log", testing::TempDir()});
  }
  stack->credentials_ = gateway.credentials ? gateway.credentials : grpc::InsecureChannelCredentials();
  if (absl::Status s = stack->StartGateway(); !s.ok()) return s;
  return stack;
}

namespace {

// Adds "authorization: Bearer TOKEN" to every call of a channel.
class BearerInterceptor : public grpc::experimental::Interceptor {
 public:
  explicit BearerInterceptor(const std::string& token) : value_("Bearer " + token) {}
  void Intercept(grpc::experimental::InterceptorBatchMethods* methods) override {
    if (methods->QueryInterceptionHookPoint(
            grpc::experimental::InterceptionHookPoints::PRE_SEND_INITIAL_METADATA)) {
      methods->GetSendInitialMetadata()->emplace("authorization", value_);
    }
    methods->Proceed();
  }

 private:
  const std::string value_;
};

class BearerInterceptorFactory : public grpc::experimental::ClientInterceptorFactoryInterface {
 public:
  explicit BearerInterceptorFactory(std::string token) : token_(std::move(token)) {}
  grpc::experimental::Interceptor* CreateClientInterceptor(
      grpc::experimental::ClientRpcInfo*) override {
    return new BearerInterceptor(token_);
  }

 private:
  const std::string token_;
};

}  // namespace

std::shared_ptr<grpc::Channel> Stack::ChannelAs(const std::string& token) {
  grpc::ChannelArguments args;
  if (token.empty()) {
    return grpc::CreateCustomChannel(gateway_->address(), credentials_, args);
  }
  std::vector<std::unique_ptr<grpc::experimental::ClientInterceptorFactoryInterface>> interceptors;
  interceptors.push_back(std::make_unique<BearerInterceptorFactory>(token));
  return grpc::experimental::CreateCustomChannelWithInterceptors(
      gateway_->address(), credentials_, args, std::move(interceptors));
}

void Stack::UseToken(const std::string& token) {
  token_ = token;
  channel_ = ChannelAs(token_);
  stub_ = bitrix24::gateway::v1::GatewayService::NewStub(channel_);
}

absl::Status Stack::StartGateway() {
  absl::StatusOr<std::unique_ptr<Process>> gw = Process::Start(gateway_args_);
  if (!gw.ok()) return gw.status();
  gateway_ = std::move(*gw);
  UseToken(token_);
  return absl::OkStatus();
}

absl::StatusOr<std::unique_ptr<Process>> Stack::StartReplica() {
  return Process::Start(gateway_args_);
}

absl::Status Stack::RestartGateway() {
  int code = gateway_->StopWith(SIGTERM);
  if (code != 0) return absl::InternalError(absl::StrCat("gateway exited with ", code));
  return StartGateway();
}

std::string MetricsAddress(Process& gateway) {
  std::string address;
  testing::WaitFor(
      [&] {
        for (const std::string& line : gateway.lines()) {
          if (absl::StartsWith(line, "metrics on ")) address = line.substr(11);
        }
        return !address.empty();
      },
      5);
  return address;
}

std::string ScrapeMetrics(Process& gateway) {
  std::string address = MetricsAddress(gateway);
  if (address.empty()) return "";
  httplib::Client client("http://" + address);
  httplib::Result page = client.Get("/metrics");
  return page && page->status == 200 ? page->body : "";
}

std::string MetricText(Process& gateway, const std::string& series) {
  const std::string name = series + " ";
  std::istringstream lines(ScrapeMetrics(gateway));
  std::string line;
  while (std::getline(lines, line)) {
    if (line.rfind(name, 0) == 0) return line.substr(name.size());
  }
  return "";
}

namespace {
httplib::Client Control(const std::string& address) {
  httplib::Client c(absl::StrCat("http://", address));
  c.set_read_timeout(30, 0);
  return c;
}
}  // namespace

nlohmann::json Stack::EmulatorStats() {
  // The control endpoints are plain HTTP unless the emulator runs TLS.
  auto res = Control(emulator_->address()).Get("/_emulator/stats");
  if (!res || res->status != 200) return nullptr;
  return nlohmann::json::parse(res->body, nullptr, false);
}

nlohmann::json Stack::EmulatorGet(const std::string& path) {
  auto res = Control(emulator_->address()).Get("/_emulator/" + path);
  if (!res || res->status != 200) return nullptr;
  return nlohmann::json::parse(res->body, nullptr, false);
}

nlohmann::json Stack::EmulatorCommands() {
  auto res = Control(emulator_->address()).Get("/_emulator/commands");
  if (!res || res->status != 200) return nullptr;
  nlohmann::json j = nlohmann::json::parse(res->body, nullptr, false);
  return j.is_object() && j.contains("commands") ? j["commands"] : nlohmann::json::array();
}

void Stack::ResetEmulator() { Control(emulator_->address()).Post("/_emulator/reset", "", "text/plain"); }

void Stack::SetFaults(const std::string& spec) {
  Control(emulator_->address()).Post("/_emulator/faults", spec, "text/plain");
}

void Stack::ExpireTokens() {
  Control(emulator_->address()).Post("/_emulator/expire-tokens", "", "text/plain");
}

nlohmann::json Stack::Rest(const std::string& method, const nlohmann::json& params) {
  std::string path = webhook_url_.substr(webhook_url_.find("/rest/")) + method;
  auto res = Control(emulator_->address()).Post(path, params.dump(), "application/json");
  if (!res) return nullptr;
  return nlohmann::json::parse(res->body, nullptr, false);
}

std::unique_ptr<Stack> Up(EmulatorSpec emulator, GatewaySpec gateway) {
  auto stack = Stack::Start(std::move(emulator), std::move(gateway));
  EXPECT_TRUE(stack.ok()) << stack.status();
  return stack.ok() ? std::move(*stack) : nullptr;
}

google::protobuf::Value V(const nlohmann::json& j) { return ToValue(j); }
google::protobuf::Struct S(const nlohmann::json& j) { return ToStruct(j); }
nlohmann::json J(const google::protobuf::Value& v) { return ToJson(v); }
nlohmann::json J(const google::protobuf::Struct& s) { return ToJson(s); }

std::unique_ptr<grpc::ClientContext> Ctx(double seconds) {
  auto ctx = std::make_unique<grpc::ClientContext>();
  ctx->set_deadline(std::chrono::system_clock::now() +
                    std::chrono::milliseconds(static_cast<int>(seconds * 1000)));
  return ctx;
}

}  // namespace b24gate::e2e
