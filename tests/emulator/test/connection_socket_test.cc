// The kernel's record of when a connection's bytes arrived (TCP_INFO), on a
// real loopback connection.
#include "tests/emulator/connection_socket.h"

#include <gtest/gtest.h>

#include <netinet/in.h>
#include <netinet/tcp.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>

#include "absl/time/clock.h"
#include "absl/time/time.h"

namespace b24emu::connection_socket_test {
namespace {

// A connected loopback pair: the accepted end and the client end.
struct Pair {
  int server = -1;
  int client = -1;
  ~Pair() {
    if (server >= 0) close(server);
    if (client >= 0) close(client);
  }
};

bool Connect(Pair* pair) {
  const int listener = socket(AF_INET, SOCK_STREAM, 0);
  sockaddr_in addr{};
  addr.sin_family = AF_INET;
  addr.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  socklen_t len = sizeof(addr);
  bool ok = bind(listener, reinterpret_cast<sockaddr*>(&addr), sizeof(addr)) == 0 &&
            listen(listener, 1) == 0 &&
            getsockname(listener, reinterpret_cast<sockaddr*>(&addr), &len) == 0;
  pair->client = socket(AF_INET, SOCK_STREAM, 0);
  ok = ok && connect(pair->client, reinterpret_cast<sockaddr*>(&addr), sizeof(addr)) == 0;
  if (ok) pair->server = accept(listener, nullptr, nullptr);
  close(listener);
  return ok && pair->server >= 0;
}

// Bytes that waited 100 ms unread are at least 100 ms old, less the
// kernel's tick rounding (10 ms at most each way), and never older than
// the time since they were sent.
TEST(ConnectionSocket, TheAgeOfBytesLeftUnreadIsHowLongTheyWaited) {
  Pair pair;
  ASSERT_TRUE(Connect(&pair));
  const absl::Time sent = absl::Now();
  ASSERT_EQ(write(pair.client, "GET /", 5), 5);
  // The wait is what is measured, not a synchronisation.
  absl::SleepFor(absl::Milliseconds(100));
  const absl::Duration age = LastDataAge(pair.server);
  EXPECT_GE(age, absl::Milliseconds(80));
  EXPECT_LE(age, absl::Now() - sent);
}

// The kernel's own record, in milliseconds.
uint32_t LastDataRecvMs(int fd) {
  tcp_info info{};
  socklen_t len = sizeof(info);
  EXPECT_EQ(getsockopt(fd, IPPROTO_TCP, TCP_INFO, &info, &len), 0);
  return info.tcpi_last_data_recv;
}

// Only the kernel's own jiffy is taken off its record, not the coarsest
// kernel's 10 ms: on a HZ=250 kernel that held every reply up to 6 ms longer
// than its modelled processing time.
TEST(ConnectionSocket, OnlyTheKernelsTickIsTakenOffItsRecord) {
  timespec resolution{};
  ASSERT_EQ(clock_getres(CLOCK_MONOTONIC_COARSE, &resolution), 0);
  const absl::Duration tick = absl::DurationFromTimespec(resolution);
  if (tick % absl::Milliseconds(1) == absl::ZeroDuration()) EXPECT_EQ(AgeRounding(), tick);
  EXPECT_GE(AgeRounding(), tick);
  EXPECT_LT(AgeRounding(), tick + absl::Milliseconds(2));

  Pair pair;
  ASSERT_TRUE(Connect(&pair));
  ASSERT_EQ(write(pair.client, "GET /", 5), 5);
  // The wait is what is measured (an age past the rounding), not a
  // synchronisation.
  absl::SleepFor(absl::Milliseconds(50));
  // The record read on both sides of LastDataAge, until the kernel's tick
  // did not move between them.
  for (int attempt = 0; attempt < 100; ++attempt) {
    const uint32_t before = LastDataRecvMs(pair.server);
    const absl::Duration age = LastDataAge(pair.server);
    if (LastDataRecvMs(pair.server) != before) continue;
    EXPECT_EQ(age, absl::Milliseconds(before) - AgeRounding());
    return;
  }
  ADD_FAILURE() << "the kernel's record moved on every read";
}

TEST(ConnectionSocket, NoSocketHasNoAge) {
  EXPECT_EQ(LastDataAge(-1), absl::ZeroDuration());
}

}  // namespace
}  // namespace b24emu::connection_socket_test
