// FallbackShare: the 1/N share while Redis is away and the grace after it
// returns, on a FakeClock.
#include "engine/budget/fallback_share.h"

#include <gtest/gtest.h>

#include "engine/common/clock.h"

namespace b24gate::fallback_share_test {
namespace {

// Burst 30, 3 per second, headroom 3: a share of 10, 1 per second, headroom 1.
const BucketPolicy kWhole{30, 3, 3};
const absl::Duration kGrace = absl::Seconds(5);

TEST(FallbackShareTest, ShareIsOneNthOfBurstRateAndHeadroom) {
  BucketPolicy share = ShareOf(kWhole, 3);
  EXPECT_DOUBLE_EQ(share.burst, 10);
  EXPECT_DOUBLE_EQ(share.drain_per_second, 1);
  EXPECT_DOUBLE_EQ(share.headroom, 1);
  EXPECT_DOUBLE_EQ(ShareOf(kWhole, 0).burst, 30);  // N < 1 counts as 1
}

TEST(FallbackShareTest, BindsNothingWhileSharing) {
  FakeClock clock;
  FallbackShare share(kWhole, 3, kGrace);
  EXPECT_FALSE(share.apart());
  EXPECT_FALSE(share.Binds(clock.Now()));
}

TEST(FallbackShareTest, ApartStartsFullAndSendsAtItsPace) {
  FakeClock clock;
  FallbackShare share(kWhole, 3, kGrace);
  EXPECT_TRUE(share.Apart(clock.Now()));
  EXPECT_FALSE(share.Apart(clock.Now()));  // said once
  EXPECT_TRUE(share.Binds(clock.Now()));
  // Full: level 10 of a usable 9; one more fits when it is down to 8, 2 s on.
  EXPECT_EQ(share.NextFree(clock.Now()), clock.Now() + absl::Seconds(2));
  EXPECT_DOUBLE_EQ(share.Level(clock.Now()), 30);  // the whole portal, as modelled
  clock.Advance(absl::Seconds(2));
  share.Spend(clock.Now());
  EXPECT_EQ(share.NextFree(clock.Now()), clock.Now() + absl::Seconds(1));  // 1 per second
  clock.Advance(absl::Seconds(1));
  share.Spend(clock.Now());
  EXPECT_EQ(share.unreported(), 2);
}

TEST(FallbackShareTest, RejoiningReportsWhatWasSentApartAndKeepsTheGrace) {
  FakeClock clock;
  FallbackShare share(kWhole, 3, kGrace);
  share.Apart(clock.Now());
  clock.Advance(absl::Seconds(2));
  share.Spend(clock.Now());
  clock.Advance(absl::Seconds(1));
  share.Spend(clock.Now());
  // The rejoining round carried 1 of the 2 (one more was sent meanwhile).
  EXPECT_TRUE(share.Rejoin(clock.Now(), 1));
  EXPECT_FALSE(share.Rejoin(clock.Now(), 0));  // said once
  EXPECT_FALSE(share.apart());
  EXPECT_EQ(share.unreported(), 1);
  share.Rejoin(clock.Now(), 1);
  EXPECT_EQ(share.unreported(), 0);
  // In the grace the share still binds, and sends count on it, but are not
  // unreported (they went through the shared counter).
  EXPECT_TRUE(share.Binds(clock.Now()));
  clock.Advance(absl::Seconds(1));
  share.Spend(clock.Now());
  EXPECT_EQ(share.unreported(), 0);
  clock.Advance(kGrace);
  EXPECT_FALSE(share.Binds(clock.Now()));
}

TEST(FallbackShareTest, FallingBackAgainStartsFullAgain) {
  FakeClock clock;
  FallbackShare share(kWhole, 3, kGrace);
  share.Apart(clock.Now());
  clock.Advance(absl::Seconds(60));  // the share has drained empty
  share.Rejoin(clock.Now(), 0);
  clock.Advance(absl::Seconds(1));
  EXPECT_TRUE(share.Apart(clock.Now()));
  EXPECT_EQ(share.NextFree(clock.Now()), clock.Now() + absl::Seconds(2));
}

TEST(FallbackShareTest, APolicyChangeRescalesTheShare) {
  FakeClock clock;
  FallbackShare share(kWhole, 3, kGrace);
  share.Apart(clock.Now());
  share.SetPolicy({60, 6, 3}, clock.Now());  // 2 per second each
  clock.Advance(absl::Seconds(1));
  // Level 10 - 2 = 8 of a usable 19: free.
  EXPECT_EQ(share.NextFree(clock.Now()), clock.Now());
}

}  // namespace
}  // namespace b24gate::fallback_share_test
