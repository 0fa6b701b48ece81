// EventService.Subscribe end to end: deals written through the gateway reach
// a subscriber from the emulator's offline queue (through the gateway's
// events log, which takes the rows off the queue); what is not acknowledged
// comes back on the next stream (after a disconnect or a gateway killed with
// SIGKILL), what is acknowledged never does; events of one record arrive in
// order; bad requests are refused naming the field.
#include <sys/wait.h>
#include <unistd.h>

#include <csignal>
#include <algorithm>
#include <chrono>
#include <map>
#include <memory>
#include <optional>
#include <set>
#include <string>
#include <vector>

#include <gtest/gtest.h>

#include "bitrix24/gateway/v1/events.grpc.pb.h"
#include "tests/e2e/binaries.h"
#include "tests/e2e/event_helpers.h"

namespace b24gate::e2e::events_test {
namespace {


// A gateway that reads an empty queue again after 100 ms, with /metrics.
GatewaySpec FastPolls() {
  GatewaySpec spec;
  spec.extra_args = {"--events-poll-interval", "100ms", "--metrics-listen", "127.0.0.1:0"};
  return spec;
}

// The stack of these tests: an emulator that answers at once.
std::unique_ptr<Stack> EventStack() {
  EmulatorSpec emulator;
  emulator.extra_args = {"--no-limits", "--cost-zero"};
  return Up(emulator, FastPolls());
}

// The acknowledgements the gateway has made durable.
double Acknowledged(Process& gateway) {
  return Metric(gateway, "b24gate_events_acknowledged_total{portal=\"main\"}");
}

void UpdateDeal(Stack& stack, int64_t id, const std::string& title,
                const std::string& auth_connector = "") {
  json params = {{"id", id}, {"fields", {{"TITLE", title}}}};
  if (!auth_connector.empty()) params["auth_connector"] = auth_connector;
  CallOut out = Call1(stack, "crm.deal.update", params);
  EXPECT_TRUE(out.status.ok()) << out.status.error_message();
}

TEST(Events, ADealAddedThroughTheGatewayReachesTheSubscriber) {
  auto stack = EventStack();
  ASSERT_TRUE(stack);
  Subscriber sub(stack->channel(), "crm-sync");
  ASSERT_TRUE(Bound(*stack, {kAdd, kUpdate}));
  const int64_t id = AddDeal(*stack, "first");
  std::optional<pb::QueuedEvent> e = sub.Next();
  ASSERT_TRUE(e);
  EXPECT_EQ(e->event(), kAdd);
  EXPECT_EQ(e->record_id(), std::to_string(id));
  EXPECT_EQ(e->attempt(), 1);
  EXPECT_EQ(e->portal(), "main");
  EXPECT_EQ(J(e->data())["FIELDS"]["ID"], id);
  ASSERT_TRUE(sub.Ack({e->delivery_id()}));
  EXPECT_TRUE(testing::WaitFor([&] { return QueueLength(*stack) == 0; }))
      << "stored: cleared from the portal's queue";
}

TEST(Events, WhatWasNotAcknowledgedComesBackOnceAndWhatWasNeverDoes) {
  auto stack = EventStack();
  ASSERT_TRUE(stack);
  std::vector<pb::QueuedEvent> first;
  {
    Subscriber sub(stack->channel(), "crm-sync");
    ASSERT_TRUE(Bound(*stack, {kAdd, kUpdate}));
    for (int i = 0; i < 3; ++i) AddDeal(*stack, "d" + std::to_string(i));
    first = sub.Take(3);
    ASSERT_EQ(first.size(), 3u);
    ASSERT_TRUE(sub.Ack({first[0].delivery_id()}));
    ASSERT_TRUE(testing::WaitFor([&] { return Acknowledged(stack->gateway()) == 1; }));
    sub.Drop();  // gone with two events unacknowledged
  }
  Subscriber again(stack->channel(), "crm-sync");
  std::vector<pb::QueuedEvent> second = again.Take(2);
  ASSERT_EQ(IdsOf(second),
            (std::vector<std::string>{first[1].delivery_id(), first[2].delivery_id()}));
  EXPECT_EQ(second[0].attempt(), 2);
  EXPECT_EQ(second[1].attempt(), 2);
  ASSERT_TRUE(again.Ack(IdsOf(second)));
  // The next event is a new deal's: nothing acknowledged is delivered again.
  const int64_t id = AddDeal(*stack, "later");
  std::optional<pb::QueuedEvent> next = again.Next();
  ASSERT_TRUE(next);
  EXPECT_EQ(next->record_id(), std::to_string(id));
  EXPECT_EQ(next->attempt(), 1);
  ASSERT_TRUE(again.Ack({next->delivery_id()}));
  EXPECT_TRUE(testing::WaitFor([&] { return QueueLength(*stack) == 0; }));
  EXPECT_TRUE(testing::WaitFor([&] {
    return Metric(stack->gateway(), "b24gate_events_acknowledged_total{portal=\"main\"}") == 4;
  }));
  EXPECT_EQ(Metric(stack->gateway(), "b24gate_events_delivered_total{portal=\"main\"}"), 6);
  EXPECT_EQ(Metric(stack->gateway(), "b24gate_events_redelivered_total{portal=\"main\"}"), 2);
  EXPECT_EQ(Metric(stack->gateway(), "b24gate_events_received_total{portal=\"main\",source=\"offline\"}"), 4)
      << "each row once: a redelivery is not received again";
  EXPECT_EQ(Metric(stack->gateway(), "b24gate_events_received_total{portal=\"main\",source=\"inbound\"}"), 0);
}

// Per record: the stream's events of other records may pass a record's
// later event while its earlier one is unacknowledged, never its own.
TEST(Events, EventsOfOneRecordArriveInTheOrderTheyHappened) {
  auto stack = EventStack();
  ASSERT_TRUE(stack);
  GroupMember sub(*stack, "crm-sync", {kAdd, kUpdate}, /*ack=*/true, std::chrono::milliseconds(0),
                  pb::EVENT_SOURCE_UNSPECIFIED);
  ASSERT_TRUE(Bound(*stack, {kAdd, kUpdate}));
  const int64_t a = AddDeal(*stack, "a0");
  const int64_t b = AddDeal(*stack, "b0");
  for (int i = 1; i <= 20; ++i) UpdateDeal(*stack, i % 3 == 0 ? b : a, "v" + std::to_string(i));
  ASSERT_TRUE(testing::WaitFor([&] { return Drained(*stack, {&sub}); }));
  std::map<std::string, std::vector<GroupMember::Received>> by_record;  // in order of arrival
  for (const GroupMember::Received& r : sub.received()) by_record[r.record].push_back(r);
  EXPECT_EQ(by_record.size(), 2u);
  // The portal keeps an object's latest change rather than each one, so
  // updates may arrive as fewer events; but the add comes first, once, and
  // the last change is never missing.
  for (const std::string& record : {std::to_string(a), std::to_string(b)}) {
    const std::vector<GroupMember::Received>& seen = by_record[record];
    ASSERT_GE(seen.size(), 2u) << record;
    EXPECT_EQ(seen.front().event, kAdd) << record;
    EXPECT_EQ(seen.back().event, kUpdate) << record;
    for (size_t i = 1; i < seen.size(); ++i) {
      EXPECT_EQ(seen[i].event, kUpdate) << record;
      EXPECT_LT(SeqOf(seen[i - 1].delivery_id), SeqOf(seen[i].delivery_id)) << record << ": queue order";
      EXPECT_GT(seen[i].received_tick, seen[i - 1].acked_tick) << record << ": before the previous was acknowledged";
    }
  }
}

TEST(Events, AGatewayKilledMidStreamLosesNothing) {
  auto stack = EventStack();
  ASSERT_TRUE(stack);
  std::vector<pb::QueuedEvent> before;
  {
    Subscriber sub(stack->channel(), "crm-sync");
    ASSERT_TRUE(Bound(*stack, {kAdd, kUpdate}));
    for (int i = 0; i < 4; ++i) AddDeal(*stack, "k" + std::to_string(i));
    before = sub.Take(4);
    ASSERT_EQ(before.size(), 4u);
    ASSERT_TRUE(sub.Ack({before[0].delivery_id(), before[1].delivery_id()}));
    ASSERT_TRUE(testing::WaitFor([&] { return Acknowledged(stack->gateway()) == 2; }));
    ASSERT_EQ(stack->gateway().StopWith(SIGKILL), 128 + SIGKILL);
  }
  // Written while no gateway runs: the portal queues them.
  for (int i = 0; i < 3; ++i) {
    json added = stack->Rest("crm.deal.add", {{"fields", {{"TITLE", "while down"}}}});
    ASSERT_TRUE(added.is_object() && added.contains("result")) << added.dump();
  }
  absl::StatusOr<std::unique_ptr<Process>> replica = stack->StartReplica();
  ASSERT_TRUE(replica.ok()) << replica.status();
  Subscriber after(grpc::CreateChannel((*replica)->address(), grpc::InsecureChannelCredentials()),
                   "crm-sync");
  std::vector<pb::QueuedEvent> got = after.Take(5);
  ASSERT_EQ(got.size(), 5u);
  EXPECT_EQ(got[0].delivery_id(), before[2].delivery_id());
  EXPECT_EQ(got[1].delivery_id(), before[3].delivery_id());
  std::set<std::string> unique;
  for (const pb::QueuedEvent& e : got) unique.insert(e.delivery_id());
  EXPECT_EQ(unique.size(), 5u);
  EXPECT_EQ(unique.count(before[0].delivery_id()) + unique.count(before[1].delivery_id()), 0u)
      << "acknowledged before the kill: never again";
  ASSERT_TRUE(after.Ack(IdsOf(got)));
  EXPECT_TRUE(testing::WaitFor([&] { return QueueLength(*stack) == 0; }));
  EXPECT_TRUE(testing::WaitFor([&] { return Acknowledged(**replica) == 5; }));
}

TEST(Events, AGracefulRestartEndsTheStreamAndTheNextGatewayDeliversAgain) {
  auto stack = EventStack();
  ASSERT_TRUE(stack);
  std::string delivery;
  int64_t id = 0;
  {
    Subscriber sub(stack->channel(), "crm-sync");
    ASSERT_TRUE(Bound(*stack, {kAdd, kUpdate}));
    id = AddDeal(*stack, "across a restart");
    std::optional<pb::QueuedEvent> e = sub.Next();
    ASSERT_TRUE(e);
    delivery = e->delivery_id();
    // The open stream does not hold the drain: the gateway exits 0.
    ASSERT_TRUE(stack->RestartGateway().ok());
    EXPECT_FALSE(sub.Next());
    grpc::Status status = sub.Finish();
    EXPECT_EQ(status.error_code(), grpc::StatusCode::UNAVAILABLE);
    EXPECT_NE(status.error_message().find("shutting down"), std::string::npos)
        << status.error_message();
  }
  Subscriber again(stack->channel(), "crm-sync");
  std::optional<pb::QueuedEvent> e = again.Next();
  ASSERT_TRUE(e);
  EXPECT_EQ(e->delivery_id(), delivery);
  EXPECT_EQ(e->record_id(), std::to_string(id));
  ASSERT_TRUE(again.Ack({delivery}));
  EXPECT_TRUE(testing::WaitFor([&] { return QueueLength(*stack) == 0; }));
}

TEST(Events, WritesCarryingTheSubscriptionsAuthConnectorDoNotComeBack) {
  auto stack = EventStack();
  ASSERT_TRUE(stack);
  Subscriber sub(stack->channel(), "crm-sync", {kAdd, kUpdate}, "crm-sync-writes");
  ASSERT_TRUE(Bound(*stack, {kAdd, kUpdate}));
  AddDeal(*stack, "own write", "crm-sync-writes");
  const int64_t id = AddDeal(*stack, "someone else's");
  std::optional<pb::QueuedEvent> e = sub.Next();
  ASSERT_TRUE(e);
  EXPECT_EQ(e->record_id(), std::to_string(id)) << "the own write queued nothing";
  // Reacting to the event with a write of its own does not loop.
  UpdateDeal(*stack, id, "reacted", "crm-sync-writes");
  ASSERT_TRUE(sub.Ack({e->delivery_id()}));
  const std::string sentinel = std::to_string(AddDeal(*stack, "end"));
  std::optional<pb::QueuedEvent> next = sub.Next();
  ASSERT_TRUE(next);
  EXPECT_EQ(next->event(), kAdd);
  EXPECT_EQ(next->record_id(), sentinel);
}

TEST(Events, BadRequestsAreRefusedNamingTheField) {
  auto stack = EventStack();
  ASSERT_TRUE(stack);
  {
    Subscriber sub(stack->channel(), "no spaces allowed");
    EXPECT_FALSE(sub.Next());
    grpc::Status status = sub.Finish();
    EXPECT_EQ(status.error_code(), grpc::StatusCode::INVALID_ARGUMENT);
    EXPECT_NE(status.error_message().find("start.consumer"), std::string::npos)
        << status.error_message();
  }
  {
    Subscriber sub(stack->channel(), "ok", {"ONCRMDEALADD", "bad name!"});
    EXPECT_FALSE(sub.Next());
    grpc::Status status = sub.Finish();
    EXPECT_EQ(status.error_code(), grpc::StatusCode::INVALID_ARGUMENT);
    EXPECT_NE(status.error_message().find("start.events[1]"), std::string::npos)
        << status.error_message();
  }
  std::string held;
  {
    Subscriber sub(stack->channel(), "crm-sync");
    ASSERT_TRUE(Bound(*stack, {kAdd, kUpdate}));
    AddDeal(*stack, "x");
    std::optional<pb::QueuedEvent> e = sub.Next();
    ASSERT_TRUE(e);
    held = e->delivery_id();
    ASSERT_TRUE(sub.Ack({"424242", held}));
    EXPECT_FALSE(sub.Next());
    grpc::Status status = sub.Finish();
    EXPECT_EQ(status.error_code(), grpc::StatusCode::INVALID_ARGUMENT);
    EXPECT_NE(status.error_message().find("ack.delivery_ids[0]"), std::string::npos)
        << status.error_message();
  }
  Subscriber again(stack->channel(), "crm-sync");
  std::optional<pb::QueuedEvent> e = again.Next();
  ASSERT_TRUE(e);
  EXPECT_EQ(e->delivery_id(), held) << "a refused acknowledgement takes nothing, not even its valid ids";
  EXPECT_EQ(e->attempt(), 2);
}

// A reconnect while the old connection lingers: the new stream joins the
// consumer beside the old one, and what the old one held reaches it (with
// attempt 2) once the old one is gone.
TEST(Events, ANewerStreamOfTheConsumerGetsWhatTheOlderHeldWhenItGoes) {
  auto stack = EventStack();
  ASSERT_TRUE(stack);
  Subscriber old(stack->channel(), "crm-sync");
  ASSERT_TRUE(Bound(*stack, {kAdd, kUpdate}));
  const int64_t id = AddDeal(*stack, "before the reconnect");
  std::optional<pb::QueuedEvent> held = old.Next();
  ASSERT_TRUE(held);
  Subscriber fresh(stack->channel(), "crm-sync");
  old.Drop();
  std::optional<pb::QueuedEvent> again = fresh.Next();
  ASSERT_TRUE(again);
  EXPECT_EQ(again->delivery_id(), held->delivery_id());
  EXPECT_EQ(again->record_id(), std::to_string(id));
  EXPECT_EQ(again->attempt(), 2);
  ASSERT_TRUE(fresh.Ack({again->delivery_id()}));
  EXPECT_TRUE(testing::WaitFor([&] { return QueueLength(*stack) == 0; }));
}

// buf curl (npm's, node_modules/.bin/buf) subscribing while its stdin stays
// open: it keeps its connection and its server-reflection stream open as
// long as it runs. Started in a process group of its own; returns its pid
// (-1 when buf is missing).
pid_t StartBufSubscriber(const std::string& gateway) {
  const std::string script = kTestCertsScript;
  const std::string buf = script.substr(0, script.rfind("/tests/e2e/")) + "/node_modules/.bin/buf";
  const std::string command =
      "(echo '{\"start\":{\"consumer\":\"crm-sync\",\"events\":[\"ONCRMDEALADD\"]}}'; sleep 300) | " +
      buf + " curl --protocol grpc --http2-prior-knowledge -d @- http://" + gateway +
      "/bitrix24.gateway.v1.EventService/Subscribe > /dev/null 2>&1";
  if (access(buf.c_str(), X_OK) != 0) return -1;
  pid_t pid = fork();
  if (pid == 0) {
    setpgid(0, 0);
    execl("/bin/sh", "sh", "-c", command.c_str(), static_cast<char*>(nullptr));
    _exit(127);
  }
  return pid;
}

TEST(Events, ASubscriberThatKeepsItsSideOpenDoesNotHoldTheShutdown) {
  EmulatorSpec emulator;
  emulator.extra_args = {"--no-limits", "--cost-zero"};
  GatewaySpec gateway = FastPolls();
  gateway.shutdown_grace_seconds = 120;
  auto stack = Up(emulator, gateway);
  ASSERT_TRUE(stack);
  const pid_t subscriber = StartBufSubscriber(stack->gateway().address());
  ASSERT_GT(subscriber, 0) << "node_modules/.bin/buf is missing: run npm ci";
  ASSERT_TRUE(Bound(*stack, {kAdd}));
  // The drain ends the stream; buf curl keeps running. The exit comes long
  // before the 120 s grace (StopWith gives up after 60 s and answers -1).
  EXPECT_EQ(stack->gateway().StopWith(SIGTERM, 60), 0);
  kill(-subscriber, SIGKILL);
  waitpid(subscriber, nullptr, 0);
}

}  // namespace
}  // namespace b24gate::e2e::events_test
