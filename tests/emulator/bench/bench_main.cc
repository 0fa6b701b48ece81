// b24-emulator-bench: many keep-alive clients hammering crm.lead.get /
// crm.lead.list; prints requests/s and latency percentiles. It asserts
// nothing: figures depend on the machine.
//
//   b24-emulator-bench [--emulator PATH | --target HOST:PORT] [--connections N]
//                      [--seconds S] [--method get|list|mixed] [--webhook UID/CODE]
//
// Without --emulator/--target it serves an in-process emulator with a
// synthetic table (protocol layer only). --emulator spawns the real binary
// with --cost-zero --no-limits.
#include <spawn.h>
#include <sys/wait.h>
#include <unistd.h>

#include <algorithm>
#include <atomic>
#include <chrono>
#include <csignal>
#include <cstdio>
#include <iostream>
#include <memory>
#include <string>
#include <thread>
#include <vector>

#include <httplib.h>

#include "tests/emulator/clock.h"
#include "tests/emulator/method_api.h"
#include "tests/emulator/portal.h"
#include "tests/emulator/server.h"

extern char** environ;

namespace b24emu {
namespace {

// Leads 1..100000 with a handful of fields, computed on the fly.
class SyntheticLeads : public MethodTable {
 public:
  bool HasMethod(const std::string& m) const override {
    return m == "crm.lead.get" || m == "crm.lead.list";
  }
  MethodResult Invoke(const MethodCall& call) override {
    MethodResult r;
    if (call.method == "crm.lead.get") {
      r.result = Lead(1 + std::hash<std::string>()(call.params.dump()) % 100000);
      r.work.rows_returned = 1;
      return r;
    }
    r.result = nlohmann::json::array();
    for (int i = 1; i <= 50; ++i) r.result.push_back(Lead(i));
    r.total = 100000;
    r.next = 50;
    r.work.rows_returned = 50;
    return r;
  }

 private:
  static nlohmann::json Lead(size_t id) {
    return {{"ID", std::to_string(id)},         {"TITLE", "Lead " + std::to_string(id)},
            {"NAME", "Иван"},                    {"STATUS_ID", "NEW"},
            {"OPPORTUNITY", "1000.00"},          {"DATE_CREATE", "2024-08-30T14:29:00+02:00"},
            {"PHONE", {{{"ID", "1"}, {"VALUE_TYPE", "WORK"}, {"VALUE", "+100"}, {"TYPE_ID", "PHONE"}}}}};
  }
};

struct Args {
  std::string emulator;
  std::string target;
  int connections = 32;
  double seconds = 5;
  std::string method = "mixed";
  std::string webhook = "1/bench";
};

// Starts the real binary; returns "host:port" from its first stdout line.
std::string Spawn(const Args& args, pid_t* pid) {
  int fds[2];
  if (pipe(fds) != 0) return "";
  posix_spawn_file_actions_t actions;
  posix_spawn_file_actions_init(&actions);
  posix_spawn_file_actions_adddup2(&actions, fds[1], STDOUT_FILENO);
  posix_spawn_file_actions_addclose(&actions, fds[0]);
  const std::string threads = std::to_string(std::max(128, args.connections * 2));
  std::vector<std::string> argv_s = {args.emulator, "--listen", "127.0.0.1:0", "--cost-zero",
                                     "--no-limits",  "--seed",   "crm.lead=10000", "--webhook",
                                     args.webhook,   "--threads", threads};
  std::vector<char*> argv;
  for (auto& s : argv_s) argv.push_back(s.data());
  argv.push_back(nullptr);
  if (posix_spawn(pid, args.emulator.c_str(), &actions, nullptr, argv.data(), environ) != 0) return "";
  close(fds[1]);
  std::string line;
  char c;
  while (read(fds[0], &c, 1) == 1 && c != '\n') line += c;
  // Keep the pipe open (the emulator prints more lines) but stop reading.
  const std::string prefix = "listening on ";
  return line.rfind(prefix, 0) == 0 ? line.substr(prefix.size()) : "";
}

int Run(const Args& args) {
  std::unique_ptr<SyntheticLeads> table;
  std::unique_ptr<Portal> portal;
  std::unique_ptr<EmulatorServer> server;
  pid_t child = 0;
  std::string target = args.target;
  if (!args.emulator.empty()) {
    target = Spawn(args, &child);
    if (target.empty()) {
      std::cerr << "cannot start " << args.emulator << "\n";
      return 1;
    }
  } else if (target.empty()) {
    PortalConfig config;
    const size_t slash = args.webhook.find('/');
    config.webhooks = {{std::stoll(args.webhook.substr(0, slash)), args.webhook.substr(slash + 1)}};
    config.cost = *CostProfile("zero");
    config.bucket.enforce = false;
    config.operating.enforce = false;
    table = std::make_unique<SyntheticLeads>();
    portal = std::make_unique<Portal>(config, table.get(), RealClock());
    ServerOptions options;
    options.threads = std::max(128, args.connections * 2);
    server = std::make_unique<EmulatorServer>(options, portal.get());
    absl::StatusOr<int> port = server->Start();
    if (!port.ok()) {
      std::cerr << port.status() << "\n";
      return 1;
    }
    target = "127.0.0.1:" + std::to_string(*port);
  }
  const std::string host = target.substr(0, target.rfind(':'));
  const int port = std::stoi(target.substr(target.rfind(':') + 1));
  const std::string base = "/rest/" + args.webhook + "/";

  std::atomic<bool> stop{false};
  std::atomic<int64_t> errors{0};      // transport failures
  std::atomic<int64_t> non_200{0};     // answered, but not 200 (e.g. ids in ID gaps)
  std::vector<std::vector<double>> latencies(args.connections);
  std::vector<std::thread> threads;
  const auto start = std::chrono::steady_clock::now();
  for (int t = 0; t < args.connections; ++t) {
    threads.emplace_back([&, t] {
      httplib::Client client(host, port);
      client.set_keep_alive(true);
      client.set_read_timeout(30, 0);
      uint64_t n = 0;
      while (!stop.load(std::memory_order_relaxed)) {
        const bool list = args.method == "list" || (args.method == "mixed" && n % 4 == 0);
        const std::string path = list ? base + "crm.lead.list?order[ID]=ASC&start=-1&filter[>ID]=" +
                                            std::to_string((t * 7919 + n * 50) % 9000)
                                      : base + "crm.lead.get?id=" + std::to_string(1 + (t * 7919 + n) % 9000);
        ++n;
        const auto t0 = std::chrono::steady_clock::now();
        auto res = client.Get(path);
        const auto t1 = std::chrono::steady_clock::now();
        if (!res) {
          errors.fetch_add(1);
          continue;
        }
        if (res->status != 200) non_200.fetch_add(1);
        latencies[t].push_back(std::chrono::duration<double, std::milli>(t1 - t0).count());
      }
    });
  }
  std::this_thread::sleep_for(std::chrono::duration<double>(args.seconds));
  stop = true;
  for (auto& th : threads) th.join();
  const double elapsed =
      std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count();

  std::vector<double> all;
  for (auto& v : latencies) all.insert(all.end(), v.begin(), v.end());
  std::sort(all.begin(), all.end());
  auto pct = [&](double p) {
    return all.empty() ? 0.0 : all[std::min(all.size() - 1, static_cast<size_t>(p * all.size()))];
  };
  std::printf("target %s, %d keep-alive connections, method %s, %.1f s\n", target.c_str(),
              args.connections, args.method.c_str(), elapsed);
  std::printf("requests %zu (non-200 answers %lld), transport errors %lld, %.0f requests/s\n",
              all.size(), static_cast<long long>(non_200.load()),
              static_cast<long long>(errors.load()), all.size() / elapsed);
  std::printf("latency ms: p50 %.3f  p90 %.3f  p99 %.3f  max %.3f\n", pct(0.5), pct(0.9), pct(0.99),
              all.empty() ? 0.0 : all.back());

  if (server) server->Stop();
  if (child > 0) {
    kill(child, SIGTERM);
    waitpid(child, nullptr, 0);
  }
  return 0;
}

}  // namespace
}  // namespace b24emu

int main(int argc, char** argv) {
  std::signal(SIGPIPE, SIG_IGN);
  b24emu::Args args;
  for (int i = 1; i + 1 < argc; i += 2) {
    const std::string flag = argv[i], value = argv[i + 1];
    if (flag == "--emulator") args.emulator = value;
    else if (flag == "--target") args.target = value;
    else if (flag == "--connections") args.connections = std::stoi(value);
    else if (flag == "--seconds") args.seconds = std::stod(value);
    else if (flag == "--method") args.method = value;
    else if (flag == "--webhook") args.webhook = value;
    else {
      std::cerr << "unknown flag " << flag << "\n";
      return 2;
    }
  }
  if ((argc - 1) % 2 != 0) {
    std::cerr << "usage: b24-emulator-bench [--emulator PATH | --target HOST:PORT] [--connections N] "
                 "[--seconds S] [--method get|list|mixed] [--webhook UID/CODE]\n";
    return 2;
  }
  return b24emu::Run(args);
}
