// Offline events in Redis Streams (--redis), end to end: two gateway
// replicas both read the portal's offline queue (with the one process id
// every replica uses, so both read the same rows while the portal refuses
// their clears) into the same Redis streams. A group with a member on each
// replica and a group on one replica each get every row exactly once: a row
// read by both replicas is stored once, and any replica serves any member.
#include <algorithm>
#include <cstdio>
#include <chrono>
#include <map>
#include <memory>
#include <set>
#include <string>
#include <thread>
#include <utility>
#include <vector>

#include <gtest/gtest.h>

#include "tests/e2e/event_helpers.h"
#include "tests/support/redis_server.h"
#include "tests/support/temp_file.h"

namespace b24gate::e2e::redis_offline_test {
namespace {

using Received = GroupMember::Received;

constexpr char kReceived[] = "b24gate_events_received_total{portal=\"main\",source=\"offline\"}";

TEST(RedisOffline, TwoReplicasReadTheQueueAndEachGroupGetsEveryRowOnce) {
  constexpr int kDeals = 150;
  absl::StatusOr<std::unique_ptr<testing::RedisServer>> redis = testing::RedisServer::Start(testing::TempDir());
  ASSERT_TRUE(redis.ok()) << redis.status();
  EmulatorSpec emulator;
  emulator.extra_args = {"--no-limits", "--cost-zero"};
  GatewaySpec gateway;
  gateway.portal = {{"burst", 1000}, {"drain_per_second", 1000}};
  gateway.extra_args = {"--redis", (*redis)->url(), "--replicas", "2", "--events-poll-interval", "100ms",
                        "--metrics-listen", "127.0.0.1:0"};
  auto stack = Up(emulator, gateway);
  ASSERT_TRUE(stack);
  absl::StatusOr<std::unique_ptr<Process>> second = stack->StartReplica();
  ASSERT_TRUE(second.ok()) << second.status();
  auto there = grpc::CreateChannel((*second)->address(), grpc::InsecureChannelCredentials());
  const std::vector<std::string> events = {kAdd, kUpdate};
  const auto offline = pb::EVENT_SOURCE_UNSPECIFIED;
  GroupMember here1(stack->channel(), "billing", events, true, std::chrono::milliseconds(0), offline);
  GroupMember there1(there, "billing", events, true, std::chrono::milliseconds(0), offline);
  GroupMember audit(there, "audit", events, true, std::chrono::milliseconds(0), offline);
  ASSERT_TRUE(Bound(*stack, events));
  // While the portal refuses every clear, both replicas read the same rows
  // (marked for the one process id) again and again, and store them.
  stack->SetFaults("502=1,method=event.offline.clear");
  std::set<std::string> deals = AddDeals(*stack, kDeals, "r");
  std::vector<json> sets;
  for (const std::string& id : deals) sets.push_back({{"id", std::stoll(id)}, {"fields", {{"TITLE", "u"}}}});
  ASSERT_TRUE(CallMany(*stack, "crm.deal.update", sets).status.ok());
  std::this_thread::sleep_for(std::chrono::seconds(2));
  stack->SetFaults("none");

  // Rows each replica stored (-1, absent, before its first).
  auto received = [](Process& p) { return std::max(0.0, Metric(p, kReceived)); };
  auto stored = [&] { return received(stack->gateway()) + received(**second); };
  auto acked = [](const std::vector<Received>& group) {
    std::set<std::string> ids;
    for (const Received& r : group) {
      if (r.acked_tick != 0) ids.insert(r.delivery_id);
    }
    return ids.size();
  };
  // Every row stored (by either replica) reached both groups.
  ASSERT_TRUE(testing::WaitFor([&] {
    if (QueueLength(*stack) != 0) return false;
    const double n = stored();
    return n > 0 && acked(All({&here1, &there1})) == n && acked(audit.received()) == n;
  }, 120)) << "billing " << All({&here1, &there1}).size() << ", audit " << audit.count() << ", stored "
           << stored() << ", queue " << QueueLength(*stack);
  std::this_thread::sleep_for(std::chrono::milliseconds(500));  // a repeat would show by now

  const std::set<std::string> billed = ExpectEachOnce(All({&here1, &there1}), "billing");
  const std::set<std::string> audited = ExpectEachOnce(audit.received(), "audit");
  EXPECT_EQ(billed, audited);
  // Each deal made one add row and one update row (different events are
  // never merged): each reached each group once, not once per replica.
  for (auto [name, group] : {std::pair{"billing", All({&here1, &there1})}, std::pair{"audit", audit.received()}}) {
    std::map<std::pair<std::string, std::string>, int> rows;  // (record, event) -> deliveries
    for (const Received& r : group) ++rows[{r.record, r.event}];
    EXPECT_EQ(rows.size(), 2 * deals.size()) << name;
    for (const auto& [row, n] : rows) EXPECT_EQ(n, 1) << name << ": " << row.second << " of " << row.first;
  }
  EXPECT_EQ(stored(), 2.0 * kDeals) << "each row stored once, by one replica or the other";
  std::printf("%zu rows; stored by the replicas %g and %g; billing %zu here, %zu there\n", billed.size(),
              received(stack->gateway()), received(**second), here1.count(), there1.count());
}

}  // namespace
}  // namespace b24gate::e2e::redis_offline_test
