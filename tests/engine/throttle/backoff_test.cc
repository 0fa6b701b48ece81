#include "engine/throttle/backoff.h"

#include <gtest/gtest.h>

namespace b24gate::backoff_test {
namespace {

TEST(Backoff, GrowsExponentiallyWithinHalfJitter) {
  BackoffPolicy p{absl::Milliseconds(200), absl::Seconds(10), 2};
  Backoff low(p, [] { return 0.0; });
  Backoff high(p, [] { return 0.999999; });
  EXPECT_EQ(low.Delay(1), absl::Milliseconds(100));
  EXPECT_NEAR(absl::ToDoubleMilliseconds(high.Delay(1)), 200, 0.01);
  EXPECT_EQ(low.Delay(2), absl::Milliseconds(200));
  EXPECT_EQ(low.Delay(3), absl::Milliseconds(400));
}

TEST(Backoff, IsCappedAtMax) {
  BackoffPolicy p{absl::Milliseconds(200), absl::Seconds(10), 2};
  Backoff high(p, [] { return 0.999999; });
  EXPECT_LE(high.Delay(30), absl::Seconds(10));
  EXPECT_GE(high.Delay(30), absl::Seconds(9));
  Backoff low(p, [] { return 0.0; });
  EXPECT_EQ(low.Delay(30), absl::Seconds(5));
}

}  // namespace
}  // namespace b24gate::backoff_test
