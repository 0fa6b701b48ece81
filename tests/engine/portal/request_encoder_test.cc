// EncodeRequest: the URL method and body a group of work becomes.
#include "engine/portal/request_encoder.h"

#include <gtest/gtest.h>

namespace b24gate::request_encoder_test {
namespace {

WorkPtr Call(const std::string& method, nlohmann::ordered_json params) {
  auto w = std::make_unique<Work>();
  CallWork call;
  call.method = method;
  call.params = std::move(params);
  w->body = std::move(call);
  return w;
}

TEST(RequestEncoder, ALoneCallIsItsMethodWithAJsonBody) {
  std::vector<WorkPtr> group;
  group.push_back(Call("crm.lead.get", {{"id", 7}}));
  EncodedRequest r = EncodeRequest(group);
  EXPECT_EQ(r.method, "crm.lead.get");
  EXPECT_EQ(r.body, R"({"id":7})");
  EXPECT_TRUE(r.keys.empty());
  EXPECT_EQ(r.commands, 1);
}

TEST(RequestEncoder, CoalescedCallsAreKeyedInOrder) {
  std::vector<WorkPtr> group;
  group.push_back(Call("crm.lead.get", {{"id", 1}}));
  group.push_back(Call("crm.deal.list", nlohmann::ordered_json::object()));
  EncodedRequest r = EncodeRequest(group);
  EXPECT_EQ(r.method, "batch");
  EXPECT_EQ(r.keys, (std::vector<std::string>{"c0", "c1"}));
  EXPECT_EQ(r.commands, 2);
  EXPECT_EQ(r.body, R"({"halt":0,"cmd":{"c0":"crm.lead.get?id=1","c1":"crm.deal.list"}})");
}

TEST(RequestEncoder, APreFormedBatchKeepsItsKeysOrderAndHalt) {
  auto w = std::make_unique<Work>();
  BatchWork batch;
  batch.halt = true;
  batch.commands = {{"z", "crm.lead.add", {{"fields", {{"TITLE", "a"}}}}},
                    {"a", "crm.lead.get", {{"id", "$result[z]"}}}};
  w->body = std::move(batch);
  std::vector<WorkPtr> group;
  group.push_back(std::move(w));
  EncodedRequest r = EncodeRequest(group);
  EXPECT_EQ(r.method, "batch");
  EXPECT_EQ(r.keys, (std::vector<std::string>{"z", "a"}));
  auto body = nlohmann::ordered_json::parse(r.body);
  EXPECT_EQ(body["halt"], 1);
  EXPECT_EQ(body["cmd"].begin().key(), "z") << "keys in execution order";
  EXPECT_EQ(body["cmd"]["a"].get<std::string>().rfind("crm.lead.get?id=", 0), 0u);
}

}  // namespace
}  // namespace b24gate::request_encoder_test
