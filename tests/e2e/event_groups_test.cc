// Online consumer groups with several members, end to end: the streams of
// one group split its events (each to one of them, none twice when all are
// acknowledged); an event a member holds without acknowledging it goes to
// another member after the visibility timeout although its stream stays
// open; with three members a record's events are processed one after
// another in the order they arrived; event name patterns bind and deliver
// every event they match.
#include <algorithm>
#include <atomic>
#include <chrono>
#include <map>
#include <memory>
#include <set>
#include <string>
#include <thread>
#include <vector>

#include <gtest/gtest.h>

#include "absl/synchronization/mutex.h"
#include "tests/e2e/event_helpers.h"

namespace b24gate::e2e::event_groups_test {
namespace {

using Member = GroupMember;

TEST(EventGroups, TwoMembersOfOneGroupSplitAThousandEventsNoneTwice) {
  constexpr size_t kEvents = 1000;
  auto stack = OnlineEventsStack();
  ASSERT_TRUE(stack);
  Member a(*stack, "billing", {kAdd}, /*ack=*/true);
  Member b(*stack, "billing", {kAdd}, /*ack=*/true);
  ASSERT_TRUE(BoundOnline(*stack, {{kAdd, 1}}));
  // The binding shows one member in, not both: one deal at a time, each
  // delivered before the next, until each member has had one (a member
  // that is in takes its turn); these count with the thousand.
  std::set<std::string> ids;
  ASSERT_TRUE(testing::WaitFor([&] {
    if (a.count() > 0 && b.count() > 0) return true;
    if (a.count() + b.count() == ids.size()) ids.insert(std::to_string(AddDeal(*stack, "first")));
    return false;
  }, 60)) << "a member never joined";
  const size_t total = ids.size() + kEvents;
  for (const std::string& id : AddDeals(*stack, kEvents, "g")) ids.insert(id);
  EXPECT_TRUE(testing::WaitFor([&] { return a.count() + b.count() >= total; }, 60))
      << a.count() << " + " << b.count();
  // Anything more would be a repeat: give it time to show.
  std::this_thread::sleep_for(std::chrono::milliseconds(500));
  std::map<std::string, int> by_id;
  std::set<std::string> records;
  for (Member* m : {&a, &b}) {
    EXPECT_GT(m->count(), 0u) << "each member has a share";
    for (const Member::Received& r : m->received()) {
      ++by_id[r.delivery_id];
      records.insert(r.record);
      EXPECT_EQ(r.attempt, 1) << r.delivery_id;
    }
  }
  EXPECT_EQ(a.count() + b.count(), total) << "none delivered twice";
  EXPECT_EQ(by_id.size(), total);
  EXPECT_EQ(records, ids);
  EXPECT_TRUE(testing::WaitFor([&] {
    return Metric(stack->gateway(), "b24gate_events_acknowledged_total{portal=\"main\"}") == total;
  }));
  EXPECT_EQ(Metric(stack->gateway(), "b24gate_events_redelivered_total{portal=\"main\"}"), 0);
}

TEST(EventGroups, AMemberThatStopsAcknowledgingHasItsEventsRedeliveredToAnotherAfterTheTimeout) {
  constexpr size_t kEvents = 5;
  OnlineEventsOptions options;
  options.gateway_args = {"--events-visibility-timeout", "5s"};
  auto stack = OnlineEventsStack(options);
  ASSERT_TRUE(stack);
  Member silent(*stack, "billing", {kAdd}, /*ack=*/false);
  ASSERT_TRUE(BoundOnline(*stack, {{kAdd, 1}}));
  AddDeals(*stack, kEvents, "g");
  ASSERT_TRUE(testing::WaitFor([&] { return silent.count() == kEvents; }));
  Member busy(*stack, "billing", {kAdd}, /*ack=*/true);
  ASSERT_TRUE(testing::WaitFor([&] { return busy.count() == kEvents; }, 60))
      << busy.count() << " of the silent member's events reached the other";
  // Times the silent member had each: once, or (when a slow machine let the
  // timeout pass before the other joined) once more per timeout alone.
  std::map<std::string, int> held;
  for (const Member::Received& r : silent.received()) ++held[r.delivery_id];
  ASSERT_EQ(held.size(), kEvents);
  std::map<std::string, int> redelivered;  // delivery id -> attempt
  for (const Member::Received& r : busy.received()) redelivered[r.delivery_id] = r.attempt;
  ASSERT_EQ(redelivered.size(), held.size()) << "each held event went to the other";
  for (const auto& [id, times] : held) {
    EXPECT_EQ(redelivered[id], times + 1) << id << ": every delivery counts";
  }
  EXPECT_TRUE(silent.running()) << "the silent member's stream stays open";
  const size_t silent_had = silent.count();
  EXPECT_TRUE(testing::WaitFor([&] {
    return Metric(stack->gateway(), "b24gate_events_acknowledged_total{portal=\"main\"}") == kEvents;
  }));
  EXPECT_EQ(silent.count(), silent_had) << "acknowledged by the other: not back to the silent one";
}

TEST(EventGroups, WithThreeMembersARecordsEventsAreProcessedOneAfterAnotherInOrder) {
  constexpr int kDeals = 20, kUpdates = 10;
  // One sender thread in the emulator: its posts arrive in the order of the
  // changes.
  auto stack = OnlineEventsStack();
  ASSERT_TRUE(stack);
  std::vector<std::unique_ptr<Member>> members;
  // One slow member: without the order per record, the fast ones would
  // overtake it on the records it holds.
  for (int hold_ms : {50, 2, 2}) {
    members.push_back(std::make_unique<Member>(*stack, "billing", std::vector<std::string>{kUpdate},
                                               /*ack=*/true, std::chrono::milliseconds(hold_ms)));
  }
  ASSERT_TRUE(BoundOnline(*stack, {{kUpdate, 1}}));
  std::vector<std::string> deals;
  for (int i = 0; i < kDeals; ++i) deals.push_back(std::to_string(AddDeal(*stack, "ordered")));
  // Round after round, every deal updated once per round, in one call: a
  // record's events arrive interleaved with the others', faster than the
  // members process them.
  std::vector<json> sets;
  for (int round = 0; round < kUpdates; ++round) {
    for (const std::string& id : deals) {
      sets.push_back({{"id", id}, {"fields", {{"TITLE", "round " + std::to_string(round)}}}});
    }
  }
  CallManyOut out = CallMany(*stack, "crm.deal.update", sets);
  ASSERT_TRUE(out.status.ok()) << out.status.error_message();
  auto total = [&] {
    size_t n = 0;
    for (auto& m : members) n += m->count();
    return n;
  };
  ASSERT_TRUE(testing::WaitFor([&] { return total() == static_cast<size_t>(kDeals * kUpdates); }, 60))
      << total();
  std::map<std::string, std::vector<Member::Received>> by_record;
  int busy_members = 0;
  for (auto& m : members) {
    busy_members += m->count() > 0 ? 1 : 0;
    for (const Member::Received& r : m->received()) by_record[r.record].push_back(r);
  }
  EXPECT_GE(busy_members, 2) << "the work was shared";
  ASSERT_EQ(by_record.size(), static_cast<size_t>(kDeals));
  for (auto& [record, got] : by_record) {
    ASSERT_EQ(got.size(), static_cast<size_t>(kUpdates)) << record;
    std::sort(got.begin(), got.end(),
              [](const auto& x, const auto& y) { return x.received_tick < y.received_tick; });
    for (size_t i = 1; i < got.size(); ++i) {
      const int64_t before = std::stoll(got[i - 1].delivery_id.substr(7));
      const int64_t after = std::stoll(got[i].delivery_id.substr(7));
      EXPECT_LT(before, after) << "record " << record << ": out of order";
      EXPECT_LT(got[i - 1].acked_tick, got[i].received_tick)
          << "record " << record << ": " << got[i].delivery_id << " went out before "
          << got[i - 1].delivery_id << " was acknowledged";
    }
  }
}

TEST(EventGroups, APatternBindsAndDeliversEveryEventItMatches) {
  auto stack = OnlineEventsStack();
  ASSERT_TRUE(stack);
  Member deals(*stack, "deals", {"ONCRMDEAL*"}, /*ack=*/true);
  ASSERT_TRUE(BoundOnline(*stack, {{"ONCRMDEALADD", 1}, {"ONCRMDEALUPDATE", 1}, {"ONCRMDEALDELETE", 1}}));
  json lead = stack->Rest("crm.lead.add", {{"fields", {{"TITLE", "not a deal"}}}});
  ASSERT_TRUE(lead.is_object() && lead.contains("result")) << lead.dump();
  const std::string id = std::to_string(AddDeal(*stack, "patterned"));
  CallOut updated = Call1(*stack, "crm.deal.update", {{"id", id}, {"fields", {{"TITLE", "again"}}}});
  ASSERT_TRUE(updated.status.ok()) << updated.status.error_message();
  ASSERT_TRUE(testing::WaitFor([&] { return deals.count() == 2; }));
  for (const Member::Received& r : deals.received()) EXPECT_EQ(r.record, id);

  Member nothing(*stack, "nothing", {"ONNOSUCHTHING*"}, /*ack=*/true);
  ASSERT_TRUE(testing::WaitFor([&] { return !nothing.running(); }));
  grpc::Status ended = nothing.Stop();
  EXPECT_EQ(ended.error_code(), grpc::StatusCode::INVALID_ARGUMENT);
  EXPECT_NE(ended.error_message().find("ONNOSUCHTHING*"), std::string::npos) << ended.error_message();
}

}  // namespace
}  // namespace b24gate::e2e::event_groups_test
