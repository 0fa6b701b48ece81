#include "tests/emulator/leaky_bucket.h"

#include <gtest/gtest.h>

#include "tests/emulator/test/fake_clock.h"

namespace b24emu::leaky_bucket_test {
namespace {

TEST(LeakyBucketTest, BurstOfFiftyPassesAndFiftyFirstIsRefused) {
  FakeClock clock;
  LeakyBucket bucket({50, 2, true}, &clock);
  for (int i = 0; i < 50; ++i) EXPECT_TRUE(bucket.TryAdmit()) << "request " << i + 1;
  EXPECT_FALSE(bucket.TryAdmit());
  EXPECT_DOUBLE_EQ(bucket.Level(), 50);
}

TEST(LeakyBucketTest, OneMorePassesAfterHalfASecondNotBefore) {
  FakeClock clock;
  LeakyBucket bucket({50, 2, true}, &clock);
  for (int i = 0; i < 50; ++i) ASSERT_TRUE(bucket.TryAdmit());
  clock.Advance(absl::Milliseconds(499));
  EXPECT_FALSE(bucket.TryAdmit());
  clock.Advance(absl::Milliseconds(1));
  EXPECT_TRUE(bucket.TryAdmit());
  EXPECT_FALSE(bucket.TryAdmit());
}

TEST(LeakyBucketTest, RefusedRequestsDoNotCount) {
  FakeClock clock;
  LeakyBucket bucket({50, 2, true}, &clock);
  for (int i = 0; i < 50; ++i) ASSERT_TRUE(bucket.TryAdmit());
  for (int i = 0; i < 100; ++i) ASSERT_FALSE(bucket.TryAdmit());
  clock.Advance(absl::Milliseconds(500));
  EXPECT_TRUE(bucket.TryAdmit());
  EXPECT_DOUBLE_EQ(bucket.PeakLevel(), 50);
}

TEST(LeakyBucketTest, DrainsContinuously) {
  FakeClock clock;
  LeakyBucket bucket({50, 2, true}, &clock);
  for (int i = 0; i < 10; ++i) ASSERT_TRUE(bucket.TryAdmit());
  clock.Advance(absl::Seconds(2));
  EXPECT_DOUBLE_EQ(bucket.Level(), 6);
  clock.Advance(absl::Seconds(10));
  EXPECT_DOUBLE_EQ(bucket.Level(), 0);
}

TEST(LeakyBucketTest, EnterprisePlan) {
  FakeClock clock;
  LeakyBucket bucket({250, 5, true}, &clock);
  for (int i = 0; i < 250; ++i) ASSERT_TRUE(bucket.TryAdmit());
  EXPECT_FALSE(bucket.TryAdmit());
  clock.Advance(absl::Milliseconds(199));
  EXPECT_FALSE(bucket.TryAdmit());
  clock.Advance(absl::Milliseconds(1));
  EXPECT_TRUE(bucket.TryAdmit());
}

TEST(LeakyBucketTest, ScaledRateKeepsExactBoundary) {
  FakeClock clock;
  LeakyBucket bucket({50, 2 / 0.01, true}, &clock);  // --time-scale 0.01
  for (int i = 0; i < 50; ++i) ASSERT_TRUE(bucket.TryAdmit());
  EXPECT_FALSE(bucket.TryAdmit());
  clock.Advance(absl::Microseconds(4999));
  EXPECT_FALSE(bucket.TryAdmit());
  clock.Advance(absl::Microseconds(1));
  EXPECT_TRUE(bucket.TryAdmit());
}

TEST(LeakyBucketTest, NotEnforcedStillTracksLevel) {
  FakeClock clock;
  LeakyBucket bucket({50, 2, false}, &clock);
  for (int i = 0; i < 80; ++i) ASSERT_TRUE(bucket.TryAdmit());
  EXPECT_DOUBLE_EQ(bucket.PeakLevel(), 80);
  bucket.Reset();
  EXPECT_DOUBLE_EQ(bucket.Level(), 0);
  EXPECT_DOUBLE_EQ(bucket.PeakLevel(), 0);
}

}  // namespace
}  // namespace b24emu::leaky_bucket_test
