// Offline consumer groups, end to end (real emulator and gateway): the
// gateway moves the portal's offline queue into its events log, and every
// group gets every row it names, exactly once; the streams of one group
// share its rows, each to one stream, a record's rows one after another in
// the portal's order; what a stream held when it is cancelled reaches the
// others with attempt 2; a gateway killed after it stored rows and before
// the portal cleared them delivers none of them twice and loses none.
#include <csignal>

#include <algorithm>
#include <chrono>
#include <map>
#include <memory>
#include <set>
#include <string>
#include <thread>
#include <tuple>
#include <vector>

#include <gtest/gtest.h>

#include "tests/e2e/event_helpers.h"

namespace b24gate::e2e::offline_groups_test {
namespace {

using Received = GroupMember::Received;

std::unique_ptr<Stack> OfflineStack() {
  EmulatorSpec emulator;
  emulator.extra_args = {"--no-limits", "--cost-zero"};
  GatewaySpec gateway;
  gateway.extra_args = {"--events-poll-interval", "100ms", "--metrics-listen", "127.0.0.1:0"};
  return Up(emulator, gateway);
}

// An offline member of `group` that acknowledges what it receives (or not).
std::unique_ptr<GroupMember> Offline(Stack& stack, const std::string& group, bool ack = true) {
  return std::make_unique<GroupMember>(stack, group, std::vector<std::string>{kAdd, kUpdate}, ack,
                                       std::chrono::milliseconds(0), pb::EVENT_SOURCE_UNSPECIFIED);
}

// Every deal of `ids` updated once, through the gateway.
void UpdateAll(Stack& stack, const std::set<std::string>& ids, const std::string& title) {
  std::vector<json> sets;
  for (const std::string& id : ids) sets.push_back({{"id", std::stoll(id)}, {"fields", {{"TITLE", title}}}});
  CallManyOut out = CallMany(stack, "crm.deal.update", sets);
  ASSERT_TRUE(out.status.ok()) << out.status.error_message();
}

// Within one group: of each record's rows, each is received only after the
// previous one was acknowledged, and in the portal's order (row ID).
// Returns how many records had several rows there.
int ExpectOrderPerRecord(const std::vector<Received>& group, const std::string& name) {
  std::map<std::string, std::vector<Received>> by_record;
  for (const Received& r : group) by_record[r.record].push_back(r);
  int records_with_several = 0;
  for (auto& [record, rows] : by_record) {
    std::sort(rows.begin(), rows.end(),
              [](const Received& a, const Received& b) { return a.received_tick < b.received_tick; });
    records_with_several += rows.size() > 1 ? 1 : 0;
    for (size_t i = 1; i < rows.size(); ++i) {
      EXPECT_LT(SeqOf(rows[i - 1].delivery_id), SeqOf(rows[i].delivery_id))
          << name << ": record " << record << " out of the portal's order";
      EXPECT_GT(rows[i].received_tick, rows[i - 1].acked_tick)
          << name << ": record " << record << " row " << rows[i].delivery_id
          << " went out before row " << rows[i - 1].delivery_id << " was acknowledged";
    }
  }
  return records_with_several;
}

TEST(OfflineGroups, EachGroupGetsEveryRowOnceAndItsStreamsShareThemInOrderPerRecord) {
  constexpr int kDeals = 200;
  constexpr int kUpdateRounds = 4;
  auto stack = OfflineStack();
  ASSERT_TRUE(stack);
  std::unique_ptr<GroupMember> a1 = Offline(*stack, "billing");
  std::unique_ptr<GroupMember> a2 = Offline(*stack, "billing");
  std::unique_ptr<GroupMember> a3 = Offline(*stack, "billing");
  std::unique_ptr<GroupMember> b = Offline(*stack, "audit");
  ASSERT_TRUE(Bound(*stack, {kAdd, kUpdate}));
  const std::vector<GroupMember*> billing = {a1.get(), a2.get(), a3.get()};
  const std::vector<GroupMember*> everyone = {a1.get(), a2.get(), a3.get(), b.get()};
  // The binding shows one stream in, not all: one deal at a time, each
  // delivered to both groups before the next, until each stream has had
  // one (a member that is in and has had none takes its group's next).
  std::set<std::string> deals;
  ASSERT_TRUE(testing::WaitFor([&] {
    if (std::all_of(everyone.begin(), everyone.end(), [](GroupMember* m) { return m->count() > 0; })) return true;
    if (All(billing).size() == deals.size() && b->count() == deals.size()) {
      deals.insert(std::to_string(AddDeal(*stack, "first")));
    }
    return false;
  }, 60)) << "a stream never joined";
  for (const std::string& id : AddDeals(*stack, kDeals, "o")) deals.insert(id);
  for (int round = 0; round < kUpdateRounds; ++round) UpdateAll(*stack, deals, "round " + std::to_string(round));
  ASSERT_TRUE(testing::WaitFor([&] { return Drained(*stack, billing) && Drained(*stack, {b.get()}); }, 120))
      << "billing " << All(billing).size() << ", audit " << b->count() << ", queue " << QueueLength(*stack);
  // Anything more would be a repeat: give it time to show.
  std::this_thread::sleep_for(std::chrono::milliseconds(500));

  const std::set<std::string> billed = ExpectEachOnce(All(billing), "billing");
  const std::set<std::string> audited = ExpectEachOnce(b->received(), "audit");
  EXPECT_EQ(billed, audited) << "each group gets every row, not a share of the queue";
  EXPECT_GE(billed.size(), static_cast<size_t>(kDeals + kDeals)) << "adds, and updates of rows already taken";
  std::set<std::string> records;
  for (const Received& r : All(everyone)) records.insert(r.record);
  EXPECT_EQ(records, deals);
  std::printf("%zu rows: billing members %zu, %zu, %zu; audit %zu\n", billed.size(), a1->count(), a2->count(),
              a3->count(), b->count());
  EXPECT_GT(ExpectOrderPerRecord(All(billing), "billing"), 0) << "the test needs records with several rows";
  ExpectOrderPerRecord(b->received(), "audit");
  EXPECT_EQ(Metric(stack->gateway(), "b24gate_events_redelivered_total{portal=\"main\"}"), 0);
}

TEST(OfflineGroups, WhatACancelledMemberHeldReachesTheOthersOnce) {
  constexpr int kDeals = 300;
  auto stack = OfflineStack();
  ASSERT_TRUE(stack);
  // Alone at first, so it certainly holds part of the queue; it never
  // acknowledges, so the consumer's next batch waits for it.
  std::unique_ptr<GroupMember> silent = Offline(*stack, "billing", /*ack=*/false);
  ASSERT_TRUE(Bound(*stack, {kAdd, kUpdate}));
  const std::set<std::string> deals = AddDeals(*stack, kDeals, "c");
  ASSERT_TRUE(testing::WaitFor([&] { return silent->count() > 0; }, 60));
  // Whether they join before the cancel or after it, what the silent one
  // held reaches them: the group keeps it in the events log.
  std::unique_ptr<GroupMember> a1 = Offline(*stack, "billing");
  std::unique_ptr<GroupMember> a2 = Offline(*stack, "billing");
  const grpc::Status ended = silent->Stop();  // cancelled with its share unacknowledged
  EXPECT_EQ(ended.error_code(), grpc::StatusCode::CANCELLED)
      << "newer streams of the consumer do not end it: " << ended.error_message();
  std::set<std::string> held;
  for (const Received& r : silent->received()) held.insert(r.delivery_id);

  const std::vector<GroupMember*> others = {a1.get(), a2.get()};
  ASSERT_TRUE(testing::WaitFor([&] { return Drained(*stack, others); }, 120))
      << "received " << All(others).size() << ", queue " << QueueLength(*stack);
  std::this_thread::sleep_for(std::chrono::milliseconds(500));
  std::map<std::string, int> times;
  std::set<std::string> records, redelivered;
  for (const Received& r : All(others)) {
    ++times[r.delivery_id];
    records.insert(r.record);
    if (r.attempt > 1) redelivered.insert(r.delivery_id);
    EXPECT_LE(r.attempt, 2) << r.delivery_id;
  }
  EXPECT_EQ(records, deals) << "every deal's event reached a member that acknowledges";
  EXPECT_EQ(times.size(), static_cast<size_t>(kDeals));
  for (const auto& [id, n] : times) EXPECT_EQ(n, 1) << id << " reached the others " << n << " times";
  // What the cancelled member held came again; so may what was still on
  // its way to it when it was cancelled, but never more than its window.
  for (const std::string& id : held) EXPECT_EQ(redelivered.count(id), 1u) << id << " was held and never came again";
  EXPECT_LE(redelivered.size(), 50u) << "only the cancelled member's window comes again";
  EXPECT_EQ(Metric(stack->gateway(), "b24gate_events_redelivered_total{portal=\"main\"}"),
            static_cast<double>(redelivered.size()));
}

// The portal refuses every clear while the gateway stores and delivers the
// rows, so they stay marked for the gateway's process id; the gateway is
// killed, and the next one reads them again: its log knows them, so no
// group receives one twice, and it clears them; what comes later arrives.
TEST(OfflineGroups, AGatewayKilledBetweenStoreAndClearDeliversNothingTwiceAndLosesNothing) {
  constexpr int kBefore = 20;
  constexpr int kAfter = 5;
  auto stack = OfflineStack();
  ASSERT_TRUE(stack);
  std::unique_ptr<GroupMember> billing = Offline(*stack, "billing");
  std::unique_ptr<GroupMember> audit = Offline(*stack, "audit");
  ASSERT_TRUE(Bound(*stack, {kAdd, kUpdate}));
  stack->SetFaults("502=1,method=event.offline.clear");
  std::set<std::string> deals = AddDeals(*stack, kBefore, "before");
  ASSERT_TRUE(testing::WaitFor([&] {
    return Metric(stack->gateway(), "b24gate_events_acknowledged_total{portal=\"main\"}") == 2 * kBefore;
  }, 60)) << "billing " << billing->count() << ", audit " << audit->count();
  EXPECT_EQ(QueueLength(*stack), static_cast<size_t>(kBefore)) << "stored and delivered, never cleared";
  ASSERT_EQ(stack->gateway().StopWith(SIGKILL), 128 + SIGKILL);
  billing->Stop();
  audit->Stop();
  stack->SetFaults("none");

  absl::StatusOr<std::unique_ptr<Process>> replica = stack->StartReplica();
  ASSERT_TRUE(replica.ok()) << replica.status();
  auto channel = grpc::CreateChannel((*replica)->address(), grpc::InsecureChannelCredentials());
  GroupMember billing2(channel, "billing", {kAdd, kUpdate}, true, std::chrono::milliseconds(0),
                       pb::EVENT_SOURCE_UNSPECIFIED);
  GroupMember audit2(channel, "audit", {kAdd, kUpdate}, true, std::chrono::milliseconds(0),
                     pb::EVENT_SOURCE_UNSPECIFIED);
  ASSERT_TRUE(testing::WaitFor([&] { return QueueLength(*stack) == 0; }, 60)) << "read again and cleared";
  for (int i = 0; i < kAfter; ++i) {
    json added = stack->Rest("crm.deal.add", {{"fields", {{"TITLE", "after"}}}});
    ASSERT_TRUE(added.is_object() && added.contains("result")) << added.dump();
    deals.insert(added["result"].dump());
  }
  ASSERT_TRUE(testing::WaitFor([&] {
    return billing2.count() >= static_cast<size_t>(kAfter) && audit2.count() >= static_cast<size_t>(kAfter) &&
           QueueLength(*stack) == 0;
  }, 60)) << "billing " << billing2.count() << ", audit " << audit2.count();
  std::this_thread::sleep_for(std::chrono::milliseconds(500));  // a repeat would show by now

  for (auto [name, before, after] : {std::tuple{"billing", billing.get(), &billing2},
                                     std::tuple{"audit", audit.get(), &audit2}}) {
    std::map<std::string, int> times;  // by record: one add each
    for (const Received& r : before->received()) ++times[r.record];
    for (const Received& r : after->received()) ++times[r.record];
    EXPECT_EQ(times.size(), deals.size()) << name << ": a deal's event was lost";
    for (const auto& [record, n] : times) EXPECT_EQ(n, 1) << name << ": deal " << record << " " << n << " times";
    EXPECT_EQ(after->count(), static_cast<size_t>(kAfter)) << name;
  }
  EXPECT_EQ(Metric(**replica, "b24gate_events_received_total{portal=\"main\",source=\"offline\"}"), kAfter)
      << "the rows read again were known";
}

}  // namespace
}  // namespace b24gate::e2e::offline_groups_test
