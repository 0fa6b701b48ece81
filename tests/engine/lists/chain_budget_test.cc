// How many batches of one list read may be in flight: connections, the
// bucket, and the method's operating time, counting the batches in flight
// once.
#include "engine/lists/chain_budget.h"

#include <gtest/gtest.h>

namespace b24gate::chain_budget_test {
namespace {

// Eight connections, a full bucket, a batch of 50 pages of 0.097 s.
PortalBudget Budget(double used, int in_flight) {
  const double limit_less_margin = 420, batch = 4.85;
  PortalBudget b;
  b.max_in_flight = 8;
  b.requests_free_now = 40;
  b.drain_per_second = 2;
  b.operating_used = absl::Seconds(used);
  b.operating_reserved = absl::Seconds(in_flight * batch);
  b.operating_left = absl::Seconds(std::max(0.0, limit_less_margin - used - in_flight * batch));
  return b;
}

constexpr BatchCost kBatch{4.85, 4.85};

TEST(BatchesAllowed, ConnectionsBindWhileTheMethodHasTimeToSpare) {
  EXPECT_EQ(BatchesAllowed(Budget(100, 8), kBatch), 8);
}

TEST(BatchesAllowed, BatchesInFlightAreCountedOnceAgainstTheOperatingTime) {
  // 360 s used, 8 batches in flight reserve 38.8 s: 60 s of room hold 12
  // batches, so all 8 keep going. Taking the reservations off the room and
  // then counting the batches in flight again allowed only 4.
  EXPECT_EQ(BatchesAllowed(Budget(360, 8), kBatch), 8);
  // 400 s used: 20 s of room, 4 batches.
  EXPECT_EQ(BatchesAllowed(Budget(400, 2), kBatch), 4);
}

TEST(BatchesAllowed, NoRoomLeftAllowsOneAtMost) {
  // The reservations already pass the room: nothing more is sent (one
  // batch is always allowed; the dispatcher holds it until the method may
  // run).
  EXPECT_EQ(BatchesAllowed(Budget(410, 8), kBatch), 1);
}

TEST(BatchesAllowed, TheBucketBindsWhenItIsEmpty) {
  PortalBudget b = Budget(0, 0);
  b.requests_free_now = 0;
  // Two requests drain while one batch of 0.75 s is processed, plus one
  // queued to leave the moment the bucket allows.
  EXPECT_EQ(BatchesAllowed(b, BatchCost{0.75, 0.75}), 2);
}

TEST(BucketBinds, TheBucketPacesManyCheapPagesTheConnectionsFewDearOnes) {
  PortalBudget b;
  b.max_in_flight = 8;
  b.requests_free_now = 48;
  b.drain_per_second = 2;
  // 4,000 pages: 80 requests, 32 beyond the free ones take 16 s to drain;
  // on 8 connections the pages take 7.5 s at 15 ms, 48.5 s at 97 ms.
  EXPECT_TRUE(BucketBinds(b, 4000, 0.015));
  EXPECT_FALSE(BucketBinds(b, 4000, 0.097));
  // 2,000 pages fit the free requests: the connections pace them.
  EXPECT_FALSE(BucketBinds(b, 2000, 0.015));
  // Nothing known of a page's cost or the drain: not judged.
  EXPECT_FALSE(BucketBinds(b, 4000, 0));
  b.drain_per_second = 0;
  EXPECT_FALSE(BucketBinds(b, 4000, 0.015));
}

}  // namespace
}  // namespace b24gate::chain_budget_test
