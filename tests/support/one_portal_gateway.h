// A Gateway with one portal, "main", whose HTTP requests wait in a
// FakeTransport for the test to answer, on the real clock: what the
// service tests put their gRPC services in front of.
//
// The portal never holds a test's requests back (a bucket of 1,000 that
// refills 1,000 a second, 1 ms to gather a batch), and its webhook is made
// up (nothing is ever sent). Header-only: the support library also serves
// the emulator's tests, which must not link the gateway.
//
// Thread-safety: as Gateway's and FakeTransport's.
#ifndef B24GATE_TESTS_SUPPORT_ONE_PORTAL_GATEWAY_H_
#define B24GATE_TESTS_SUPPORT_ONE_PORTAL_GATEWAY_H_

#include <memory>
#include <utility>
#include <vector>

#include "absl/time/time.h"
#include "engine/common/clock.h"
#include "engine/gateway/gateway.h"
#include "tests/engine/fake_transport.h"

namespace b24gate::testing {

struct OnePortalGateway {
  explicit OnePortalGateway(GatewayOptions options = {}) {
    PortalOptions portal;
    portal.name = "main";
    portal.webhook_url = "https://portal.example/rest/1/secret/";
    portal.bucket = BucketPolicy{1000, 1000, 0};
    portal.linger = absl::Milliseconds(1);
    auto fake = std::make_unique<FakeTransport>();
    transport = fake.get();
    gateway = std::make_unique<Gateway>(std::vector<PortalOptions>{portal}, std::move(fake),
                                        Clock::Real(), PortalObserver::Null(), std::move(options));
  }

  FakeTransport* transport;  // the gateway's
  std::unique_ptr<Gateway> gateway;
};

}  // namespace b24gate::testing

#endif  // B24GATE_TESTS_SUPPORT_ONE_PORTAL_GATEWAY_H_
