#include "tests/emulator/leaky_bucket.h"

#include <gtest/gtest.h>

#include <algorithm>
#include <random>
#include <utility>
#include <vector>

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

// A request read late (a busy thread) is judged by the counter when it
// arrived: 0.4 s after a full burst it is still refused, however late it is
// read, and at 0.5 s it passes.
TEST(LeakyBucketTest, ARequestIsJudgedAtItsArrivalNotWhenItIsRead) {
  FakeClock clock;
  const absl::Time t0 = clock.Now();
  LeakyBucket bucket({50, 2, true}, &clock);
  for (int i = 0; i < 50; ++i) ASSERT_TRUE(bucket.TryAdmit(t0));
  clock.Advance(absl::Seconds(1));
  EXPECT_FALSE(bucket.TryAdmit(t0 + absl::Milliseconds(400)));
  EXPECT_TRUE(bucket.TryAdmit(t0 + absl::Milliseconds(500)));
  EXPECT_FALSE(bucket.TryAdmit(t0 + absl::Milliseconds(500)));
}

// Read out of arrival order: the one that arrived first is judged at the
// later arrival already judged, where the counter has drained more. In
// order both pass (0.5 at 0.5 s, then 1.0 at 1 s); judged at its own
// arrival with the later one already counted (1.5) it would be refused.
TEST(LeakyBucketTest, AnEarlierArrivalReadLaterIsJudgedAtTheLaterOne) {
  FakeClock clock;
  const absl::Time t0 = clock.Now();
  LeakyBucket bucket({2, 1, true}, &clock);
  ASSERT_TRUE(bucket.TryAdmit(t0));
  EXPECT_TRUE(bucket.TryAdmit(t0 + absl::Seconds(1)));
  EXPECT_TRUE(bucket.TryAdmit(t0 + absl::Milliseconds(500)));
  EXPECT_FALSE(bucket.TryAdmit(t0 + absl::Milliseconds(500)));
}

// Many threads reading requests up to 300 ms after they arrived, in any
// order: counted at the real arrivals (as the docs' portal would), the
// counter never passes burst - 1 by more than drains in 300 ms (0.6), and
// read in order it never passes it at all.
TEST(LeakyBucketTest, ReorderedReadsPassTheBurstByAtMostTheReorderingsDrain) {
  for (const absl::Duration reorder : {absl::ZeroDuration(), absl::Milliseconds(300)}) {
    FakeClock clock;
    const absl::Time t0 = clock.Now();
    LeakyBucket bucket({50, 2, true}, &clock);
    std::mt19937 random(11);
    std::exponential_distribution<double> gap(3);  // 3/s against 2/s: saturated
    std::uniform_real_distribution<double> late(0, absl::ToDoubleSeconds(reorder));
    std::vector<std::pair<absl::Time, absl::Time>> requests;  // (read, arrival)
    absl::Time arrival = t0;
    for (int i = 0; i < 3000; ++i) {
      arrival += absl::Seconds(gap(random));
      requests.push_back({arrival + absl::Seconds(late(random)), arrival});
    }
    std::sort(requests.begin(), requests.end());
    std::vector<absl::Time> admitted;
    for (const auto& [read, at] : requests) {
      if (bucket.TryAdmit(at)) admitted.push_back(at);
    }
    std::sort(admitted.begin(), admitted.end());
    double counter = 0;
    double worst = 0;
    for (size_t i = 0; i < admitted.size(); ++i) {
      if (i > 0) counter = std::max(0.0, counter - absl::ToDoubleSeconds(admitted[i] - admitted[i - 1]) * 2);
      worst = std::max(worst, counter);
      counter += 1;
    }
    EXPECT_LE(worst, 49 + absl::ToDoubleSeconds(reorder) * 2 + 1e-9) << reorder;
    EXPECT_GT(admitted.size(), 1000u) << "the bucket still admits at its rate";
  }
}

}  // namespace
}  // namespace b24emu::leaky_bucket_test
