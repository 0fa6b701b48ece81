// InflightLedger: counts change only through Started/Settled/Ended, and
// callers are expected back only when they were answered.
#include "engine/portal/inflight_ledger.h"

#include <gtest/gtest.h>

namespace b24gate::inflight_ledger_test {
namespace {

const absl::Time kNow = absl::FromUnixSeconds(1700000000);
const absl::Duration kWindow = absl::Milliseconds(500);

TEST(InflightLedger, CallsInFlightMeanCompanyIsExpected) {
  InflightLedger ledger;
  EXPECT_FALSE(ledger.CompanyExpected(kNow, kWindow));
  ledger.Started(3);
  EXPECT_EQ(ledger.requests(), 1);
  EXPECT_EQ(ledger.calls(), 3);
  EXPECT_TRUE(ledger.CompanyExpected(kNow, kWindow));
}

TEST(InflightLedger, AnsweredCallersAreExpectedBackWithinTheWindow) {
  InflightLedger ledger;
  ledger.Started(2);
  ledger.Settled(2, 2, kNow);
  ledger.Ended();
  EXPECT_EQ(ledger.requests(), 0);
  EXPECT_EQ(ledger.calls(), 0);
  EXPECT_TRUE(ledger.CompanyExpected(kNow + kWindow, kWindow));
  ledger.CallArrived();
  EXPECT_TRUE(ledger.CompanyExpected(kNow, kWindow)) << "one of two is back";
  ledger.CallArrived();
  EXPECT_FALSE(ledger.CompanyExpected(kNow, kWindow)) << "both are back";
}

TEST(InflightLedger, CallersNotBackWithinTheWindowAreNotWaitedFor) {
  InflightLedger ledger;
  ledger.Started(1);
  ledger.Settled(1, 1, kNow);
  ledger.Ended();
  EXPECT_FALSE(ledger.CompanyExpected(kNow + kWindow + absl::Milliseconds(1), kWindow));
}

TEST(InflightLedger, CallsSentAgainAreNotAwaited) {
  // A request of 3 calls: 1 answered, 2 queued again (never answered, so
  // their callers are not about to send anything new).
  InflightLedger ledger;
  ledger.Started(3);
  ledger.Settled(3, 1, kNow);
  ledger.Ended();
  ledger.CallArrived();  // the one answered caller is back
  EXPECT_FALSE(ledger.CompanyExpected(kNow, kWindow));
}

TEST(InflightLedger, CallsSettledEarlyKeepTheSlotUntilTheRequestEnds) {
  InflightLedger ledger;
  ledger.Started(1);
  ledger.Settled(1, 1, kNow);  // answered at shutdown
  EXPECT_EQ(ledger.requests(), 1);
  ledger.Ended();
  EXPECT_EQ(ledger.requests(), 0);
}

TEST(InflightLedger, TypicalLatencyIsTheMedianOfRecentAnswers) {
  InflightLedger ledger;
  EXPECT_EQ(ledger.TypicalLatency(), absl::ZeroDuration());
  for (int ms : {5, 100, 7, 6, 90}) ledger.Answered(absl::Milliseconds(ms));
  EXPECT_EQ(ledger.TypicalLatency(), absl::Milliseconds(7));
  for (int i = 0; i < 32; ++i) ledger.Answered(absl::Milliseconds(40));
  EXPECT_EQ(ledger.TypicalLatency(), absl::Milliseconds(40)) << "old answers age out";
}

}  // namespace
}  // namespace b24gate::inflight_ledger_test
