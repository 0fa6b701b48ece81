// How a consumer group's members share its events (consumer_group.h), on
// hand-made times: each event to one member, split evenly; a record's next
// event only after its previous one is acknowledged; what a member leaves
// or lets time out goes to another with attempt + 1; late acknowledgements;
// attempts counted before a restart; the store's drops.
#include "engine/events/consumer_group.h"

#include <gtest/gtest.h>

#include <limits>
#include <map>
#include <set>
#include <string>
#include <vector>

namespace b24gate::consumer_group_test {
namespace {

using AckResult = ConsumerGroup::AckResult;

const absl::Time kStart = absl::FromUnixSeconds(1700000000);

QueuedEvent Event(int64_t seq, const std::string& record) {
  QueuedEvent e;
  e.delivery_id = "online-" + std::to_string(seq);
  e.event = "ONCRMDEALUPDATE";
  e.record_id = record;
  return e;
}

ConsumerGroup Group(size_t window = 50) {
  return ConsumerGroup(ConsumerGroup::Options{window, absl::Seconds(30)});
}

// seq -> member, of `deliveries`.
std::map<int64_t, ConsumerGroup::MemberId> Holders(const std::vector<ConsumerGroup::Delivery>& deliveries) {
  std::map<int64_t, ConsumerGroup::MemberId> out;
  for (const ConsumerGroup::Delivery& d : deliveries) out[d.seq] = d.member;
  return out;
}

TEST(ConsumerGroupTest, TwoMembersSplitTheEventsEachToOne) {
  ConsumerGroup group = Group();
  group.Join(1);
  group.Join(2);
  for (int64_t seq = 1; seq <= 10; ++seq) group.Add(seq, Event(seq, std::to_string(seq)));
  std::vector<ConsumerGroup::Delivery> out = group.Assign(kStart);
  ASSERT_EQ(out.size(), 10u);
  std::map<ConsumerGroup::MemberId, int> per_member;
  std::set<int64_t> seqs;
  for (const ConsumerGroup::Delivery& d : out) {
    ++per_member[d.member];
    EXPECT_TRUE(seqs.insert(d.seq).second) << d.seq << " twice";
    EXPECT_EQ(d.event.attempt, 1);
  }
  EXPECT_EQ(per_member[1], 5);
  EXPECT_EQ(per_member[2], 5);
  EXPECT_TRUE(group.Assign(kStart).empty()) << "nothing goes out twice";
}

TEST(ConsumerGroupTest, AMemberHoldsAtMostItsWindow) {
  ConsumerGroup group = Group(/*window=*/2);
  group.Join(1);
  for (int64_t seq = 1; seq <= 3; ++seq) group.Add(seq, Event(seq, std::to_string(seq)));
  ASSERT_EQ(group.Assign(kStart).size(), 2u);
  EXPECT_TRUE(group.Assign(kStart).empty());
  ASSERT_EQ(group.Ack(1, 1), AckResult::kAcknowledged);
  std::vector<ConsumerGroup::Delivery> next = group.Assign(kStart);
  ASSERT_EQ(next.size(), 1u);
  EXPECT_EQ(next[0].seq, 3);
}

TEST(ConsumerGroupTest, ARecordsNextEventGoesOutOnlyOnceItsPreviousIsAcknowledged) {
  ConsumerGroup group = Group();
  group.Join(1);
  group.Join(2);
  group.Add(1, Event(1, "7"));
  group.Add(2, Event(2, "7"));
  group.Add(3, Event(3, "8"));
  group.Add(4, Event(4, ""));  // no record: never held back
  group.Add(5, Event(5, ""));
  std::map<int64_t, ConsumerGroup::MemberId> out = Holders(group.Assign(kStart));
  EXPECT_EQ(out.count(2), 0u) << "record 7's second event waits for its first";
  EXPECT_EQ(out.size(), 4u);
  // A member with room does not make it go out either.
  EXPECT_TRUE(group.Assign(kStart).empty());
  ASSERT_EQ(group.Ack(out[1], 1), AckResult::kAcknowledged);
  std::vector<ConsumerGroup::Delivery> next = group.Assign(kStart);
  ASSERT_EQ(next.size(), 1u);
  EXPECT_EQ(next[0].seq, 2);
}

TEST(ConsumerGroupTest, WhatAMemberLeavesGoesToTheOthersFirstWithTheNextAttempt) {
  ConsumerGroup group = Group(/*window=*/1);
  group.Join(1);
  group.Add(1, Event(1, "7"));
  group.Add(2, Event(2, "8"));
  ASSERT_EQ(group.Assign(kStart).size(), 1u);  // seq 1 to member 1
  group.Join(2);
  std::vector<ConsumerGroup::Delivery> second = group.Assign(kStart);
  ASSERT_EQ(second.size(), 1u);
  EXPECT_EQ(second[0].seq, 2);
  group.Leave(1);
  ASSERT_EQ(group.Ack(2, 2), AckResult::kAcknowledged);
  std::vector<ConsumerGroup::Delivery> again = group.Assign(kStart);
  ASSERT_EQ(again.size(), 1u);
  EXPECT_EQ(again[0].seq, 1);
  EXPECT_EQ(again[0].member, 2);
  EXPECT_EQ(again[0].event.attempt, 2);
  EXPECT_EQ(group.Ack(1, 1), AckResult::kUnknown) << "a member that left acknowledges nothing";
}

TEST(ConsumerGroupTest, AnUnacknowledgedDeliveryGoesToAnotherMemberAfterTheVisibilityTimeout) {
  ConsumerGroup group = Group();
  group.Join(1);
  group.Add(1, Event(1, "7"));
  ASSERT_EQ(group.Assign(kStart).size(), 1u);
  group.Join(2);
  EXPECT_EQ(group.NextDeadline(), kStart + absl::Seconds(30));
  EXPECT_TRUE(group.Expire(kStart + absl::Seconds(29)).empty()) << "not before its time";
  auto expired = group.Expire(kStart + absl::Seconds(30));
  ASSERT_EQ(expired.size(), 1u);
  EXPECT_EQ(expired[0], std::make_pair(ConsumerGroup::MemberId{1}, int64_t{1}));
  std::vector<ConsumerGroup::Delivery> again = group.Assign(kStart + absl::Seconds(30));
  ASSERT_EQ(again.size(), 1u);
  EXPECT_EQ(again[0].member, 2) << "not back to the member that let it time out";
  EXPECT_EQ(again[0].event.attempt, 2);
  EXPECT_EQ(group.CheckAck(1, 1), AckResult::kIgnored) << "late: member 2 has it now";
  EXPECT_EQ(group.Ack(2, 1), AckResult::kAcknowledged);
  EXPECT_EQ(group.Ack(1, 1), AckResult::kIgnored) << "late, and done by member 2";
  EXPECT_EQ(group.Ack(1, 1), AckResult::kUnknown) << "once";
  EXPECT_EQ(group.OldestSeq(), std::numeric_limits<int64_t>::max());
}

TEST(ConsumerGroupTest, TheOnlyMemberGetsItsTimedOutEventAgain) {
  ConsumerGroup group = Group();
  group.Join(1);
  group.Add(1, Event(1, "7"));
  group.Add(2, Event(2, "7"));
  ASSERT_EQ(group.Assign(kStart).size(), 1u);
  ASSERT_EQ(group.Expire(kStart + absl::Seconds(31)).size(), 1u);
  std::vector<ConsumerGroup::Delivery> again = group.Assign(kStart + absl::Seconds(31));
  ASSERT_EQ(again.size(), 1u) << "the record's next event still waits";
  EXPECT_EQ(again[0].seq, 1);
  EXPECT_EQ(again[0].event.attempt, 2);
  EXPECT_EQ(group.NextDeadline(), kStart + absl::Seconds(61));
  EXPECT_EQ(group.Ack(1, 1), AckResult::kAcknowledged);
}

TEST(ConsumerGroupTest, ALateAcknowledgementCountsWhileNobodyHoldsTheEvent) {
  ConsumerGroup group = Group(/*window=*/1);
  group.Join(1);
  group.Join(2);
  group.Add(1, Event(1, "7"));
  group.Add(2, Event(2, "8"));
  std::map<int64_t, ConsumerGroup::MemberId> out = Holders(group.Assign(kStart));
  ASSERT_EQ(out.size(), 2u);
  ASSERT_EQ(group.Expire(kStart + absl::Seconds(30)).size(), 2u);
  // Both windows are free again, but nothing is assigned yet.
  EXPECT_EQ(group.CheckAck(out[1], 1), AckResult::kAcknowledged);
  EXPECT_EQ(group.Ack(out[1], 1), AckResult::kAcknowledged);
  EXPECT_EQ(group.Ack(out[1], 1), AckResult::kUnknown) << "once";
  std::vector<ConsumerGroup::Delivery> again = group.Assign(kStart + absl::Seconds(30));
  ASSERT_EQ(again.size(), 1u);
  EXPECT_EQ(again[0].seq, 2);
}

TEST(ConsumerGroupTest, UnknownAcknowledgementsChangeNothing) {
  ConsumerGroup group = Group();
  group.Join(1);
  group.Join(2);
  group.Add(1, Event(1, "7"));
  std::map<int64_t, ConsumerGroup::MemberId> out = Holders(group.Assign(kStart));
  const ConsumerGroup::MemberId other = out[1] == 1 ? 2 : 1;
  EXPECT_EQ(group.Ack(other, 1), AckResult::kUnknown) << "held by the other member";
  EXPECT_EQ(group.Ack(out[1], 99), AckResult::kUnknown);
  EXPECT_EQ(group.Ack(3, 1), AckResult::kUnknown) << "not a member";
  EXPECT_EQ(group.Ack(out[1], 1), AckResult::kAcknowledged);
}

TEST(ConsumerGroupTest, DeliveriesBeforeARestartCountInTheAttempt) {
  ConsumerGroup group = Group();
  group.Add(1, Event(1, "7"));
  group.CountDelivery(1);
  group.CountDelivery(1);
  group.CountDelivery(42);  // unknown: nothing
  group.Join(1);
  std::vector<ConsumerGroup::Delivery> out = group.Assign(kStart);
  ASSERT_EQ(out.size(), 1u);
  EXPECT_EQ(out[0].event.attempt, 3);
}

TEST(ConsumerGroupTest, ForgottenAndDroppedEventsLetTheirRecordsGoOn) {
  ConsumerGroup group = Group();
  for (int64_t seq = 1; seq <= 4; ++seq) group.Add(seq, Event(seq, "7"));
  group.Forget(1);  // an acknowledgement replayed
  EXPECT_EQ(group.OldestSeq(), 2);
  group.Join(1);
  ASSERT_EQ(group.Assign(kStart).size(), 1u);
  EXPECT_EQ(group.DropThrough(3), 2);
  EXPECT_EQ(group.OldestSeq(), 4);
  std::vector<ConsumerGroup::Delivery> out = group.Assign(kStart);
  ASSERT_EQ(out.size(), 1u);
  EXPECT_EQ(out[0].seq, 4);
  EXPECT_EQ(group.NextDeadline(), kStart + absl::Seconds(30)) << "the dropped one's deadline is gone";
}

}  // namespace
}  // namespace b24gate::consumer_group_test
