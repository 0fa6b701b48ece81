// b24gate: parses the configuration, starts the Server (service/server.h)
// and runs it until SIGTERM or SIGINT, then drains it so that every accepted
// call gets its answer (README "Shutdown") and exits 0. Start-up input that
// is wrong is one line on stderr and exit 2. SIGHUP re-reads the TLS
// certificate files.
#include <malloc.h>
#include <pthread.h>
#include <signal.h>

#include <atomic>
#include <cstdio>
#include <cstdlib>
#include <iostream>
#include <map>
#include <memory>
#include <string>
#include <thread>
#include <vector>

#include "engine/common/clock.h"
#include "service/config.h"
#include "service/server.h"
#include "service/settings.h"

extern char** environ;

namespace b24gate {
namespace {

// A file transfer allocates a buffer per gRPC message (up to a few MiB:
// the parsed chunk, the socket reads) and frees it a moment later. glibc
// serves such sizes with mmap, or trims them off the heap's top once freed,
// so every message's pages were faulted in afresh -- on a virtual machine the
// largest single cost of an upload (about 40% of the gateway's CPU for a
// 256 MiB file). So sizes up to 8 MiB come from the heap, and up to 64 MiB
// of freed heap stays mapped for the next message; what the process holds
// at its peak is unchanged.
void KeepLargeBuffersMapped() {
  mallopt(M_MMAP_THRESHOLD, 8 << 20);
  mallopt(M_TRIM_THRESHOLD, 64 << 20);
}

std::map<std::string, std::string> Environment() {
  std::map<std::string, std::string> env;
  for (char** e = environ; *e; ++e) {
    std::string kv(*e);
    size_t eq = kv.find('=');
    if (eq != std::string::npos) env[kv.substr(0, eq)] = kv.substr(eq + 1);
  }
  return env;
}

// SIGTERM and SIGINT (and SIGHUP, for a TLS reload) are taken by sigwait,
// not by whichever thread gets them. Called before any thread starts, so
// every thread inherits the mask. Returns the shutdown signals.
sigset_t BlockShutdownSignals() {
  sigset_t signals;
  sigemptyset(&signals);
  sigaddset(&signals, SIGTERM);
  sigaddset(&signals, SIGINT);
  sigset_t blocked = signals;
  sigaddset(&blocked, SIGHUP);
  pthread_sigmask(SIG_BLOCK, &blocked, nullptr);
  return signals;
}

// Waits for SIGTERM or SIGINT and returns it; a SIGHUP meanwhile re-reads
// the TLS files and the wait goes on.
int WaitForSignal(const sigset_t& signals, Server& server) {
  sigset_t with_hup = signals;
  sigaddset(&with_hup, SIGHUP);
  while (true) {
    int signal_number = 0;
    sigwait(&with_hup, &signal_number);
    if (signal_number != SIGHUP) return signal_number;
    server.ReloadTls();
  }
}

int Run(const ServerConfig& config) {
  const sigset_t signals = BlockShutdownSignals();
  absl::StatusOr<std::unique_ptr<Server>> server = Server::Start(config, Clock::Real());
  if (!server.ok()) {
    std::cerr << "b24gate: " << server.status().message() << std::endl;
    return 2;
  }
  const int first = WaitForSignal(signals, **server);
  // A second signal ends the pre-drain delay; polled, so that the watcher
  // can be joined once the drain is over.
  std::atomic<bool> over{false};
  std::thread second([&] {
    const timespec poll = {0, 20 * 1000 * 1000};
    while (!over.load()) {
      if (sigtimedwait(&signals, nullptr, &poll) > 0) (*server)->CutShort();
    }
  });
  // Ctrl-C (SIGINT) is a person at a terminal, not an orchestrator: no delay.
  const bool clean = (*server)->Drain(first == SIGTERM ? config.predrain_delay : absl::ZeroDuration());
  over = true;
  second.join();
  if (!clean) {
    // Upstream requests are still on the wire; their callers are answered
    // and nothing is left to save (rotated tokens are persisted when they
    // arrive), so there is no point waiting for them.
    std::fflush(nullptr);
    std::_Exit(0);
  }
  return 0;
}

}  // namespace
}  // namespace b24gate

int main(int argc, char** argv) {
  b24gate::KeepLargeBuffersMapped();
  absl::StatusOr<b24gate::ServerConfig> config =
      b24gate::LoadConfig(std::vector<std::string>(argv + 1, argv + argc), b24gate::Environment());
  if (!config.ok()) {
    // One line, never a secret (LoadConfig's messages do not quote values
    // that may hold one).
    std::cerr << "b24gate: " << config.status().message() << std::endl;
    return 2;
  }
  if (config->help) {
    std::cout << b24gate::SettingsUsage();
    return 0;
  }
  return b24gate::Run(*config);
}
