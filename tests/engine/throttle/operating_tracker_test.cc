#include "engine/throttle/operating_tracker.h"

#include <gtest/gtest.h>

namespace b24gate::operating_tracker_test {
namespace {

const absl::Time kT0 = absl::FromUnixSeconds(1700000000);

nlohmann::ordered_json Time(double operating, double reset_at) {
  return {{"operating", operating}, {"operating_reset_at", reset_at}};
}

OperatingPolicy Policy() {
  return OperatingPolicy{absl::Seconds(480), absl::Seconds(600), absl::Seconds(60)};
}

TEST(OperatingTracker, BelowTheMarginTheMethodFlows) {
  OperatingTracker t(Policy());
  t.Observe("crm.lead.list", Time(419.9, 1700000300), kT0);
  EXPECT_LE(t.ReadyAt("crm.lead.list"), kT0);
}

TEST(OperatingTracker, AtTheMarginTheMethodWaitsForTheReset) {
  OperatingTracker t(Policy());
  t.Observe("crm.lead.list", Time(420, 1700000300), kT0);
  EXPECT_EQ(t.ReadyAt("crm.lead.list"), absl::FromUnixSeconds(1700000300));
  // Other methods are not affected.
  EXPECT_LE(t.ReadyAt("crm.deal.list"), kT0);
}

TEST(OperatingTracker, A429ParksUntilTheReportedReset) {
  OperatingTracker t(Policy());
  t.Observe("crm.deal.update", Time(100, 1700000100), kT0);
  t.Blocked("crm.deal.update", nullptr, kT0);
  EXPECT_EQ(t.ReadyAt("crm.deal.update"), absl::FromUnixSeconds(1700000100));
}

TEST(OperatingTracker, A429WithoutAnyReportParksOneBasket) {
  OperatingTracker t(Policy());
  t.Blocked("crm.deal.update", nullptr, kT0);
  EXPECT_EQ(t.ReadyAt("crm.deal.update"), kT0 + absl::Seconds(60));
}

TEST(OperatingTracker, AnswersWithoutOperatingAreIgnored) {
  OperatingTracker t(Policy());
  t.Observe("crm.item.list", nlohmann::ordered_json::object({{"start", 1.0}}), kT0);
  EXPECT_EQ(t.Operating("crm.item.list"), 0);
  EXPECT_LE(t.ReadyAt("crm.item.list"), kT0);
}

TEST(OperatingTracker, OperatingAloneAssumesAWholeWindow) {
  OperatingTracker t(Policy());
  t.Observe("crm.lead.list", {{"operating", 470}}, kT0);
  EXPECT_EQ(t.ReadyAt("crm.lead.list"), kT0 + absl::Seconds(600));
}

// Prediction and reservations.

nlohmann::ordered_json Spent(double processing, double operating, double reset_at) {
  return {{"processing", processing}, {"operating", operating}, {"operating_reset_at", reset_at}};
}

TEST(OperatingTracker, TheEstimateRisesAtOnceAndFallsSlowly) {
  OperatingTracker t(Policy());
  EXPECT_EQ(t.Estimate("crm.lead.list"), absl::ZeroDuration());
  t.Observe("crm.lead.list", Spent(1, 1, 1700000300), kT0);
  EXPECT_EQ(t.Estimate("crm.lead.list"), absl::Seconds(1));
  t.Observe("crm.lead.list", Spent(3, 4, 1700000300), kT0);
  EXPECT_EQ(t.Estimate("crm.lead.list"), absl::Seconds(3));
  t.Observe("crm.lead.list", Spent(1, 5, 1700000300), kT0);
  EXPECT_EQ(t.Estimate("crm.lead.list"), absl::Seconds(3) * 0.8 + absl::Seconds(1) * 0.2);
}

TEST(OperatingTracker, AMethodOfUnknownCostIsNotHeldBack) {
  OperatingTracker t(Policy());
  for (int i = 0; i < 8; ++i) {
    ASSERT_EQ(t.FitsAt("crm.lead.add", t.Estimate("crm.lead.add"), kT0), kT0) << i;
    t.Reserve("crm.lead.add", t.Estimate("crm.lead.add"));
  }
}

TEST(OperatingTracker, ReservationsStopAtTheLimitLessTheMargin) {
  // 300 s used, 10 s per command, 420 s usable: twelve more fit in flight.
  OperatingTracker t(Policy());
  t.Observe("crm.lead.list", Spent(10, 300, 1700000300), kT0);
  const absl::Duration cost = t.Estimate("crm.lead.list");
  for (int i = 0; i < 12; ++i) {
    ASSERT_EQ(t.FitsAt("crm.lead.list", cost, kT0), kT0) << "command " << i + 1;
    t.Reserve("crm.lead.list", cost);
  }
  EXPECT_EQ(t.Left("crm.lead.list"), absl::ZeroDuration());
  EXPECT_EQ(t.FitsAt("crm.lead.list", cost, kT0), absl::InfiniteFuture())
      << "the 13th would cross the margin; it waits for an answer";
  EXPECT_EQ(t.FitsAt("crm.deal.list", cost, kT0), kT0) << "other methods are not affected";
  t.Release("crm.lead.list", cost);
  EXPECT_EQ(t.FitsAt("crm.lead.list", cost, kT0), kT0);
  EXPECT_EQ(t.Left("crm.lead.list"), cost);
}

TEST(OperatingTracker, AHeavyRequestWithNothingInFlightWaitsForTheReset) {
  OperatingTracker t(Policy());
  t.Observe("crm.lead.list", Spent(10, 400, 1700000300), kT0);
  EXPECT_EQ(t.FitsAt("crm.lead.list", absl::Seconds(50), kT0), absl::FromUnixSeconds(1700000300));
  // After the reset the reported use is stale: one request finds out.
  absl::Time after = absl::FromUnixSeconds(1700000301);
  EXPECT_EQ(t.FitsAt("crm.lead.list", absl::Seconds(50), after), after);
}

}  // namespace
}  // namespace b24gate::operating_tracker_test
