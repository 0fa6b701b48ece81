// Binding management end to end: the config lists the events a portal
// should deliver; at start-up the gateway reads the portal's bindings with
// event.get, binds what is listed and missing, unbinds what is its own and
// no longer listed, and leaves everybody else's alone. A second start with
// nothing changed makes no call but event.get. AdminService.GetEventStatus
// reports what the pass saw and did, and each consumer's lag.
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
#include "tests/support/temp_file.h"

namespace b24gate::e2e::event_bindings_test {
namespace {

constexpr char kOtherHandler[] = "http://someone-else.example/hook";

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
// gateway's handler) or "EVENT HANDLER".
std::set<std::string> Bindings(Stack& stack) {
  std::set<std::string> out;
  json bound = stack.Rest("event.get", json::object());
  if (!bound.is_object() || !bound["result"].is_array()) return {"event.get failed"};
  for (const json& b : bound["result"]) {
    const std::string handler = b.value("handler", "");
    const bool ours = handler.find("/events/main") != std::string::npos;
    out.insert(b.value("event", "") + " " + (handler.empty() ? "offline" : ours ? "gateway" : handler));
  }
  return out;
}

pb::PortalEventStatus Status(Stack& stack) {
  auto admin = pb::AdminService::NewStub(stack.channel());
  pb::GetEventStatusRequest request;
  request.set_portal("main");
  pb::GetEventStatusResponse response;
  grpc::Status status = admin->GetEventStatus(Ctx(10).get(), request, &response);
  EXPECT_TRUE(status.ok()) << status.error_message();
  return response.portals_size() == 1 ? response.portals(0) : pb::PortalEventStatus();
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

}  // namespace
}  // namespace b24gate::e2e::event_bindings_test
