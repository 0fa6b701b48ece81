// A starting gateway opens a connection to each of its first few configured
// portals (a HEAD for a static file), so that the first call to one does
// not connect on its own path. Read from the gateway's metric of
// connections opened, by path, and the emulator's count of REST requests.
#include <string>

#include <gtest/gtest.h>

#include "tests/e2e/rpc_helpers.h"
#include "tests/support/wait_for.h"

namespace b24gate::e2e::preconnect_test {
namespace {

// b24gate_transport_connects_total{path=PATH} from the gateway's /metrics
// ("" when absent).
std::string Connects(Stack& stack, const std::string& path) {
  return MetricText(stack.gateway(), "b24gate_transport_connects_total{path=\"" + path + "\"}");
}

// Without the start-up connection no connection is opened before a call
// and the wait times out (checked with Server::PreconnectPortals not
// called).
TEST(Preconnect, AStartingGatewayConnectsToItsPortalBeforeAnyCall) {
  GatewaySpec gateway;
  gateway.extra_args = {"--metrics-listen", "127.0.0.1:0"};
  auto stack = Up(EmulatorSpec{}, std::move(gateway));
  ASSERT_TRUE(stack);
  ASSERT_TRUE(WaitFor([&] { return Connects(*stack, "ahead") == "1"; }))
      << "no connection opened ahead; ahead " << Connects(*stack, "ahead");
  // A connection, not a REST call: the portal's budget is untouched.
  EXPECT_EQ(Requests(*stack), 0);
  const std::string on_path = Connects(*stack, "request");
  EXPECT_TRUE(on_path.empty() || on_path == "0") << on_path;
}

}  // namespace
}  // namespace b24gate::e2e::preconnect_test
