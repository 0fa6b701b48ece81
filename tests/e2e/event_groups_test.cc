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
#include "tests/support/temp_file.h"

namespace b24gate::e2e::event_groups_test {
namespace {

constexpr char kToken[] = "e2e-groups-token-3d1e";

// One sender thread in the emulator: its posts arrive in the order of the
// changes.
std::unique_ptr<Stack> GroupStack(const std::string& visibility_timeout = "5m") {
  EmulatorSpec emulator;
  emulator.extra_args = {"--no-limits", "--cost-zero", "--application-token", kToken,
                         "--event-delay", "0"};
  GatewaySpec gateway;
  gateway.portal = {{"application_token", kToken}, {"burst", 1000}, {"drain_per_second", 1000}};
  gateway.extra_args = {"--events-listen", "127.0.0.1:0", "--events-log", testing::TempDir(),
                        "--metrics-listen", "127.0.0.1:0",
                        "--events-visibility-timeout", visibility_timeout};
  return Up(emulator, gateway);
}

// Waits until the portal has an online binding of each of `events` to the gateway.
bool BoundOnline(Stack& stack, const std::set<std::string>& events) {
  return testing::WaitFor([&] {
    json bound = stack.Rest("event.get", json::object());
    if (!bound.is_object() || !bound["result"].is_array()) return false;
    std::set<std::string> found;
    for (const json& b : bound["result"]) {
      if (b.value("handler", "").find("/events/main") != std::string::npos) found.insert(b.value("event", ""));
    }
    return found == events;
  });
}

using Member = GroupMember;

TEST(EventGroups, TwoMembersOfOneGroupSplitAThousandEventsNoneTwice) {
  constexpr size_t kEvents = 1000;
  auto stack = GroupStack();
  ASSERT_TRUE(stack);
  Member a(*stack, "billing", {kAdd}, /*ack=*/true);
  Member b(*stack, "billing", {kAdd}, /*ack=*/true);
  ASSERT_TRUE(BoundOnline(*stack, {kAdd}));
  const std::set<std::string> ids = AddDeals(*stack, kEvents, "g");
  EXPECT_TRUE(testing::WaitFor([&] { return a.count() + b.count() >= kEvents; }, 60))
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
  EXPECT_EQ(a.count() + b.count(), kEvents) << "none delivered twice";
  EXPECT_EQ(by_id.size(), kEvents);
  EXPECT_EQ(records, ids);
  EXPECT_TRUE(testing::WaitFor([&] {
    return Metric(stack->gateway(), "b24gate_events_acknowledged_total{portal=\"main\"}") == kEvents;
  }));
  EXPECT_EQ(Metric(stack->gateway(), "b24gate_events_redelivered_total{portal=\"main\"}"), 0);
}

TEST(EventGroups, AMemberThatStopsAcknowledgingHasItsEventsRedeliveredToAnotherAfterTheTimeout) {
  constexpr size_t kEvents = 5;
  auto stack = GroupStack(/*visibility_timeout=*/"5s");
  ASSERT_TRUE(stack);
  Member silent(*stack, "billing", {kAdd}, /*ack=*/false);
  ASSERT_TRUE(BoundOnline(*stack, {kAdd}));
  AddDeals(*stack, kEvents, "g");
  ASSERT_TRUE(testing::WaitFor([&] { return silent.count() == kEvents; }));
  Member busy(*stack, "billing", {kAdd}, /*ack=*/true);
  ASSERT_TRUE(testing::WaitFor([&] { return busy.count() == kEvents; }, 30))
      << busy.count() << " of the silent member's events reached the other";
  std::set<std::string> held, redelivered;
  for (const Member::Received& r : silent.received()) held.insert(r.delivery_id);
  for (const Member::Received& r : busy.received()) {
    redelivered.insert(r.delivery_id);
    EXPECT_EQ(r.attempt, 2) << r.delivery_id;
  }
  EXPECT_EQ(redelivered, held);
  EXPECT_TRUE(silent.running()) << "the silent member's stream stays open";
  EXPECT_TRUE(testing::WaitFor([&] {
    return Metric(stack->gateway(), "b24gate_events_acknowledged_total{portal=\"main\"}") == kEvents;
  }));
  EXPECT_EQ(silent.count(), kEvents) << "acknowledged by the other: not back to the silent one";
}

TEST(EventGroups, WithThreeMembersARecordsEventsAreProcessedOneAfterAnotherInOrder) {
  constexpr int kDeals = 20, kUpdates = 10;
  auto stack = GroupStack();
  ASSERT_TRUE(stack);
  std::vector<std::unique_ptr<Member>> members;
  // One slow member: without the order per record, the fast ones would
  // overtake it on the records it holds.
  for (int hold_ms : {50, 2, 2}) {
    members.push_back(std::make_unique<Member>(*stack, "billing", std::vector<std::string>{kUpdate},
                                               /*ack=*/true, std::chrono::milliseconds(hold_ms)));
  }
  ASSERT_TRUE(BoundOnline(*stack, {kUpdate}));
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
  auto stack = GroupStack();
  ASSERT_TRUE(stack);
  Member deals(*stack, "deals", {"ONCRMDEAL*"}, /*ack=*/true);
  ASSERT_TRUE(BoundOnline(*stack, {"ONCRMDEALADD", "ONCRMDEALUPDATE", "ONCRMDEALDELETE"}));
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
