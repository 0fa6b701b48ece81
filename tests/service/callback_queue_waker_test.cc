// The waker places completions on gRPC's callback queue while it runs, and
// its destructor returns with none left in flight (gRPC holds each call's
// buffers until its completion).
#include "service/callback_queue_waker.h"

#include <gtest/gtest.h>

#include "absl/time/time.h"
#include "tests/support/wait_for.h"

namespace b24gate::callback_queue_waker_test {
namespace {

TEST(CallbackQueueWaker, CompletesACallEveryPeriodUntilDestroyed) {
  auto waker = std::make_unique<CallbackQueueWaker>(absl::Milliseconds(5));
  EXPECT_TRUE(b24gate::testing::WaitFor([&] { return waker->completions() >= 3; }));
  waker.reset();  // returns only once the last call has completed
}

}  // namespace
}  // namespace b24gate::callback_queue_waker_test
