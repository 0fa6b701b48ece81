// The coalescing hold on both sides of its boundaries: none on an idle
// portal, one drain interval on a full bucket, growing with the square root
// of the level between; and where the budget turns scarce.
#include "engine/throttle/coalescing.h"

#include <gtest/gtest.h>

#include <cmath>

namespace b24gate::coalescing_test {
namespace {

const absl::Time kT0 = absl::FromUnixSeconds(1700000000);

LeakyBucket Standard() { return LeakyBucket(BucketPolicy{50, 2, 1}); }  // 49 usable

TEST(Coalescing, AnEmptyBucketHoldsNothing) {
  EXPECT_EQ(CoalesceUntil(Standard(), kT0), kT0);
}

TEST(Coalescing, AFullBucketHoldsOneDrainInterval) {
  LeakyBucket bucket = Standard();
  for (int i = 0; i < 49; ++i) bucket.Reserve(kT0);
  EXPECT_EQ(CoalesceUntil(bucket, kT0), kT0 + absl::Milliseconds(500));
}

TEST(Coalescing, OneRequestOutOfAnIdleBucketAlreadyHoldsASeventh) {
  LeakyBucket bucket = Standard();
  bucket.Reserve(kT0);
  absl::Duration hold = CoalesceUntil(bucket, kT0) - kT0;
  EXPECT_GE(hold, absl::Microseconds(71428));  // 500 ms / 7
  EXPECT_LE(hold, absl::Microseconds(71429));
}

TEST(Coalescing, TheHoldGrowsWithTheLevel) {
  LeakyBucket bucket = Standard();
  absl::Duration last = absl::ZeroDuration();
  for (int i = 1; i <= 49; ++i) {
    bucket.Reserve(kT0);
    absl::Duration hold = CoalesceUntil(bucket, kT0) - kT0;
    EXPECT_GT(hold, last) << "after " << i << " requests";
    EXPECT_EQ(hold, absl::Milliseconds(500) * std::sqrt(i / 49.0));
    last = hold;
  }
}

TEST(Coalescing, TheHoldShrinksAsTheBucketDrains) {
  LeakyBucket bucket = Standard();
  for (int i = 0; i < 49; ++i) bucket.Reserve(kT0);
  absl::Time later = kT0 + absl::Seconds(12);  // 24 of 49 drained: level 25
  EXPECT_EQ(CoalesceUntil(bucket, later),
            later + absl::Milliseconds(500) * std::sqrt(25.0 / 49));
}

TEST(Coalescing, AnOverfullBucketHoldsNoMoreThanOneInterval) {
  LeakyBucket bucket = Standard();
  bucket.MarkFull(kT0);  // a 503: the portal's counter is at its burst (50 > 49 usable)
  EXPECT_EQ(CoalesceUntil(bucket, kT0), kT0 + absl::Milliseconds(500));
}

TEST(Coalescing, AFasterDrainHoldsLess) {
  LeakyBucket bucket(BucketPolicy{250, 5, 0});
  for (int i = 0; i < 250; ++i) bucket.Reserve(kT0);
  EXPECT_EQ(CoalesceUntil(bucket, kT0), kT0 + absl::Milliseconds(200));
}

TEST(Coalescing, TheBudgetIsScarceFromHalfTheUsableBurst) {
  const BucketPolicy standard{50, 2, 1};  // 49 usable: scarce from 24.5
  EXPECT_FALSE(BudgetScarce(0, standard));
  EXPECT_FALSE(BudgetScarce(24, standard));
  EXPECT_TRUE(BudgetScarce(24.5, standard));
  EXPECT_TRUE(BudgetScarce(50, standard));
}

}  // namespace
}  // namespace b24gate::coalescing_test
