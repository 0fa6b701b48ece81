// An idle gateway keeps reading its sockets. gRPC's callback threads (named
// "nexting_thread"; service/callback_queue_waker.h tells the story) nap
// 100 ms after each second without work, all at once when the gateway is
// idle, and a call that arrived during the nap waited for its end. The
// gateway keeps one of them waiting for work: over three idle seconds
// (nearly three of their cycles) no sample finds every one of them napping.
// The state is read from /proc (the system call each thread is blocked in),
// not timed.
#include <sys/syscall.h>
#include <sys/types.h>

#include <chrono>
#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <string>
#include <thread>
#include <vector>

#include <gtest/gtest.h>

#include "tests/e2e/rpc_helpers.h"

namespace b24gate::e2e::idle_polling_test {
namespace {

// /proc/PID/task/TID of each of the process's threads gRPC named so.
std::vector<std::string> ThreadsNamed(pid_t pid, const std::string& name) {
  std::vector<std::string> tasks;
  for (const auto& entry : std::filesystem::directory_iterator("/proc/" + std::to_string(pid) + "/task")) {
    std::ifstream comm(entry.path() / "comm");
    std::string line;
    if (std::getline(comm, line) && line == name) tasks.push_back(entry.path().string());
  }
  return tasks;
}

// 1 when the thread is blocked in a plain sleep (the nap), 0 when it is in
// any other system call or running, -1 when its state cannot be read.
// /proc/.../syscall starts with the number of the call, or says "running".
int Napping(const std::string& task) {
  std::ifstream file(task + "/syscall");
  std::string first;
  if (!(file >> first)) return -1;
  if (first == "running") return 0;
  const long call = std::atol(first.c_str());
  bool sleep = call == SYS_clock_nanosleep;
#ifdef SYS_nanosleep
  sleep = sleep || call == SYS_nanosleep;
#endif
  return sleep ? 1 : 0;
}

TEST(IdlePolling, SomeCallbackThreadAlwaysWaitsForWork) {
  auto stack = Up();
  ASSERT_TRUE(stack);
  ASSERT_TRUE(Call1(*stack, "crm.lead.get", {{"id", 1}}).status.ok());
  const std::vector<std::string> threads = ThreadsNamed(stack->gateway().pid(), "nexting_thread");
  if (threads.empty()) GTEST_SKIP() << "this gRPC runs callbacks without nexting threads";
  int samples = 0;
  int all_napping = 0;
  const auto end = std::chrono::steady_clock::now() + std::chrono::milliseconds(3300);
  while (std::chrono::steady_clock::now() < end) {
    size_t napping = 0;
    for (const std::string& task : threads) {
      const int state = Napping(task);
      ASSERT_GE(state, 0) << "cannot read " << task << "/syscall";
      napping += state;
    }
    samples++;
    if (napping == threads.size()) all_napping++;
    // A nap lasts 100 ms: a sample every 2 ms sees it many times over.
    std::this_thread::sleep_for(std::chrono::milliseconds(2));
  }
  EXPECT_EQ(all_napping, 0) << "samples with every one of the " << threads.size()
                            << " callback threads napping, of " << samples;
}

}  // namespace
}  // namespace b24gate::e2e::idle_polling_test
