#include "engine/throttle/operating_tracker.h"

#include <gtest/gtest.h>

namespace b24gate {
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

}  // namespace
}  // namespace b24gate
