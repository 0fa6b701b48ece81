#include "engine/throttle/leaky_bucket.h"

#include <gtest/gtest.h>

namespace b24gate::leaky_bucket_test {
namespace {

const absl::Time kT0 = absl::FromUnixSeconds(1700000000);

BucketPolicy Standard(double headroom = 0) { return BucketPolicy{50, 2, headroom}; }

TEST(LeakyBucket, FiftyRequestsPassAtOnceFromEmpty) {
  LeakyBucket bucket(Standard());
  for (int i = 0; i < 50; ++i) EXPECT_EQ(bucket.Reserve(kT0), kT0) << "request " << i + 1;
}

TEST(LeakyBucket, The51stWaitsExactlyOneDrainInterval) {
  LeakyBucket bucket(Standard());
  for (int i = 0; i < 50; ++i) bucket.Reserve(kT0);
  EXPECT_EQ(bucket.NextFree(kT0), kT0 + absl::Milliseconds(500));
  EXPECT_EQ(bucket.Reserve(kT0), kT0 + absl::Milliseconds(500));
  // And the 52nd one interval later still.
  EXPECT_EQ(bucket.Reserve(kT0), kT0 + absl::Seconds(1));
}

TEST(LeakyBucket, JustBeforeTheIntervalIsStillTooEarly) {
  LeakyBucket bucket(Standard());
  for (int i = 0; i < 50; ++i) bucket.Reserve(kT0);
  absl::Time almost = kT0 + absl::Milliseconds(499);
  EXPECT_GT(bucket.NextFree(almost), almost);
  absl::Time exactly = kT0 + absl::Milliseconds(500);
  EXPECT_EQ(bucket.NextFree(exactly), exactly);
}

TEST(LeakyBucket, ConcurrentReservationsNeverOvershootTheDrainRate) {
  // 1000 callers asking at the same instant get distinct slots: after the
  // burst, exactly 2 per second.
  LeakyBucket bucket(Standard());
  std::vector<absl::Time> slots;
  for (int i = 0; i < 1000; ++i) slots.push_back(bucket.Reserve(kT0));
  for (int i = 50; i < 1000; ++i) {
    EXPECT_EQ(slots[i], kT0 + absl::Milliseconds(500) * (i - 49)) << i;
  }
}

TEST(LeakyBucket, ModelMatchesPortalCounterAtEverySlot) {
  // Replays the portal's rule (counter drains at Y/s; a request is refused
  // when the counter is above X-1) against the model's slots.
  LeakyBucket bucket(Standard());
  double counter = 0;
  absl::Time last = kT0;
  for (int i = 0; i < 300; ++i) {
    absl::Time at = bucket.Reserve(kT0);
    counter = std::max(0.0, counter - absl::ToDoubleSeconds(at - last) * 2);
    last = at;
    ASSERT_LE(counter, 49.0 + 1e-9) << "request " << i + 1 << " would be refused";
    counter += 1;
  }
}

TEST(LeakyBucket, HeadroomKeepsPartOfTheBurstUnused) {
  LeakyBucket bucket(Standard(/*headroom=*/5));
  for (int i = 0; i < 45; ++i) EXPECT_EQ(bucket.Reserve(kT0), kT0);
  EXPECT_GT(bucket.Reserve(kT0), kT0);
}

TEST(LeakyBucket, DrainsWhileIdle) {
  LeakyBucket bucket(Standard());
  for (int i = 0; i < 50; ++i) bucket.Reserve(kT0);
  EXPECT_DOUBLE_EQ(bucket.Level(kT0), 50);
  EXPECT_DOUBLE_EQ(bucket.Level(kT0 + absl::Seconds(10)), 30);
  EXPECT_DOUBLE_EQ(bucket.Level(kT0 + absl::Seconds(25)), 0);
  // Full burst again after 25 s.
  for (int i = 0; i < 50; ++i) EXPECT_EQ(bucket.Reserve(kT0 + absl::Seconds(25)), kT0 + absl::Seconds(25));
}

TEST(LeakyBucket, MarkFullResyncsAfterAForeign503) {
  LeakyBucket bucket(Standard());
  bucket.Reserve(kT0);  // we think the bucket is nearly empty
  bucket.MarkFull(kT0);
  EXPECT_DOUBLE_EQ(bucket.Level(kT0), 50);
  EXPECT_EQ(bucket.NextFree(kT0), kT0 + absl::Milliseconds(500));
}

TEST(LeakyBucket, SlowingDownKeepsAFullBucketFull) {
  // The autothrottle cuts the rate while the portal's counter is full: the
  // model must not read the same state as a half-empty bucket.
  LeakyBucket bucket(Standard());
  for (int i = 0; i < 50; ++i) bucket.Reserve(kT0);
  bucket.SetPolicy(BucketPolicy{50, 1, 0}, kT0);
  EXPECT_DOUBLE_EQ(bucket.Level(kT0), 50);
  // The next request waits one interval of the new rate, and not less.
  absl::Time almost = kT0 + absl::Milliseconds(999);
  EXPECT_GT(bucket.NextFree(almost), almost);
  EXPECT_EQ(bucket.Reserve(kT0), kT0 + absl::Seconds(1));
}

TEST(LeakyBucket, SpeedingUpKeepsTheCounter) {
  LeakyBucket bucket(BucketPolicy{50, 1, 0});
  for (int i = 0; i < 50; ++i) bucket.Reserve(kT0);
  absl::Time t = kT0 + absl::Seconds(10);  // 40 left at 1/s
  bucket.SetPolicy(Standard(), t);
  EXPECT_DOUBLE_EQ(bucket.Level(t), 40);
  for (int i = 0; i < 10; ++i) EXPECT_EQ(bucket.Reserve(t), t) << i;
  EXPECT_EQ(bucket.Reserve(t), t + absl::Milliseconds(500));
}

TEST(LeakyBucket, PolicyChangeOnAnEmptyBucketGivesTheNewBurst) {
  LeakyBucket bucket(Standard());
  bucket.SetPolicy(BucketPolicy{250, 5, 0}, kT0);
  for (int i = 0; i < 250; ++i) EXPECT_EQ(bucket.Reserve(kT0), kT0) << i;
  EXPECT_EQ(bucket.Reserve(kT0), kT0 + absl::Milliseconds(200));
}

TEST(LeakyBucket, EnterprisePreset) {
  LeakyBucket bucket(BucketPolicy{250, 5, 0});
  for (int i = 0; i < 250; ++i) EXPECT_EQ(bucket.Reserve(kT0), kT0);
  EXPECT_EQ(bucket.Reserve(kT0), kT0 + absl::Milliseconds(200));
}

}  // namespace
}  // namespace b24gate::leaky_bucket_test
