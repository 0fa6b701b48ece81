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
  ledger.CallArrived(kNow);
  EXPECT_TRUE(ledger.CompanyExpected(kNow, kWindow)) << "one of two is back";
  ledger.CallArrived(kNow);
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
  ledger.CallArrived(kNow);  // the one answered caller is back
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

TEST(InflightLedger, AnsweredCallersAreDueBackAfterTheSlowestRecentReturn) {
  const absl::Duration ms = absl::Milliseconds(1);
  InflightLedger ledger;
  EXPECT_EQ(ledger.CallersDueBack(2 * ms, kWindow), absl::InfinitePast()) << "nobody awaited";
  // Three callers answered at kNow: nothing learned yet, so the window.
  ledger.Started(3);
  ledger.Settled(3, 3, kNow);
  ledger.Ended();
  EXPECT_EQ(ledger.CallersDueBack(2 * ms, kWindow), kNow + kWindow);
  // Back 4, 30 and 6 ms later.
  ledger.CallArrived(kNow + 4 * ms);
  ledger.CallArrived(kNow + 30 * ms);
  ledger.CallArrived(kNow + 6 * ms);
  EXPECT_EQ(ledger.CallersDueBack(2 * ms, kWindow), absl::InfinitePast());
  // The next answer's callers are due the slowest return (30 ms) after it,
  // at least `least`, at most the window.
  ledger.Started(2);
  ledger.Settled(2, 2, kNow + 100 * ms);
  ledger.Ended();
  EXPECT_EQ(ledger.CallersDueBack(2 * ms, kWindow), kNow + 130 * ms);
  EXPECT_EQ(ledger.CallersDueBack(40 * ms, kWindow), kNow + 140 * ms);
  EXPECT_EQ(ledger.CallersDueBack(2 * ms, 20 * ms), kNow + 120 * ms);
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
