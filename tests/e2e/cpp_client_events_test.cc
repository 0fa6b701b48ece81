// End-to-end test of the C++ subscribe helper (clients/cpp/b24gate/events.h)
// against a real b24gate and b24-emulator: deals added through the gateway
// reach the callback; the events it acknowledged never come again on the
// consumer's next stream; Stop works from another thread and from the
// callback.
#include <chrono>
#include <mutex>
#include <set>
#include <string>
#include <thread>
#include <vector>

#include <gtest/gtest.h>

#include "clients/cpp/b24gate/client.h"
#include "clients/cpp/b24gate/events.h"
#include "tests/e2e/harness.h"
#include "tests/support/wait_for.h"

namespace b24gate::e2e::cpp_client_events_test {
namespace {

using client::Params;

// The row ids still in the emulator's offline queue.
std::set<std::string> Queued(Stack& stack) {
  std::set<std::string> ids;
  nlohmann::json list = stack.Rest("event.offline.list", nlohmann::json::object());
  if (!list.is_object() || !list["result"].is_array()) return {"?"};
  for (const auto& row : list["result"]) {
    ids.insert(row["ID"].is_string() ? row["ID"].get<std::string>() : row["ID"].dump());
  }
  return ids;
}

bool Bound(Stack& stack) {
  nlohmann::json bound = stack.Rest("event.get", nlohmann::json::object());
  if (!bound.is_object() || !bound["result"].is_array()) return false;
  for (const auto& b : bound["result"]) {
    if (b["event"] == "ONCRMDEALADD") return true;
  }
  return false;
}

std::string AddDeal(client::Gateway& gw, const std::string& title) {
  auto id = gw.Call("crm.deal.add", Params{{"fields", {{"TITLE", title}}}});
  EXPECT_TRUE(id.ok()) << id.error().description;
  return id.ok() ? id.value().dump() : "";
}

TEST(CppClientEvents, AcknowledgedEventsAreNeverDeliveredAgain) {
  EmulatorSpec emulator;
  emulator.extra_args = {"--no-limits"};
  GatewaySpec gateway;
  gateway.extra_args = {"--events-poll-interval", "100ms"};
  auto stack = Up(emulator, gateway);
  ASSERT_TRUE(stack);
  auto channel = client::MakeChannel(stack->gateway().address());
  client::Gateway gw(channel);
  const client::SubscribeOptions within_a_minute{"", {}, std::chrono::seconds(60)};

  // The first stream, stopped from this thread once the deals' events came.
  client::Subscription first(channel, {}, "cpp-client", {"ONCRMDEALADD"}, within_a_minute);
  std::mutex mu;
  std::vector<client::Event> got;
  client::Outcome<int64_t> first_acked = int64_t{-1};
  std::thread runner([&] {
    first_acked = first.Run([&](const client::Event& e) {
      std::lock_guard<std::mutex> lock(mu);
      got.push_back(e);
      return true;
    });
  });
  ASSERT_TRUE(testing::WaitFor([&] { return Bound(*stack); }));
  std::vector<std::string> ids;
  for (int i = 0; i < 3; ++i) ids.push_back(AddDeal(gw, "cpp " + std::to_string(i)));
  EXPECT_TRUE(testing::WaitFor([&] {
    std::lock_guard<std::mutex> lock(mu);
    return got.size() == 3;
  }));
  std::set<std::string> acked;
  {
    std::lock_guard<std::mutex> lock(mu);
    for (size_t i = 0; i < got.size(); ++i) {
      EXPECT_EQ(got[i].record_id, ids[i]);  // one event per record, in queue order
      EXPECT_EQ(got[i].event, "ONCRMDEALADD");
      EXPECT_EQ(got[i].data["FIELDS"]["ID"].dump(), ids[i]);
      EXPECT_EQ(got[i].attempt, 1);
      acked.insert(got[i].delivery_id);
    }
  }
  EXPECT_TRUE(testing::WaitFor([&] { return Queued(*stack).empty(); }))
      << "the gateway's events log took the rows off the portal's queue";
  first.Stop();
  runner.join();
  ASSERT_TRUE(first_acked.ok()) << first_acked.error().description;
  EXPECT_EQ(first_acked.value(), 3);

  // The next stream of the consumer, stopped from its callback at the first
  // event: the new deal's, since nothing acknowledged comes again.
  client::Subscription again(channel, {}, "cpp-client", {"ONCRMDEALADD"}, within_a_minute);
  std::vector<client::Event> later;
  std::string new_id;
  std::thread adder([&] { new_id = AddDeal(gw, "cpp later"); });
  auto again_acked = again.Run([&](const client::Event& e) {
    later.push_back(e);
    again.Stop();
    return true;
  });
  adder.join();
  ASSERT_TRUE(again_acked.ok()) << again_acked.error().description;
  ASSERT_EQ(later.size(), 1u);
  EXPECT_EQ(later[0].record_id, new_id);
  EXPECT_EQ(later[0].attempt, 1);
  EXPECT_EQ(again_acked.value(), 1);
  EXPECT_TRUE(testing::WaitFor([&] { return Queued(*stack).empty(); }));
}

}  // namespace
}  // namespace b24gate::e2e::cpp_client_events_test
