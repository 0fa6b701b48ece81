// b24-emulator: flags in, RunServer out. See README.md.
#include <atomic>
#include <csignal>
#include <cstdio>
#include <iostream>
#include <memory>
#include <string>
#include <thread>
#include <vector>

#include "tests/emulator/access_log.h"
#include "tests/emulator/app_notifier.h"
#include "tests/emulator/clock.h"
#include "tests/emulator/events.h"
#include "tests/emulator/method_api.h"
#include "tests/emulator/online_sender.h"
#include "tests/emulator/options.h"
#include "tests/emulator/portal.h"
#include "tests/emulator/portal_set.h"
#include "tests/emulator/server.h"

namespace b24emu {
namespace {

int RunEmulator(const EmulatorOptions& options) {
  std::string error;
  std::unique_ptr<MethodTable> methods = MakeSeededPortal(options.seed, &error);
  if (methods == nullptr) {
    std::cerr << "b24-emulator: --seed: " << error << "\n";
    return 2;
  }
  OnlineSender sender(absl::Seconds(options.event_delay_seconds), options.event_senders,
                      options.event_retries);
  PortalIdentity identity;
  identity.application_token = options.application_token;
  EventingMethods with_events(methods.get(), RealClock(), &sender, identity);
  Portal portal(MakePortalConfig(options), &with_events, RealClock());
  const AppNotifier notifier(options.app_url);
  PortalSet portals(
      &portal, [&options](const PortalPlan& plan) { return MakePlanPortalConfig(options, plan); },
      [&options] {
        std::string ignored;  // the seed was checked above
        return MakeSeededPortal(options.seed, &ignored);
      },
      &sender, options.app_url.empty() ? nullptr : &notifier, RealClock());
  std::unique_ptr<AccessLog> access_log;
  if (!options.access_log.empty()) {
    absl::StatusOr<std::unique_ptr<AccessLog>> opened = AccessLog::Open(options.access_log);
    if (!opened.ok()) {
      std::cerr << "b24-emulator: " << opened.status().message() << "\n";
      return 2;
    }
    access_log = std::move(*opened);
  }
  ServerOptions server_options = MakeServerOptions(options);
  server_options.access_log = access_log.get();
  EmulatorServer server(std::move(server_options), &portals);
  absl::StatusOr<int> port = server.Bind();
  if (!port.ok()) {
    std::cerr << "b24-emulator: " << port.status().message() << "\n";
    return 1;
  }
  std::vector<std::string> created;
  for (int i = 0; i < options.portals; ++i) {
    created.push_back((*portals.Create(NewPortal{}, /*post_install=*/false))["name"]);
  }
  const std::string address = options.listen_host + ":" + std::to_string(*port);
  std::cout << "listening on " << address << std::endl;
  if (options.oauth_enabled()) {
    std::cout << "oauth refresh_token " << portal.InitialRefreshToken() << std::endl;
  }
  for (const PortalConfig::Webhook& w : options.webhooks) {
    std::cout << "webhook " << (server.tls() ? "https://" : "http://") << address << "/rest/"
              << w.user_id << "/" << w.code << "/" << std::endl;
  }

  // SIGINT/SIGTERM stop the server from a dedicated thread (no work in a
  // signal handler); they are blocked in every other thread.
  sigset_t stop_signals;
  sigemptyset(&stop_signals);
  sigaddset(&stop_signals, SIGINT);
  sigaddset(&stop_signals, SIGTERM);
  std::thread signal_thread([&] {
    int sig = 0;
    sigwait(&stop_signals, &sig);
    if (sig != 0) server.Stop();
  });
  // The portals created at start post their installs once the server runs
  // (the application may call back); it may not listen yet itself.
  std::atomic<bool> stopping{false};
  std::thread installs([&] {
    if (options.app_url.empty()) return;
    for (const std::string& name : created) {
      if (stopping) return;
      portals.PostInstall(name, absl::Seconds(30));
    }
  });
  server.Run();
  server.Stop();
  stopping = true;
  installs.join();
  // Wake the signal thread if the server stopped for another reason.
  pthread_kill(signal_thread.native_handle(), SIGTERM);
  signal_thread.join();
  return 0;
}

}  // namespace
}  // namespace b24emu

int main(int argc, char** argv) {
  std::signal(SIGPIPE, SIG_IGN);  // cpp-httplib writes without MSG_NOSIGNAL
  sigset_t stop_signals;
  sigemptyset(&stop_signals);
  sigaddset(&stop_signals, SIGINT);
  sigaddset(&stop_signals, SIGTERM);
  pthread_sigmask(SIG_BLOCK, &stop_signals, nullptr);

  absl::StatusOr<b24emu::EmulatorOptions> options =
      b24emu::ParseOptions(std::vector<std::string>(argv + 1, argv + argc));
  if (!options.ok()) {
    std::cerr << "b24-emulator: " << options.status().message() << "\n\n" << b24emu::UsageText();
    return 2;
  }
  if (options->help) {
    std::cout << b24emu::UsageText();
    return 0;
  }
  return b24emu::RunEmulator(*options);
}
