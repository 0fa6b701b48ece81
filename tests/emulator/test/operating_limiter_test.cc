#include "tests/emulator/operating_limiter.h"

#include <gtest/gtest.h>

#include "tests/emulator/test/fake_clock.h"

namespace b24emu::operating_limiter_test {
namespace {

class OperatingLimiterTest : public ::testing::Test {
 protected:
  bool Allowed(const std::string& method = "crm.lead.list") {
    OperatingState state;
    return limiter_.Check("hook", method, &state);
  }
  OperatingState Charge(double seconds, const std::string& method = "crm.lead.list") {
    return limiter_.Charge("hook", method, absl::Seconds(seconds), clock_.Now());
  }

  FakeClock clock_;
  OperatingLimiter limiter_{OperatingOptions{}, &clock_};
};

TEST_F(OperatingLimiterTest, CallCrossingTheLimitRunsAndTheNextIsRefused) {
  const absl::Time t0 = clock_.Now();
  ASSERT_TRUE(Allowed());
  Charge(479);  // basket at t0
  clock_.Advance(absl::Seconds(30));
  EXPECT_TRUE(Allowed());  // 479 < 480: the crossing call still runs
  const OperatingState state = Charge(2);
  EXPECT_EQ(state.used, absl::Seconds(481));
  EXPECT_EQ(state.reset_at, t0 + absl::Seconds(600));
  EXPECT_FALSE(Allowed());
}

TEST_F(OperatingLimiterTest, ReachingTheLimitExactlyBlocks) {
  Charge(480);
  EXPECT_FALSE(Allowed());
}

TEST_F(OperatingLimiterTest, BlockedUntilOldestBasketExpires) {
  const absl::Time t0 = clock_.Now();
  Charge(300);  // basket 1 at t0
  clock_.Advance(absl::Seconds(120));
  Charge(200);  // basket 2 at t0+120
  EXPECT_FALSE(Allowed());
  clock_.Advance(t0 + absl::Seconds(600) - clock_.Now() - absl::Milliseconds(1));
  OperatingState state;
  EXPECT_FALSE(limiter_.Check("hook", "crm.lead.list", &state));
  EXPECT_EQ(state.reset_at, t0 + absl::Seconds(600));
  clock_.Advance(absl::Milliseconds(1));
  EXPECT_TRUE(limiter_.Check("hook", "crm.lead.list", &state));
  EXPECT_EQ(state.used, absl::Seconds(200));
  EXPECT_EQ(state.reset_at, t0 + absl::Seconds(720));
}

TEST_F(OperatingLimiterTest, CallsWithinAMinuteShareOneBasket) {
  const absl::Time t0 = clock_.Now();
  Charge(10);
  clock_.Advance(absl::Seconds(59));
  Charge(10);  // same basket (opened at t0)
  clock_.Advance(absl::Seconds(1));
  Charge(10);  // new basket at t0+60
  clock_.Advance(t0 + absl::Seconds(600) - clock_.Now());
  const OperatingState state = limiter_.Peek("hook", "crm.lead.list");
  EXPECT_EQ(state.used, absl::Seconds(10));  // the first basket (20 s) left together
  EXPECT_EQ(state.reset_at, t0 + absl::Seconds(660));
}

TEST_F(OperatingLimiterTest, OtherMethodsAndCredentialsAreIndependent) {
  Charge(500);
  EXPECT_FALSE(Allowed());
  EXPECT_TRUE(Allowed("crm.deal.list"));
  OperatingState state;
  EXPECT_TRUE(limiter_.Check("other-hook", "crm.lead.list", &state));
}

TEST_F(OperatingLimiterTest, NotEnforcedReportsOnly) {
  OperatingOptions options;
  options.enforce = false;
  OperatingLimiter limiter(options, &clock_);
  limiter.Charge("hook", "m", absl::Seconds(1000), clock_.Now());
  OperatingState state;
  EXPECT_TRUE(limiter.Check("hook", "m", &state));
  EXPECT_EQ(state.used, absl::Seconds(1000));
}

TEST_F(OperatingLimiterTest, TotalsByMethodSumCredentials) {
  limiter_.Charge("a", "m", absl::Seconds(1), clock_.Now());
  limiter_.Charge("b", "m", absl::Seconds(2), clock_.Now());
  EXPECT_DOUBLE_EQ(limiter_.TotalsByMethod()["m"], 3);
  limiter_.Reset();
  EXPECT_TRUE(limiter_.TotalsByMethod().empty());
}

class BlockWindowTest : public ::testing::Test {
 protected:
  bool Allowed(const std::string& method = "crm.lead.list") {
    OperatingState state;
    return limiter_.Check("hook", method, &state);
  }
  OperatingState Charge(double seconds, const std::string& method = "crm.lead.list") {
    return limiter_.Charge("hook", method, absl::Seconds(seconds), clock_.Now());
  }
  static OperatingOptions Harsh() {
    OperatingOptions o;
    o.block_whole_window = true;
    return o;
  }

  FakeClock clock_;
  OperatingLimiter limiter_{Harsh(), &clock_};
};

TEST_F(BlockWindowTest, BelowTheLimitNothingIsBlocked) {
  Charge(479);
  EXPECT_TRUE(Allowed());
  clock_.Advance(absl::Seconds(599));
  EXPECT_TRUE(Allowed());
}

TEST_F(BlockWindowTest, CrossingBlocksForAWholeWindowThoughTheBasketsLeave) {
  Charge(300);  // basket at t0, leaves at t0 + 600
  clock_.Advance(absl::Seconds(300));
  const absl::Time crossed = clock_.Now();
  Charge(200);  // 500 >= 480: blocked until crossed + 600
  EXPECT_FALSE(Allowed());
  clock_.Advance(absl::Seconds(301));  // the first basket left: rolling would allow
  OperatingState state;
  EXPECT_FALSE(limiter_.Check("hook", "crm.lead.list", &state));
  EXPECT_EQ(state.used, absl::Seconds(200)) << "answers still report the rolling window";
  clock_.Advance(crossed + absl::Seconds(600) - absl::Microseconds(1) - clock_.Now());
  EXPECT_FALSE(Allowed());
  clock_.Advance(absl::Microseconds(1));
  EXPECT_TRUE(Allowed()) << "the block lasts one window, not longer";
}

TEST_F(BlockWindowTest, OtherMethodsAreNotBlocked) {
  Charge(480);
  EXPECT_FALSE(Allowed());
  EXPECT_TRUE(Allowed("crm.deal.list"));
}

TEST_F(BlockWindowTest, ResetClearsTheBlock) {
  Charge(480);
  limiter_.Reset();
  EXPECT_TRUE(Allowed());
}

}  // namespace
}  // namespace b24emu::operating_limiter_test
