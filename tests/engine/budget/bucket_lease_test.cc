// BucketLease: the slots a replica holds, with given times.
#include "engine/budget/bucket_lease.h"

#include <gtest/gtest.h>

namespace b24gate::bucket_lease_test {
namespace {

const absl::Time kT0 = absl::FromUnixSeconds(1700000000);
const absl::Duration kTtl = absl::Seconds(1);

TEST(LeasedPolicyTest, KeepsWhatThePortalDrainsInOneTtlUnused) {
  struct Case {
    BucketPolicy policy;
    absl::Duration ttl;
    double headroom;
  };
  for (const Case& c : {
           Case{{50, 2, 1}, absl::Seconds(1), 3},       // 1 + 2/s x 1 s
           Case{{50, 10, 1}, absl::Seconds(1), 11},     // 1 + 10/s x 1 s
           Case{{50, 2, 1}, absl::Milliseconds(250), 1.5},
           Case{{5, 10, 1}, absl::Seconds(1), 4},       // at least one request stays usable
       }) {
    EXPECT_DOUBLE_EQ(LeasedPolicy(c.policy, c.ttl).headroom, c.headroom)
        << c.policy.burst << " " << c.policy.drain_per_second << " " << c.ttl;
    EXPECT_EQ(LeasedPolicy(c.policy, c.ttl).burst, c.policy.burst);
    EXPECT_EQ(LeasedPolicy(c.policy, c.ttl).drain_per_second, c.policy.drain_per_second);
  }
}

TEST(BucketLeaseTest, WantsNothingUntilAskedThenOne) {
  BucketLease lease(kTtl, 10);
  EXPECT_EQ(lease.Wanted(kT0), 0);
  EXPECT_EQ(lease.Held(kT0), 0);
  lease.Asked(kT0);
  EXPECT_EQ(lease.Wanted(kT0), 1);
  lease.Granted(1, kT0);
  EXPECT_EQ(lease.Held(kT0), 1);
  EXPECT_EQ(lease.Wanted(kT0), 0);
}

TEST(BucketLeaseTest, HoldsWhatWasSpentInTheLastTtl) {
  BucketLease lease(kTtl, 10);
  lease.Asked(kT0);
  lease.Granted(1, kT0);
  // Four spends 200 ms apart: each one refilled, the target grows with them.
  absl::Time t = kT0;
  for (int i = 1; i <= 4; ++i) {
    t = kT0 + absl::Milliseconds(200 * i);
    ASSERT_GT(lease.Held(t), 0) << i;
    lease.Spend(t);
    EXPECT_EQ(lease.Wanted(t), i - lease.Held(t)) << i;
    lease.Granted(lease.Wanted(t), t);
  }
  EXPECT_EQ(lease.Held(t), 4);
  // Spending stops: after one ttl nothing is wanted, and what is held expires.
  EXPECT_EQ(lease.Wanted(t + absl::Milliseconds(999)), 0);
  EXPECT_EQ(lease.Held(t + kTtl), 0);
}

TEST(BucketLeaseTest, SlotsExpireOneTtlAfterTheirGrant) {
  BucketLease lease(kTtl, 10);
  lease.Granted(2, kT0);
  lease.Granted(1, kT0 + absl::Milliseconds(500));
  EXPECT_EQ(lease.Held(kT0 + absl::Milliseconds(999)), 3);
  EXPECT_EQ(lease.Held(kT0 + kTtl), 1);
  EXPECT_EQ(lease.Held(kT0 + absl::Milliseconds(1499)), 1);
  EXPECT_EQ(lease.Held(kT0 + absl::Milliseconds(1500)), 0);
}

TEST(BucketLeaseTest, NeverWantsMoreThanItsCap) {
  BucketLease lease(kTtl, 3);
  lease.Granted(3, kT0);
  for (int i = 0; i < 3; ++i) lease.Spend(kT0);
  lease.Asked(kT0);
  EXPECT_EQ(lease.Wanted(kT0), 3);  // 3 spent, capped at 3
  lease.set_max_held(2);
  EXPECT_EQ(lease.Wanted(kT0), 2);
  lease.Granted(2, kT0);
  EXPECT_EQ(lease.Wanted(kT0), 0);
}

TEST(BucketLeaseTest, AskedUntilSomethingIsGranted) {
  BucketLease lease(kTtl, 10);
  lease.Asked(kT0);
  lease.Granted(0, kT0 + absl::Milliseconds(1));  // the bucket was full
  EXPECT_EQ(lease.Wanted(kT0 + absl::Seconds(5)), 1);
}

TEST(BucketLeaseTest, DropGivesUpWhatIsHeld) {
  BucketLease lease(kTtl, 10);
  lease.Granted(4, kT0);
  lease.Drop();
  EXPECT_EQ(lease.Held(kT0), 0);
}

}  // namespace
}  // namespace b24gate::bucket_lease_test
