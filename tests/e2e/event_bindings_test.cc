// Binding management end to end: the config lists the events a portal
// should deliver; at start-up the gateway reads the portal's bindings with
// event.get, binds what is listed and missing, unbinds what is its own and
// no longer listed, and leaves everybody else's alone. A second start with
// nothing changed makes no call but event.get. AdminService.GetEventStatus
// reports what the pass saw and did, and each consumer's lag. A portal
// registered at run time with event_bindings (AddPortal, or read from the
// registry another replica shares) gets the same, and a pass that failed is
// made again once the portal answers, not at the next start.
#include <fstream>
#include <map>
#include <memory>
#include <set>
#include <string>
#include <vector>

#include <gtest/gtest.h>

#include "bitrix24/gateway/v1/admin.grpc.pb.h"
#include "absl/strings/match.h"
#include "absl/strings/str_split.h"
#include "tests/e2e/event_helpers.h"
#include "tests/e2e/output_capture.h"
#include "tests/support/free_port.h"
#include "tests/support/redis_server.h"
#include "tests/support/temp_file.h"

namespace b24gate::e2e::event_bindings_test {
namespace {

constexpr char kOtherHandler[] = "http://someone-else.example/hook";

// GetEventStatus of one portal through `channel` (a gateway or replica);
// empty when it failed (e.g. a replica that does not know the portal yet).
pb::PortalEventStatus StatusOf(std::shared_ptr<grpc::Channel> channel, const std::string& portal) {
  auto admin = pb::AdminService::NewStub(channel);
  pb::GetEventStatusRequest request;
  request.set_portal(portal);
  pb::GetEventStatusResponse response;
  grpc::Status status = admin->GetEventStatus(Ctx(10).get(), request, &response);
  if (!status.ok() || response.portals_size() != 1) return pb::PortalEventStatus();
  return response.portals(0);
}

// event_bindings for AddPortal / UpdatePortal: offline names, and online
// ones unless `online` is empty.
pb::PortalEventBindings ProtoLists(std::vector<std::string> offline, std::vector<std::string> online = {}) {
  pb::PortalEventBindings b;
  for (const std::string& e : offline) b.mutable_offline()->add_names(e);
  for (const std::string& e : online) b.mutable_online()->add_names(e);
  return b;
}

// Registers "second": the emulator's portal again, under a domain of its
// own, with `bindings`.
grpc::Status AddSecond(Stack& stack, const pb::PortalEventBindings& bindings) {
  pb::AddPortalRequest request;
  request.set_name("second");
  request.set_domain("second.example");
  request.mutable_credentials()->set_webhook_url(stack.webhook_url());
  *request.mutable_event_bindings() = bindings;
  pb::AddPortalResponse response;
  return pb::AdminService::NewStub(stack.channel())->AddPortal(Ctx(10).get(), request, &response);
}

json Lists(std::vector<std::string> offline, std::vector<std::string> online) {
  return {{"offline", offline}, {"online", online}, {"auth_connector", "crm-sync-writes"}};
}

// The inbound endpoint on a fixed port: its handler URL, which tells the
// gateway's online bindings from others, stays the same across restarts.
std::unique_ptr<Stack> BindingStack(json bindings) {
  EmulatorSpec emulator;
  emulator.extra_args = {"--no-limits", "--cost-zero"};
  GatewaySpec gateway;
  gateway.portal = {{"event_bindings", std::move(bindings)}};
  gateway.extra_args = {"--events-listen", "127.0.0.1:" + std::to_string(testing::FreePort()),
                        "--events-log", testing::TempDir(), "--events-poll-interval", "100ms"};
  return Up(emulator, gateway);
}

// Rewrites the config's event_bindings and restarts the gateway.
void RestartWith(Stack& stack, json bindings) {
  std::ifstream in(stack.config_path());
  json config = json::parse(in);
  config["portals"][0]["event_bindings"] = std::move(bindings);
  std::ofstream(stack.config_path(), std::ios::trunc) << config.dump(2);
  ASSERT_TRUE(stack.RestartGateway().ok());
}

// The portal's bindings as "EVENT offline", "EVENT gateway" (this
// gateway's handler for `portal`) or "EVENT HANDLER".
std::set<std::string> Bindings(Stack& stack, const std::string& portal = "main") {
  std::set<std::string> out;
  json bound = stack.Rest("event.get", json::object());
  if (!bound.is_object() || !bound["result"].is_array()) return {"event.get failed"};
  for (const json& b : bound["result"]) {
    const std::string handler = b.value("handler", "");
    const bool ours = absl::EndsWith(handler, "/events/" + portal);
    out.insert(b.value("event", "") + " " + (handler.empty() ? "offline" : ours ? "gateway" : handler));
  }
  return out;
}

pb::PortalEventStatus Status(Stack& stack, const std::string& portal = "main") {
  return StatusOf(stack.channel(), portal);
}

// Waits for the start-up pass to end; the report then.
pb::EventBindingsReport PassDone(Stack& stack) {
  pb::PortalEventStatus s;
  EXPECT_TRUE(testing::WaitFor([&] {
    s = Status(stack);
    return s.bindings().done();
  }));
  EXPECT_EQ(s.bindings().errors_size(), 0) << s.bindings().errors(0);
  return s.bindings();
}

std::set<std::string> Names(const google::protobuf::RepeatedPtrField<pb::EventBinding>& bindings) {
  std::set<std::string> out;
  for (const pb::EventBinding& b : bindings) {
    out.insert(b.event() + (b.source() == pb::EVENT_SOURCE_ONLINE ? " online" : " offline"));
  }
  return out;
}

// The methods the emulator ran since its last reset, in order (the test's
// own calls to it included).
std::vector<std::string> Methods(Stack& stack) {
  std::vector<std::string> out;
  for (const json& c : stack.EmulatorCommands()) out.push_back(c.value("method", ""));
  return out;
}

TEST(EventBindings, StartUpMakesThePortalsBindingsWhatTheConfigListsAndNoMore) {
  auto stack = BindingStack(Lists({"ONCRMDEALADD", "onCrmDealUpdate"}, {"ONCRMLEADADD"}));
  ASSERT_TRUE(stack);
  pb::EventBindingsReport r = PassDone(*stack);
  EXPECT_EQ(Bindings(*stack),
            (std::set<std::string>{"ONCRMDEALADD offline", "ONCRMDEALUPDATE offline", "ONCRMLEADADD gateway"}));
  EXPECT_EQ(Names(r.bound()), (std::set<std::string>{"ONCRMDEALADD offline", "ONCRMDEALUPDATE offline",
                                                   "ONCRMLEADADD online"}));
  EXPECT_EQ(r.unbound_size(), 0);
  // Somebody else's online binding, which no list may touch.
  json other = stack->Rest("event.bind", {{"event", "ONCRMLEADDELETE"}, {"handler", kOtherHandler}});
  ASSERT_TRUE(other.is_object() && other.contains("result")) << other.dump();

  // A changed list: ONCRMDEALUPDATE and ONCRMLEADADD go, ONCRMCONTACTADD and
  // ONCRMLEADUPDATE come.
  stack->ResetEmulator();
  RestartWith(*stack, Lists({"ONCRMDEALADD", "ONCRMCONTACTADD"}, {"ONCRMLEADUPDATE"}));
  r = PassDone(*stack);
  EXPECT_EQ(Methods(*stack),
            (std::vector<std::string>{"event.get", "event.bind", "event.bind", "event.unbind", "event.unbind"}));
  EXPECT_EQ(Bindings(*stack),
            (std::set<std::string>{"ONCRMDEALADD offline", "ONCRMCONTACTADD offline", "ONCRMLEADUPDATE gateway",
                                   std::string("ONCRMLEADDELETE ") + kOtherHandler}))
      << "the gateway's bindings no longer listed are gone; another handler's stays";
  EXPECT_EQ(Names(r.desired()), (std::set<std::string>{"ONCRMDEALADD offline", "ONCRMCONTACTADD offline",
                                                     "ONCRMLEADUPDATE online"}));
  EXPECT_EQ(Names(r.found()), (std::set<std::string>{"ONCRMDEALADD offline", "ONCRMDEALUPDATE offline",
                                                   "ONCRMLEADADD online"}));
  EXPECT_EQ(Names(r.bound()), (std::set<std::string>{"ONCRMCONTACTADD offline", "ONCRMLEADUPDATE online"}));
  EXPECT_EQ(Names(r.unbound()), (std::set<std::string>{"ONCRMDEALUPDATE offline", "ONCRMLEADADD online"}));

  // Nothing changed: the next start reads and changes nothing.
  stack->ResetEmulator();
  ASSERT_TRUE(stack->RestartGateway().ok());
  r = PassDone(*stack);
  EXPECT_EQ(Methods(*stack), (std::vector<std::string>{"event.get"}));
  EXPECT_EQ(r.bound_size() + r.unbound_size(), 0);
  EXPECT_EQ(Names(r.found()), Names(r.desired()));
}

TEST(EventBindings, EachPortalsPassIsOneLogLineWithoutSecrets) {
  OutputCapture capture;
  {
    auto stack = BindingStack(Lists({"ONCRMDEALADD"}, {"ONCRMLEADADD"}));
    if (stack) PassDone(*stack);
  }  // the gateway stops: its output is complete
  const std::string output = capture.Stop();
  std::vector<std::string> lines;
  for (absl::string_view line : absl::StrSplit(output, '\n')) {
    if (absl::StrContains(line, "\"message\":\"event bindings\"")) lines.emplace_back(line);
  }
  ASSERT_EQ(lines.size(), 1u) << output;
  json line = json::parse(lines[0], nullptr, false);
  EXPECT_EQ(line.value("level", ""), "info") << lines[0];
  EXPECT_EQ(line.value("portal", ""), "main") << lines[0];
  EXPECT_EQ(line["bound"], json({"ONCRMDEALADD (offline)", "ONCRMLEADADD (online)"})) << lines[0];
  EXPECT_EQ(line["unbound"], json::array()) << lines[0];
  EXPECT_FALSE(absl::StrContains(output, "e2esecretcode")) << "the webhook's code was printed";
}

TEST(EventBindings, TheConfigsAuthConnectorKeepsTheServicesOwnWritesOutOfItsQueue) {
  auto stack = BindingStack(Lists({"ONCRMDEALADD"}, {}));
  ASSERT_TRUE(stack);
  PassDone(*stack);
  AddDeal(*stack, "own write", "crm-sync-writes");
  const int64_t other = AddDeal(*stack, "someone else's");
  Subscriber sub(stack->channel(), "crm-sync", {kAdd});
  std::optional<pb::QueuedEvent> e = sub.Next();
  ASSERT_TRUE(e);
  EXPECT_EQ(e->record_id(), std::to_string(other)) << "the write carrying the config's auth_connector was queued";
  ASSERT_TRUE(sub.Ack({e->delivery_id()}));
}

TEST(EventBindings, GetEventStatusShowsEachConsumersLag) {
  auto stack = BindingStack(Lists({"ONCRMDEALADD"}, {}));
  ASSERT_TRUE(stack);
  PassDone(*stack);
  AddDeal(*stack, "one");
  AddDeal(*stack, "two");
  Subscriber sub(stack->channel(), "crm-sync", {kAdd});
  std::vector<pb::QueuedEvent> got = sub.Take(2);
  ASSERT_EQ(got.size(), 2u);
  pb::PortalEventStatus s = Status(*stack);
  ASSERT_EQ(s.consumers_size(), 1);
  EXPECT_EQ(s.consumers(0).consumer(), "crm-sync");
  EXPECT_EQ(s.consumers(0).unacknowledged(), 2);
  EXPECT_GT(s.consumers(0).oldest_unacknowledged_seconds(), 0);
  ASSERT_TRUE(sub.Ack(IdsOf(got)));
  EXPECT_TRUE(testing::WaitFor([&] {
    s = Status(*stack);
    return s.consumers_size() == 1 && s.consumers(0).unacknowledged() == 0;
  })) << "acknowledged and cleared: no lag";
  EXPECT_EQ(s.consumers(0).oldest_unacknowledged_seconds(), 0);
}

TEST(EventBindings, APortalAddedAtRunTimeGetsItsBindingsOnceItAnswers) {
  auto stack = BindingStack(nullptr);
  ASSERT_TRUE(stack);
  // Every event.get fails (after the gateway's own retries): the portal is
  // "down" for binding management.
  stack->SetFaults("502=1,method=event.get");
  grpc::Status added = AddSecond(*stack, ProtoLists({"ONCRMCONTACTADD", "onCrmContactUpdate"}, {"ONCRMLEADADD"}));
  ASSERT_TRUE(added.ok()) << added.error_message();
  pb::PortalEventStatus s;
  ASSERT_TRUE(testing::WaitFor([&] {
    s = Status(*stack, "second");
    return s.bindings().state() == pb::EVENT_BINDINGS_STATE_FAILED;
  }, 60)) << s.DebugString();
  EXPECT_GE(s.bindings().attempts(), 1);
  EXPECT_TRUE(absl::StartsWith(s.bindings().last_error(), "event.get: ")) << s.bindings().last_error();
  EXPECT_FALSE(absl::StrContains(s.DebugString(), "e2esecretcode")) << "the webhook's code is in the report";
  EXPECT_GT(s.bindings().retry_in_seconds(), 0);
  EXPECT_EQ(Names(s.bindings().desired()), (std::set<std::string>{"ONCRMCONTACTADD offline",
                                                                  "ONCRMCONTACTUPDATE offline", "ONCRMLEADADD online"}));

  // The portal answers again: the next pass, after the back-off, binds.
  stack->SetFaults("none");
  ASSERT_TRUE(testing::WaitFor([&] {
    s = Status(*stack, "second");
    return s.bindings().state() == pb::EVENT_BINDINGS_STATE_OK;
  }, 60)) << s.DebugString();
  EXPECT_GE(s.bindings().attempts(), 2);
  EXPECT_EQ(s.bindings().last_error(), "");
  EXPECT_EQ(Bindings(*stack, "second"),
            (std::set<std::string>{"ONCRMCONTACTADD offline", "ONCRMCONTACTUPDATE offline", "ONCRMLEADADD gateway"}));

  // Removed: no longer reported (nor kept).
  pb::RemovePortalRequest remove;
  remove.set_portal("second");
  pb::RemovePortalResponse removed;
  ASSERT_TRUE(pb::AdminService::NewStub(stack->channel())->RemovePortal(Ctx(10).get(), remove, &removed).ok());
  auto admin = pb::AdminService::NewStub(stack->channel());
  pb::GetEventStatusResponse all;
  ASSERT_TRUE(admin->GetEventStatus(Ctx(10).get(), pb::GetEventStatusRequest(), &all).ok());
  for (const pb::PortalEventStatus& p : all.portals()) EXPECT_NE(p.portal(), "second");
}

TEST(EventBindings, BadBindingsAreRefusedNamingTheField) {
  auto stack = BindingStack(nullptr);
  ASSERT_TRUE(stack);
  grpc::Status s = AddSecond(*stack, ProtoLists({"ONCRMDEALADD", "ONCRMDEAL*"}));
  EXPECT_EQ(s.error_code(), grpc::StatusCode::INVALID_ARGUMENT);
  EXPECT_TRUE(absl::StartsWith(s.error_message(), "event_bindings.offline[1]: ")) << s.error_message();
  s = AddSecond(*stack, ProtoLists({}, {"ONOFFLINEEVENT"}));
  EXPECT_TRUE(absl::StartsWith(s.error_message(), "event_bindings.online[0]: ")) << s.error_message();
  pb::GetPortalRequest get;
  get.set_portal("second");
  pb::GetPortalResponse got;
  EXPECT_EQ(pb::AdminService::NewStub(stack->channel())->GetPortal(Ctx(10).get(), get, &got).error_code(),
            grpc::StatusCode::NOT_FOUND)
      << "a refused AddPortal registers nothing";
}

// Replicas sharing a registry (Redis): a portal added or changed through one
// is kept by the others as well, each with its own pass.
TEST(EventBindings, APortalAddedThroughOneReplicaIsKeptByTheOthers) {
  absl::StatusOr<std::unique_ptr<testing::RedisServer>> redis = testing::RedisServer::Start();
  ASSERT_TRUE(redis.ok()) << redis.status();
  EmulatorSpec emulator;
  emulator.extra_args = {"--no-limits", "--cost-zero"};
  GatewaySpec gateway;
  gateway.extra_args = {"--redis", (*redis)->url()};
  auto stack = Up(emulator, gateway);
  ASSERT_TRUE(stack);
  absl::StatusOr<std::unique_ptr<Process>> replica = stack->StartReplica();
  ASSERT_TRUE(replica.ok()) << replica.status();
  auto other = grpc::CreateChannel((*replica)->address(), grpc::InsecureChannelCredentials());

  ASSERT_TRUE(AddSecond(*stack, ProtoLists({"ONCRMCONTACTADD"})).ok());
  pb::PortalEventStatus s;
  EXPECT_TRUE(testing::WaitFor([&] {
    s = StatusOf(other, "second");
    return s.bindings().state() == pb::EVENT_BINDINGS_STATE_OK;
  })) << "the replica that did not take AddPortal keeps the bindings too: " << s.DebugString();
  EXPECT_EQ(Names(s.bindings().desired()), (std::set<std::string>{"ONCRMCONTACTADD offline"}));

  pb::UpdatePortalRequest update;
  update.set_portal("second");
  *update.mutable_event_bindings() = ProtoLists({"ONCRMCONTACTDELETE"});
  pb::UpdatePortalResponse updated;
  ASSERT_TRUE(pb::AdminService::NewStub(stack->channel())->UpdatePortal(Ctx(10).get(), update, &updated).ok());
  EXPECT_TRUE(testing::WaitFor([&] {
    s = StatusOf(other, "second");
    return s.bindings().state() == pb::EVENT_BINDINGS_STATE_OK &&
           Names(s.bindings().desired()) == std::set<std::string>{"ONCRMCONTACTDELETE offline"};
  })) << s.DebugString();
  EXPECT_TRUE(testing::WaitFor([&] {
    return Bindings(*stack, "second") == std::set<std::string>{"ONCRMCONTACTDELETE offline"};
  }));
}

// With --redis an online group's lag is Redis's: a replica that serves none
// of the group's streams reports what another replica's stream holds.
TEST(EventBindings, WithRedisEveryReplicaReportsTheLagOfEveryReplicasStreams) {
  absl::StatusOr<std::unique_ptr<testing::RedisServer>> redis = testing::RedisServer::Start();
  ASSERT_TRUE(redis.ok()) << redis.status();
  OnlineEventsOptions options;
  options.gateway_args = {"--redis", (*redis)->url()};
  auto stack = OnlineEventsStack(options);
  ASSERT_TRUE(stack);
  absl::StatusOr<std::unique_ptr<Process>> replica = stack->StartReplica();
  ASSERT_TRUE(replica.ok()) << replica.status();
  auto other = grpc::CreateChannel((*replica)->address(), grpc::InsecureChannelCredentials());

  Subscriber billing(stack->channel(), "billing", {kAdd}, "", pb::EVENT_SOURCE_ONLINE);
  ASSERT_TRUE(BoundOnline(*stack, {{kAdd, 1}}));
  AddDeal(*stack, "one");
  AddDeal(*stack, "two");
  std::vector<pb::QueuedEvent> got = billing.Take(2);
  ASSERT_EQ(got.size(), 2u);
  pb::PortalEventStatus s;
  auto billing_lag = [&]() -> pb::ConsumerLag {
    s = StatusOf(other, "main");
    for (const pb::ConsumerLag& c : s.consumers()) {
      if (c.consumer() == "billing") return c;
    }
    return pb::ConsumerLag();
  };
  EXPECT_TRUE(testing::WaitFor([&] { return billing_lag().unacknowledged() == 2; })) << s.DebugString();
  pb::ConsumerLag lag = billing_lag();
  EXPECT_TRUE(lag.all_replicas());
  EXPECT_GT(lag.oldest_unacknowledged_seconds(), 0);

  ASSERT_TRUE(billing.Ack(IdsOf(got)));
  EXPECT_TRUE(testing::WaitFor([&] { return billing_lag().unacknowledged() == 0; })) << s.DebugString();
  EXPECT_EQ(billing_lag().oldest_unacknowledged_seconds(), 0);
}

}  // namespace
}  // namespace b24gate::e2e::event_bindings_test
