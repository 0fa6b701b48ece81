// EventLedger: what it counts as received per source, and each consumer's
// lag (events delivered and not yet cleared, and the age of the oldest).
#include "engine/events/event_ledger.h"

#include <gtest/gtest.h>

#include <map>
#include <string>
#include <utility>

namespace b24gate::event_ledger_test {
namespace {

using Lags = std::map<std::pair<std::string, std::string>, EventLedger::ConsumerLag>;
using Key = Lags::key_type;

EventLedger::ConsumerLag Lag(const Lags& lags, const std::string& portal, const std::string& consumer) {
  auto it = lags.find({portal, consumer});
  return it == lags.end() ? EventLedger::ConsumerLag{-1, absl::ZeroDuration()} : it->second;
}

TEST(EventLedger, ReceivedCountsEachSourceAndDeliveriesCountRedeliveries) {
  FakeClock clock;
  EventLedger ledger(&clock);
  ledger.ReceivedOffline("main", 2);
  ledger.Received("main");
  ledger.CountDelivery("main", "crm-sync", "offline-1", 1);
  ledger.CountDelivery("main", "crm-sync", "offline-1", 2);
  ledger.CountDelivery("main", "crm-sync", "offline-2", 1);
  const EventLedger::Counts counts = ledger.Snapshot()["main"];
  EXPECT_EQ(counts.received_offline, 2);
  EXPECT_EQ(counts.received_inbound, 1);
  EXPECT_EQ(counts.delivered, 3);
  EXPECT_EQ(counts.redelivered, 1);
}

TEST(EventLedger, EachConsumersLagIsWhatItHoldsUnacknowledged) {
  FakeClock clock;
  EventLedger ledger(&clock);
  ledger.CountDelivery("main", "crm-sync", "17", 1);
  clock.Advance(absl::Seconds(30));
  ledger.CountDelivery("main", "crm-sync", "18", 1);
  ledger.CountDelivery("main", "billing", "online-1", 1);
  ledger.CountDelivery("other", "billing", "online-1", 1);
  clock.Advance(absl::Seconds(10));
  auto lags = ledger.ConsumerLags();
  ASSERT_EQ(lags.size(), 3u);
  EXPECT_EQ(Lag(lags, "main", "crm-sync").unacknowledged, 2);
  EXPECT_EQ(Lag(lags, "main", "crm-sync").oldest_unacknowledged, absl::Seconds(40));
  EXPECT_EQ(Lag(lags, "main", "billing").unacknowledged, 1);
  EXPECT_EQ(Lag(lags, "main", "billing").oldest_unacknowledged, absl::Seconds(10));

  ledger.Cleared("main", "crm-sync", {"17"});
  lags = ledger.ConsumerLags();
  EXPECT_EQ(Lag(lags, "main", "crm-sync").unacknowledged, 1);
  EXPECT_EQ(Lag(lags, "main", "crm-sync").oldest_unacknowledged, absl::Seconds(10));
  ledger.Cleared("main", "crm-sync", {"18"});
  lags = ledger.ConsumerLags();
  ASSERT_EQ(lags.count(Key{"main", "crm-sync"}), 1u) << "a consumer with nothing outstanding is still shown";
  EXPECT_EQ(Lag(lags, "main", "crm-sync").unacknowledged, 0);
  EXPECT_EQ(Lag(lags, "main", "crm-sync").oldest_unacknowledged, absl::ZeroDuration());
}

}  // namespace
}  // namespace b24gate::event_ledger_test
