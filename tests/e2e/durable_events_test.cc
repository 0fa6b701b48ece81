// Online events kept in the gateway's on-disk log (--events-log), end to
// end: an event the inbound endpoint answered 200 survives a SIGKILL; two
// consumer groups each process every one of 10,000 writes exactly once; a
// gateway killed in the middle loses nothing and repeats only what was not
// acknowledged, and nothing acknowledged.
#include <csignal>
#include <future>
#include <map>
#include <memory>
#include <set>
#include <string>
#include <vector>

#include <gtest/gtest.h>
#include <httplib.h>

#include "tests/e2e/event_helpers.h"

namespace b24gate::e2e::durable_events_test {
namespace {

std::shared_ptr<grpc::Channel> ChannelTo(Process& gateway) {
  return grpc::CreateChannel(gateway.address(), grpc::InsecureChannelCredentials());
}

// What one member of a consumer group saw.
struct Tally {
  std::map<std::string, int> deliveries;  // by record
  std::map<std::string, int> by_delivery_id;
  std::set<std::string> acked;            // records
  grpc::Status ended;
};

// Reads until `stop_after` deliveries, acknowledging each of the first
// `ack_limit`; then ends its side of the stream, so the gateway has taken
// every acknowledgement sent when this returns (the rest stays
// unacknowledged).
Tally Consume(std::shared_ptr<grpc::Channel> channel, const std::string& group, size_t stop_after,
              size_t ack_limit) {
  Tally t;
  Subscriber sub(channel, group, {kAdd}, "", pb::EVENT_SOURCE_ONLINE);
  for (size_t seen = 0; seen < stop_after; ++seen) {
    std::optional<pb::QueuedEvent> e = sub.Next();
    if (!e) break;
    ++t.deliveries[e->record_id()];
    ++t.by_delivery_id[e->delivery_id()];
    if (t.acked.size() < ack_limit && sub.Ack({e->delivery_id()})) t.acked.insert(e->record_id());
  }
  t.ended = sub.Finish();
  return t;
}

// Makes the groups known to the gateway (their first stream), so every
// event from now on is kept for them. Each stream is ended from our side and
// its OK awaited: the gateway reads the half-close only after the start, so
// the group is known when Finish returns (a cancel could overtake the start,
// and the group would miss the first events).
void Register(Stack& stack, const std::vector<std::string>& groups) {
  for (const std::string& g : groups) {
    Subscriber sub(stack.channel(), g, {kAdd}, "", pb::EVENT_SOURCE_ONLINE);
    ASSERT_TRUE(BoundOnline(stack, {{kAdd, 1}}));
    grpc::Status ended = sub.Finish();
    ASSERT_TRUE(ended.ok()) << g << ": " << ended.error_message();
  }
}

double Acknowledged(Process& gateway) {
  return Metric(gateway, "b24gate_events_acknowledged_total{portal=\"main\"}");
}

TEST(DurableEvents, AnEventAnswered200SurvivesASigkill) {
  auto stack = OnlineEventsStack();
  ASSERT_TRUE(stack);
  Register(*stack, {"billing"});
  httplib::Client client("http://" + PrintedAddress(stack->gateway(), "events"));
  httplib::Result res = client.Post(
      "/events/main",
      "event=ONCRMDEALADD&event_handler_id=1&data%5BFIELDS%5D%5BID%5D=4242&ts=1700000000"
      "&auth%5Bmember_id%5D=m&auth%5Bapplication_token%5D=" + std::string(kApplicationToken),
      "application/x-www-form-urlencoded");
  ASSERT_TRUE(res);
  ASSERT_EQ(res->status, 200);
  ASSERT_EQ(stack->gateway().StopWith(SIGKILL), 128 + SIGKILL);
  absl::StatusOr<std::unique_ptr<Process>> replica = stack->StartReplica();
  ASSERT_TRUE(replica.ok()) << replica.status();
  Subscriber after(ChannelTo(**replica), "billing", {kAdd}, "", pb::EVENT_SOURCE_ONLINE);
  std::optional<pb::QueuedEvent> e = after.Next();
  ASSERT_TRUE(e);
  EXPECT_EQ(e->record_id(), "4242");
  EXPECT_EQ(e->delivery_id(), "online-1") << "the same id as before the restart";
  ASSERT_TRUE(after.Ack({e->delivery_id()}));
}

TEST(DurableEvents, TwoGroupsEachProcessEveryOneOfTenThousandWritesOnce) {
  constexpr int kWrites = 10000;
  OnlineEventsOptions options;
  options.event_senders = 8;
  auto stack = OnlineEventsStack(options);
  ASSERT_TRUE(stack);
  Register(*stack, {"billing", "search"});
  auto billing = std::async(std::launch::async, Consume, stack->channel(), "billing", kWrites, kWrites);
  auto search = std::async(std::launch::async, Consume, stack->channel(), "search", kWrites, kWrites);
  const std::set<std::string> ids = AddDeals(*stack, kWrites, "d");
  for (auto* group : {&billing, &search}) {
    Tally t = group->get();
      EXPECT_EQ(t.deliveries.size(), ids.size()) << "every record, once";
    EXPECT_EQ(t.by_delivery_id.size(), static_cast<size_t>(kWrites)) << "every delivery id once";
    std::set<std::string> records;
    for (const auto& [record, n] : t.deliveries) {
      EXPECT_EQ(n, 1) << record;
      records.insert(record);
    }
    EXPECT_EQ(records, ids);
  }
  EXPECT_TRUE(testing::WaitFor([&] { return Acknowledged(stack->gateway()) == 2 * kWrites; }));
  EXPECT_EQ(Metric(stack->gateway(), "b24gate_events_redelivered_total{portal=\"main\"}"), 0);
}

TEST(DurableEvents, AGatewayKilledInTheMiddleLosesNothingAndRepeatsOnlyTheUnacknowledged) {
  constexpr int kBefore = 500, kAfter = 500, kBillingAcks = 200, kWindow = 50;
  OnlineEventsOptions options;
  options.event_senders = 4;
  auto stack = OnlineEventsStack(options);
  ASSERT_TRUE(stack);
  Register(*stack, {"billing", "search"});
  std::set<std::string> ids = AddDeals(*stack, kBefore, "before");
  // search acknowledges everything; billing 200, then holds its window.
  Tally search1 = Consume(stack->channel(), "search", kBefore, kBefore);
  Tally billing1 = Consume(stack->channel(), "billing", kBillingAcks + kWindow, kBillingAcks);
  ASSERT_EQ(search1.acked.size(), static_cast<size_t>(kBefore));
  ASSERT_EQ(billing1.acked.size(), static_cast<size_t>(kBillingAcks));
  // Counted once on disk: then the kill cannot undo them.
  ASSERT_TRUE(testing::WaitFor([&] { return Acknowledged(stack->gateway()) == kBefore + kBillingAcks; }))
      << Acknowledged(stack->gateway());
  ASSERT_EQ(stack->gateway().StopWith(SIGKILL), 128 + SIGKILL);

  absl::StatusOr<std::unique_ptr<Process>> replica = stack->StartReplica();
  ASSERT_TRUE(replica.ok()) << replica.status();
  // The new endpoint is bound by the groups' next streams (the old one's
  // binding stays; the emulator's posts to it are refused).
  auto search2 = std::async(std::launch::async, Consume, ChannelTo(**replica), "search", kAfter, kAfter);
  auto billing2 = std::async(std::launch::async, Consume, ChannelTo(**replica), "billing",
                             kBefore - kBillingAcks + kAfter, kBefore + kAfter);
  ASSERT_TRUE(BoundOnline(*stack, {{kAdd, 2}}));
  // Straight to the portal: the stack's stub still names the killed process.
  for (int i = 0; i < kAfter; ++i) {
    json added = stack->Rest("crm.deal.add", {{"fields", {{"TITLE", "after" + std::to_string(i)}}}});
    ASSERT_TRUE(added.is_object() && added.contains("result")) << added.dump();
    ids.insert(added["result"].dump());
  }

  Tally search = search2.get();
  Tally billing = billing2.get();
  for (const auto& [record, n] : search.deliveries) {
    EXPECT_EQ(search1.acked.count(record), 0u) << record << ": acknowledged before the kill, repeated";
  }
  for (const auto& [record, n] : billing.deliveries) {
    EXPECT_EQ(billing1.acked.count(record), 0u) << record << ": acknowledged before the kill, repeated";
    EXPECT_EQ(n, 1) << record;
  }
  std::set<std::string> search_all = search1.acked, billing_all = billing1.acked;
  for (const auto& [record, n] : search.deliveries) search_all.insert(record);
  for (const auto& [record, n] : billing.deliveries) billing_all.insert(record);
  EXPECT_EQ(search_all, ids) << "nothing lost for search";
  EXPECT_EQ(billing_all, ids) << "nothing lost for billing";
}

}  // namespace
}  // namespace b24gate::e2e::durable_events_test
