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

// `answered` callers of one request answered at `at`.
void Answer(InflightLedger& ledger, int answered, absl::Time at) {
  ledger.Started(answered);
  ledger.Settled(answered, answered, at);
  ledger.Ended();
}

TEST(InflightLedger, CallersAreDueBackByTheTimeWholeGroupsTook) {
  const absl::Duration ms = absl::Milliseconds(1);
  InflightLedger ledger;
  EXPECT_EQ(ledger.CallersDueBack(2 * ms, kWindow), absl::InfinitePast()) << "nobody awaited";
  // Three callers answered at kNow: nothing learned yet, so the window.
  Answer(ledger, 3, kNow);
  EXPECT_EQ(ledger.CallersDueBack(2 * ms, kWindow), kNow + kWindow);
  ledger.CallArrived(kNow + 4 * ms);
  ledger.CallArrived(kNow + 6 * ms);
  ledger.CallArrived(kNow + 15 * ms);  // the group took 15 ms
  EXPECT_EQ(ledger.CallersDueBack(2 * ms, kWindow), absl::InfinitePast());
  // The next group of three is due twice that after its answer (slack for
  // a busy machine), at least `least`, at most the window.
  Answer(ledger, 3, kNow + 100 * ms);
  EXPECT_EQ(ledger.CallersDueBack(2 * ms, kWindow), kNow + 130 * ms);
  EXPECT_EQ(ledger.CallersDueBack(40 * ms, kWindow), kNow + 140 * ms);
  EXPECT_EQ(ledger.CallersDueBack(2 * ms, 20 * ms), kNow + 120 * ms);
}

TEST(InflightLedger, TheFirstCallersOfAGroupBackDoNotSetItsPace) {
  // 50 callers answered together; two are back after 21 ms. The other 48
  // come back later (a busy machine runs their threads one after another):
  // the group is still awaited until the window, not until 21 ms.
  const absl::Duration ms = absl::Milliseconds(1);
  InflightLedger ledger;
  Answer(ledger, 50, kNow);
  ledger.CallArrived(kNow + 21 * ms);
  ledger.CallArrived(kNow + 21 * ms);
  EXPECT_EQ(ledger.CallersDueBack(2 * ms, kWindow), kNow + kWindow);
  EXPECT_TRUE(ledger.CompanyExpected(kNow + 21 * ms, kWindow));
}

TEST(InflightLedger, ALargerGroupIsDueLaterByItsSize) {
  // A lone caller came back 2 ms after its answer; a group of 49 is due
  // 49 times as long after its own (twice, for slack), not 2 ms after.
  const absl::Duration ms = absl::Milliseconds(1);
  InflightLedger ledger;
  Answer(ledger, 1, kNow);
  ledger.CallArrived(kNow + 2 * ms);
  Answer(ledger, 49, kNow + 400 * ms);
  EXPECT_EQ(ledger.CallersDueBack(2 * ms, kWindow), kNow + 400 * ms + 2 * 49 * 2 * ms);
  // A group no larger than one seen: as long as that one took (twice).
  for (int i = 0; i < 49; ++i) ledger.CallArrived(kNow + 430 * ms);  // took 30 ms
  Answer(ledger, 20, kNow + 600 * ms);
  EXPECT_EQ(ledger.CallersDueBack(2 * ms, kWindow), kNow + 600 * ms + 40 * 2 * ms)
      << "the lone caller's pace times 20 (40 ms) is longer than the 49's 30 ms";
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
