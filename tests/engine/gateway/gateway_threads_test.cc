// A gateway's threads do not grow with its portals: the dispatcher pool and
// the HTTP transport are shared, so 500 portals run on the threads of one.
#include <cstdio>
#include <memory>

#include <gtest/gtest.h>

#include "absl/strings/str_cat.h"
#include "engine/common/clock.h"
#include "engine/gateway/gateway.h"
#include "engine/http/curl_transport.h"
#include "tests/support/threads.h"

namespace b24gate::gateway_threads_test {
namespace {

using ::b24gate::testing::ThreadsOfThisProcess;

// `clock` must outlive the gateway.
std::unique_ptr<Gateway> GatewayWith(int portals, Clock* clock) {
  std::vector<PortalOptions> options;
  for (int i = 0; i < portals; ++i) {
    PortalOptions o;
    o.name = absl::StrCat("p", i);
    o.webhook_url = absl::StrCat("https://p", i, ".example/rest/1/secret/");
    options.push_back(std::move(o));
  }
  return std::make_unique<Gateway>(std::move(options), std::make_unique<CurlTransport>(),
                                   clock);
}

TEST(GatewayThreads, FiveHundredPortalsRunOnTheThreadsOfOne) {
  FakeClock clock;  // nothing here waits for time
  const int at_start = ThreadsOfThisProcess();
  int with_one = 0;
  int with_many = 0;
  {
    auto gateway = GatewayWith(1, &clock);
    with_one = ThreadsOfThisProcess() - at_start;
  }
  {
    auto gateway = GatewayWith(500, &clock);
    with_many = ThreadsOfThisProcess() - at_start;
  }
  std::printf("gateway threads: 1 portal %d, 500 portals %d\n", with_one, with_many);
  EXPECT_GT(with_one, 0);
  EXPECT_EQ(with_many, with_one);
}

}  // namespace
}  // namespace b24gate::gateway_threads_test
