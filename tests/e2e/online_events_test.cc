// Online events end to end: the gateway's inbound endpoint (--events-listen)
// is bound as the handler of the events an online Subscribe stream names;
// the emulator posts each change to it a little later, as Bitrix24 does; the
// gateway checks auth[application_token] and delivers the event to every
// consumer group that named it. Forged and broken posts are refused and
// counted, never delivered; a post sent while the gateway is down is lost
// (Bitrix24 does not queue online events: the offline source is the no-loss
// one).
#include <csignal>
#include <memory>
#include <set>
#include <string>
#include <thread>
#include <vector>

#include <gtest/gtest.h>
#include <httplib.h>

#include "tests/e2e/event_helpers.h"

namespace b24gate::e2e::online_events_test {
namespace {

Subscriber Online(Stack& stack, const std::string& consumer) {
  return Subscriber(stack.channel(), consumer, {kAdd}, "", pb::EVENT_SOURCE_ONLINE);
}

// A post to the gateway's inbound endpoint as anybody on the internet could.
int PostToGateway(Stack& stack, const std::string& path, const std::string& form) {
  httplib::Client client("http://" + PrintedAddress(stack.gateway(), "events"));
  httplib::Result res = client.Post(path, form, "application/x-www-form-urlencoded");
  return res ? res->status : -1;
}

std::string EventForm(const std::string& id, const std::string& token) {
  return "event=ONCRMDEALADD&event_handler_id=1&data%5BFIELDS%5D%5BID%5D=" + id +
         "&ts=1700000000&auth%5Bdomain%5D=b24-emulator.test&auth%5Bmember_id%5D=m"
         "&auth%5Bapplication_token%5D=" + token;
}

TEST(OnlineEvents, EachConsumerGroupReceivesEveryEventOnce) {
  auto stack = OnlineEventsStack();
  ASSERT_TRUE(stack);
  Subscriber billing = Online(*stack, "billing");
  ASSERT_TRUE(BoundOnline(*stack, {{kAdd, 1}}));
  // The binding proves only billing's start was read: search-index's could
  // still be on its way when the first events come in, and it would miss
  // them. Known first, it gets every event however late its stream starts.
  ASSERT_TRUE(Introduce(stack->channel(), "search-index").ok());
  Subscriber search = Online(*stack, "search-index");
  ASSERT_TRUE(BoundOnline(*stack, {{kAdd, 1}})) << "one binding, shared by both groups";
  std::set<std::string> added;
  for (int i = 0; i < 5; ++i) added.insert(std::to_string(AddDeal(*stack, "online " + std::to_string(i))));
  for (Subscriber* sub : {&billing, &search}) {
    std::vector<pb::QueuedEvent> got = sub->Take(5);
    ASSERT_EQ(got.size(), 5u);
    std::set<std::string> records;
    for (const pb::QueuedEvent& e : got) {
      EXPECT_EQ(e.event(), kAdd);
      EXPECT_EQ(e.portal(), "main");
      EXPECT_EQ(e.attempt(), 1);
      records.insert(e.record_id());
    }
    EXPECT_EQ(records, added);
    ASSERT_TRUE(sub->Ack(IdsOf(got)));
  }
  EXPECT_EQ(Metric(stack->gateway(), "b24gate_events_received_total{portal=\"main\"}"), 5);
  EXPECT_TRUE(testing::WaitFor([&] {
    return Metric(stack->gateway(), "b24gate_events_acknowledged_total{portal=\"main\"}") == 10;
  }));
}

TEST(OnlineEvents, WhatAStreamDidNotAcknowledgeGoesToTheConsumersNextStream) {
  auto stack = OnlineEventsStack();
  ASSERT_TRUE(stack);
  std::string first_id;
  std::string record;
  {
    Subscriber sub = Online(*stack, "billing");
    ASSERT_TRUE(BoundOnline(*stack, {{kAdd, 1}}));
    record = std::to_string(AddDeal(*stack, "unacknowledged"));
    std::optional<pb::QueuedEvent> e = sub.Next();
    ASSERT_TRUE(e);
    first_id = e->delivery_id();
    sub.Drop();
  }
  Subscriber again = Online(*stack, "billing");
  std::optional<pb::QueuedEvent> e = again.Next();
  ASSERT_TRUE(e);
  EXPECT_EQ(e->delivery_id(), first_id);
  EXPECT_EQ(e->record_id(), record);
  EXPECT_EQ(e->attempt(), 2);
  ASSERT_TRUE(again.Ack({e->delivery_id()}));
}

TEST(OnlineEvents, ForgedAndBrokenPostsAreRefusedCountedAndNeverDelivered) {
  auto stack = OnlineEventsStack();
  ASSERT_TRUE(stack);
  Subscriber sub = Online(*stack, "billing");
  ASSERT_TRUE(BoundOnline(*stack, {{kAdd, 1}}));
  EXPECT_EQ(PostToGateway(*stack, "/events/main", EventForm("900001", "forged-token")), 403);
  EXPECT_EQ(PostToGateway(*stack, "/events/main", EventForm("900002", "")), 403);
  EXPECT_EQ(PostToGateway(*stack, "/events/nosuchportal", EventForm("900003", kApplicationToken)), 404);
  EXPECT_EQ(PostToGateway(*stack, "/events/main", "event=ONCRMDEALADD&data%ZZ=1"), 400);
  EXPECT_EQ(PostToGateway(*stack, "/events/main", "event=" + std::string(70, 'A')), 400);
  const std::string deep = "event=ONCRMDEALADD&data" + std::string(10, '[') + "]=1&auth%5Bapplication_token%5D=";
  EXPECT_EQ(PostToGateway(*stack, "/events/main", deep + kApplicationToken), 400);
  const std::string huge = EventForm(std::string(70000, '1'), kApplicationToken);
  EXPECT_EQ(PostToGateway(*stack, "/events/main", huge), 413);
  // The first event the consumer receives is the genuine one after them.
  const std::string record = std::to_string(AddDeal(*stack, "genuine"));
  std::optional<pb::QueuedEvent> e = sub.Next();
  ASSERT_TRUE(e);
  EXPECT_EQ(e->record_id(), record);
  ASSERT_TRUE(sub.Ack({e->delivery_id()}));
  Process& gw = stack->gateway();
  EXPECT_EQ(Metric(gw, "b24gate_events_refused_total{reason=\"bad_token\"}"), 2);
  EXPECT_EQ(Metric(gw, "b24gate_events_refused_total{reason=\"unknown_portal\"}"), 1);
  EXPECT_EQ(Metric(gw, "b24gate_events_refused_total{reason=\"malformed\"}"), 3);
  EXPECT_EQ(Metric(gw, "b24gate_events_refused_total{reason=\"too_large\"}"), 1);
  EXPECT_EQ(Metric(gw, "b24gate_events_received_total{portal=\"main\"}"), 1);
}

TEST(OnlineEvents, AnEventPostedWhileTheGatewayIsDownIsLost) {
  auto stack = OnlineEventsStack();
  ASSERT_TRUE(stack);
  {
    Subscriber sub = Online(*stack, "billing");
    ASSERT_TRUE(BoundOnline(*stack, {{kAdd, 1}}));
    ASSERT_EQ(stack->gateway().StopWith(SIGKILL), 128 + SIGKILL);
  }
  json lost = stack->Rest("crm.deal.add", {{"fields", {{"TITLE", "while down"}}}});
  ASSERT_TRUE(lost.is_object() && lost.contains("result")) << lost.dump();
  // The emulator posts at once after the change; nobody is listening then.
  std::this_thread::sleep_for(std::chrono::seconds(1));
  absl::StatusOr<std::unique_ptr<Process>> replica = stack->StartReplica();
  ASSERT_TRUE(replica.ok()) << replica.status();
  Subscriber after(grpc::CreateChannel((*replica)->address(), grpc::InsecureChannelCredentials()),
                   "billing", {kAdd}, "", pb::EVENT_SOURCE_ONLINE);
  ASSERT_TRUE(BoundOnline(*stack, {{kAdd, 2}})) << "the new gateway's endpoint is bound too";
  json added = stack->Rest("crm.deal.add", {{"fields", {{"TITLE", "after the restart"}}}});
  ASSERT_TRUE(added.is_object() && added.contains("result")) << added.dump();
  const std::string record = added["result"].dump();
  std::optional<pb::QueuedEvent> e = after.Next();
  ASSERT_TRUE(e);
  EXPECT_EQ(e->record_id(), record) << "the deal written while the gateway was down never arrives";
  ASSERT_TRUE(after.Ack({e->delivery_id()}));
}

TEST(OnlineEvents, OnOfflineEventMakesAnOfflineStreamReadAtOnce) {
  // An empty queue would be read again only after an hour: the event can
  // arrive in time only because the portal's ONOFFLINEEVENT says so.
  OnlineEventsOptions options;
  options.gateway_args = {"--events-poll-interval", "1h"};
  auto stack = OnlineEventsStack(options);
  ASSERT_TRUE(stack);
  Subscriber sub(stack->channel(), "crm-sync");
  ASSERT_TRUE(BoundOnline(*stack, {{"ONOFFLINEEVENT", 1}}));
  ASSERT_TRUE(testing::WaitFor([&] {
    for (const json& c : stack->EmulatorCommands()) {
      if (c.value("method", "") == "event.offline.get") return true;
    }
    return false;
  })) << "the stream has read the empty queue and waits";
  const std::string record = std::to_string(AddDeal(*stack, "queued"));
  std::optional<pb::QueuedEvent> e = sub.Next();
  ASSERT_TRUE(e) << "not read before the stream's deadline";
  EXPECT_EQ(e->record_id(), record);
  ASSERT_TRUE(sub.Ack({e->delivery_id()}));
  EXPECT_EQ(Metric(stack->gateway(), "b24gate_events_received_total{portal=\"main\"}"), 1);
}

TEST(OnlineEvents, AnOnlineStreamNeedsTheInboundEndpoint) {
  auto stack = Up();
  ASSERT_TRUE(stack);
  Subscriber sub = Online(*stack, "billing");
  EXPECT_FALSE(sub.Next());
  grpc::Status status = sub.Finish();
  EXPECT_EQ(status.error_code(), grpc::StatusCode::FAILED_PRECONDITION);
  EXPECT_NE(status.error_message().find("--events-listen"), std::string::npos) << status.error_message();
}

}  // namespace
}  // namespace b24gate::e2e::online_events_test
