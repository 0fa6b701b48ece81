// A portal's web server closes a keep-alive connection once it has been idle
// past its limit (the emulator after --keep-alive-timeout seconds; a real
// portal's nginx the same, over HTTPS, where reopening is a TCP and a TLS
// handshake). The gateway, watching the idle connections of the portals it
// was asked for recently, opens one in place of each the server closed, so
// the call after a quiet spell finds one open instead of connecting on its
// own path. Read from the gateway's metric of connections opened, by path.
#include <string>

#include <gtest/gtest.h>

#include "tests/e2e/rpc_helpers.h"
#include "tests/support/wait_for.h"

namespace b24gate::e2e::keep_warm_test {
namespace {

// b24gate_transport_connects_total{path=PATH} from the gateway's /metrics
// ("" when absent).
std::string Connects(Stack& stack, const std::string& path) {
  return MetricText(stack.gateway(), "b24gate_transport_connects_total{path=\"" + path + "\"}");
}

// Without the keeping warm no connection is opened ahead and the wait
// times out (checked with keep_warm_for zero).
TEST(KeepWarm, ACallAfterTheKeepAliveLimitConnectsNotOnItsPath) {
  EmulatorSpec emulator;
  emulator.extra_args = {"--keep-alive-timeout", "2"};  // the quiet spell the test is about
  GatewaySpec gateway;
  gateway.extra_args = {"--metrics-listen", "127.0.0.1:0"};
  auto stack = Up(std::move(emulator), std::move(gateway));
  ASSERT_TRUE(stack);
  ASSERT_TRUE(Call1(*stack, "crm.lead.get", {{"id", 1}}).status.ok());
  const std::string on_path = Connects(*stack, "request");
  const std::string ahead = Connects(*stack, "ahead");
  // The gateway connected at start-up (ahead), or the call on its path.
  ASSERT_NE(on_path + ahead, "");
  // The emulator closes the idle connection; the gateway opens one ahead.
  ASSERT_TRUE(WaitFor([&] { return Connects(*stack, "ahead") != ahead; }))
      << "no connection opened ahead; ahead " << ahead;
  ASSERT_TRUE(Call1(*stack, "crm.lead.get", {{"id", 1}}).status.ok());
  EXPECT_EQ(Connects(*stack, "request"), on_path);
}

// b24gate_transport_replaced_total{when=WHEN} ("" when absent).
std::string Replaced(Stack& stack, const std::string& when) {
  return MetricText(stack.gateway(), "b24gate_transport_replaced_total{when=\"" + when + "\"}");
}

// The emulator announces its idle limit (cpp-httplib's `Keep-Alive:
// timeout=3, max=...`), so the gateway replaces its connections 2 s before
// it: 1 s into each quiet spell, and never after the emulator closed one,
// since none stays idle long enough for that. The call after the spell
// connects on no path of its own. Without the learning the replacement
// comes after the emulator's close (checked with the header not read:
// before_limit stays 0 and the wait times out).
TEST(KeepWarm, ConnectionsAreReplacedBeforeTheLimitTheEmulatorAnnounces) {
  EmulatorSpec emulator;
  emulator.extra_args = {"--keep-alive-timeout", "3"};
  GatewaySpec gateway;
  gateway.extra_args = {"--metrics-listen", "127.0.0.1:0"};
  auto stack = Up(std::move(emulator), std::move(gateway));
  ASSERT_TRUE(stack);
  ASSERT_TRUE(Call1(*stack, "crm.lead.get", {{"id", 1}}).status.ok());
  const std::string on_path = Connects(*stack, "request");
  ASSERT_TRUE(WaitFor([&] {
    const std::string before = Replaced(*stack, "before_limit");
    return before != "" && before != "0";
  })) << "nothing replaced before the limit";
  ASSERT_TRUE(Call1(*stack, "crm.lead.get", {{"id", 1}}).status.ok());
  EXPECT_EQ(Connects(*stack, "request"), on_path);
  EXPECT_EQ(Replaced(*stack, "after_close"), "0");
}

}  // namespace
}  // namespace b24gate::e2e::keep_warm_test
