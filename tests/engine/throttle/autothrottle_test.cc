#include "engine/throttle/autothrottle.h"

#include <gtest/gtest.h>

namespace b24gate::autothrottle_test {
namespace {

const absl::Time kT0 = absl::FromUnixSeconds(1700000000);

AutothrottlePolicy Policy() { return AutothrottlePolicy{true, absl::Seconds(5), 0.25, 10}; }

TEST(Autothrottle, AnErrorHalvesConcurrencyAndCutsTheRate) {
  Autothrottle t(Policy(), 8);
  t.OnError(kT0);
  EXPECT_EQ(t.concurrency(), 4);
  EXPECT_DOUBLE_EQ(t.rate_factor(), 0.7);
  EXPECT_EQ(t.slowdowns(), 1);
}

TEST(Autothrottle, ErrorsWithinTheCooldownCountOnce) {
  Autothrottle t(Policy(), 8);
  t.OnError(kT0);
  t.OnError(kT0 + absl::Seconds(4.999));
  EXPECT_EQ(t.concurrency(), 4);
  t.OnError(kT0 + absl::Seconds(5));
  EXPECT_EQ(t.concurrency(), 2);
}

TEST(Autothrottle, NeverBelowTheFloors) {
  Autothrottle t(Policy(), 8);
  for (int i = 0; i < 20; ++i) t.OnError(kT0 + absl::Seconds(10 * i));
  EXPECT_EQ(t.concurrency(), 1);
  EXPECT_DOUBLE_EQ(t.rate_factor(), 0.25);
}

TEST(Autothrottle, RecoversOnlyAfterAQuietCooldown) {
  Autothrottle t(Policy(), 8);
  t.OnError(kT0);
  for (int i = 0; i < 100; ++i) t.OnSuccess(kT0 + absl::Seconds(4));
  EXPECT_EQ(t.concurrency(), 4) << "recovered inside the cooldown";
  for (int i = 0; i < 9; ++i) t.OnSuccess(kT0 + absl::Seconds(5));
  EXPECT_EQ(t.concurrency(), 4);
  t.OnSuccess(kT0 + absl::Seconds(5));  // the 10th success: one slow-down undone
  EXPECT_EQ(t.concurrency(), 8);
  EXPECT_DOUBLE_EQ(t.rate_factor(), 1.0);
}

TEST(Autothrottle, ThreeIncidentsAreUndoneByAFewHealthyAnswers) {
  // Three 5xx incidents (0.7^3 = 0.34 of the rate, concurrency 1): once the
  // answers are healthy, 3 x 5 successes restore full speed.
  AutothrottlePolicy p = Policy();
  p.recover_every = 5;
  Autothrottle t(p, 8);
  for (int i = 0; i < 3; ++i) t.OnError(kT0 + absl::Seconds(5 * i));
  ASSERT_NEAR(t.rate_factor(), 0.343, 1e-9);
  ASSERT_EQ(t.concurrency(), 1);
  const absl::Time healthy = kT0 + absl::Seconds(15);
  for (int i = 0; i < 14; ++i) t.OnSuccess(healthy);
  EXPECT_LT(t.rate_factor(), 1.0);
  t.OnSuccess(healthy);
  EXPECT_DOUBLE_EQ(t.rate_factor(), 1.0);
  EXPECT_EQ(t.concurrency(), 8);
}

TEST(Autothrottle, TheCooldownFollowsThePortalsPace) {
  EXPECT_EQ(CooldownFor(absl::Seconds(5), 2), absl::Seconds(5));             // standard
  EXPECT_EQ(CooldownFor(absl::Seconds(5), 5), absl::Seconds(2));             // enterprise
  EXPECT_EQ(CooldownFor(absl::Seconds(5), 100), absl::Milliseconds(100));    // time-scaled
  EXPECT_EQ(CooldownFor(absl::Seconds(5), 0.5), absl::Seconds(5)) << "never longer than configured";
}

TEST(Autothrottle, NeverAboveTheCeiling) {
  Autothrottle t(Policy(), 3);
  t.OnError(kT0);
  for (int i = 0; i < 1000; ++i) t.OnSuccess(kT0 + absl::Seconds(6));
  EXPECT_EQ(t.concurrency(), 3);
  EXPECT_DOUBLE_EQ(t.rate_factor(), 1.0);
}

TEST(Autothrottle, DisabledDoesNothing) {
  AutothrottlePolicy p = Policy();
  p.enabled = false;
  Autothrottle t(p, 8);
  t.OnError(kT0);
  EXPECT_EQ(t.concurrency(), 8);
  EXPECT_DOUBLE_EQ(t.rate_factor(), 1.0);
}

TEST(Autothrottle, LoweringTheCeilingClampsAtOnce) {
  Autothrottle t(Policy(), 8);
  t.SetMaxConcurrency(2);
  EXPECT_EQ(t.concurrency(), 2);
}

}  // namespace
}  // namespace b24gate::autothrottle_test
