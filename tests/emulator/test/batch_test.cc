// batch: command parsing, $result references, halt, limits on length and
// nesting, list and form-encoded cmd, accounting.
#include "tests/emulator/batch.h"

#include <gtest/gtest.h>

#include "tests/emulator/query_parser.h"
#include "tests/emulator/test/portal_harness.h"

namespace b24emu::batch_test {
namespace {

using nlohmann::json;
using OJson = nlohmann::ordered_json;

constexpr char kBatch[] = "/rest/1/secret/batch";

json Result(const HttpReply& reply) {
  EXPECT_EQ(reply.status, 200) << reply.body;
  return PortalHarness::Json(reply)["result"];
}

TEST(BatchParseTest, MapAndListCommands) {
  auto commands = ParseBatchCommands(OJson::parse(R"({"cmd":{"a":"crm.lead.get?id=1","b":"user.current"}})"));
  ASSERT_EQ(commands.size(), 2u);
  EXPECT_EQ(commands[0].key, "a");
  EXPECT_EQ(commands[0].method, "crm.lead.get");
  EXPECT_EQ(commands[0].params, OJson({{"id", "1"}}));
  EXPECT_EQ(commands[1].params, OJson::object());
  commands = ParseBatchCommands(OJson::parse(R"({"cmd":["x.json?a=1","Y/"]})"));
  ASSERT_EQ(commands.size(), 2u);
  EXPECT_EQ(commands[0].key, "0");
  EXPECT_EQ(commands[0].method, "x");
  EXPECT_EQ(commands[1].method, "y");
}

TEST(BatchParseTest, Halt) {
  EXPECT_FALSE(ParseHalt(OJson::parse(R"({})")));
  EXPECT_FALSE(ParseHalt(OJson::parse(R"({"halt":0})")));
  EXPECT_FALSE(ParseHalt(OJson::parse(R"({"halt":"0"})")));
  EXPECT_TRUE(ParseHalt(OJson::parse(R"({"halt":1})")));
  EXPECT_TRUE(ParseHalt(OJson::parse(R"({"halt":"1"})")));
  EXPECT_TRUE(ParseHalt(OJson::parse(R"({"halt":true})")));
}

TEST(BatchReferenceTest, ResolvesPathsTotalsAndMissing) {
  BatchResults r;
  r.result["p0"] = OJson::parse(R"([{"ID":"7"},{"ID":"9"}])");
  r.result["w"] = OJson::parse(R"({"items":[{"id":3}],"flag":true})");
  r.result_total["p0"] = 120;
  const OJson params = OJson::parse(R"({
    "a": "$result[p0][1][ID]", "b": "$result[w][items][0][id]", "c": "$result_total[p0]",
    "d": "x-$result[p0][0][ID]-$result[p0][1][ID]", "e": "$result[nope][0]",
    "f": "$result[p0][5][ID]", "g": "$result[p0]", "h": {"deep": ["$result[w][flag]"]},
    "i": "$result", "j": "$result[w][items]text"})");
  const OJson out = ResolveReferences(params, r);
  EXPECT_EQ(out["a"], "9");
  EXPECT_EQ(out["b"], "3");
  EXPECT_EQ(out["c"], "120");
  EXPECT_EQ(out["d"], "x-7-9");
  EXPECT_EQ(out["e"], "");  // missing command
  EXPECT_EQ(out["f"], "");  // missing path
  EXPECT_EQ(out["g"], r.result["p0"]);  // whole value: structure kept
  EXPECT_EQ(out["h"]["deep"][0], "1");
  EXPECT_EQ(out["i"], "$result");
  EXPECT_EQ(out["j"], "text");  // structured value inside text
}

TEST(BatchTest, KeysetChainWithRawReferences) {
  PortalHarness h;
  const json body = {
      {"halt", 0},
      {"cmd",
       {{"p0", "crm.lead.list?order[ID]=ASC&start=-1"},
        {"p1", "crm.lead.list?order[ID]=ASC&filter[>ID]=$result[p0][49][ID]&start=-1"},
        {"p2", "crm.lead.list?order[ID]=ASC&filter[>ID]=$result[p1][49][ID]&start=-1"}}}};
  const json r = Result(h.PostJson(kBatch, body.dump()));
  EXPECT_EQ(r["result"]["p0"][0]["ID"], "1");
  EXPECT_EQ(r["result"]["p1"][0]["ID"], "51");
  EXPECT_EQ(r["result"]["p2"][49]["ID"], "150");
  EXPECT_EQ(r["result_error"], json::array());
  EXPECT_EQ(r["result_total"], json::array());  // start=-1: no totals
  EXPECT_EQ(r["result_next"], json::array());
  EXPECT_EQ(r["result_time"].size(), 3u);
  EXPECT_TRUE(r["result_time"]["p2"].contains("operating"));
}

TEST(BatchTest, UrlEncodedReferencesAndWrappedLists) {
  PortalHarness h;
  const std::string ref = UrlEncode("filter[>id]") + "=" + UrlEncode("$result[w0][items][49][id]");
  const json body = {{"cmd", {{"w0", "crm.item.list?entityTypeId=1"}, {"w1", "crm.item.list?" + ref}}}};
  const json r = Result(h.PostJson(kBatch, body.dump()));
  EXPECT_EQ(r["result"]["w1"]["items"][0]["id"], 51);
  EXPECT_EQ(r["result_total"]["w0"], 1000);
  EXPECT_EQ(r["result_next"]["w0"], 50);
}

TEST(BatchTest, FormEncodedBatch) {
  PortalHarness h;
  const std::string sub0 = "crm.lead.get?" + UrlEncode("id") + "=3";
  const std::string sub1 = "crm.lead.get?id=" + UrlEncode("$result[a][ID]");
  const std::string form =
      "halt=0&cmd[a]=" + UrlEncode(sub0) + "&cmd[b]=" + UrlEncode(sub1);
  const json r = Result(h.PostForm(kBatch, form));
  EXPECT_EQ(r["result"]["a"]["ID"], "3");
  EXPECT_EQ(r["result"]["b"]["ID"], "3");
}

TEST(BatchTest, ListCommandsGiveListMaps) {
  PortalHarness h;
  const json r = Result(h.PostJson(kBatch, R"({"cmd":["crm.lead.get?id=1","crm.lead.get?id=2"]})"));
  ASSERT_TRUE(r["result"].is_array());  // keys 0..n-1: PHP emits a list
  EXPECT_EQ(r["result"][1]["ID"], "2");
  EXPECT_TRUE(r["result_time"].is_array());
}

TEST(BatchTest, FailingCommandAppearsOnlyInResultError) {
  PortalHarness h;
  const json r = Result(h.PostJson(
      kBatch, R"({"cmd":{"a":"crm.lead.get?id=1","b":"crm.lead.get?id=5000","c":"crm.lead.get?id=2"}})"));
  EXPECT_EQ(r["result_error"]["b"], json::parse(R"({"error":"","error_description":"Not found"})"));
  EXPECT_FALSE(r["result"].contains("b"));
  EXPECT_FALSE(r["result_time"].contains("b"));
  EXPECT_EQ(r["result"]["c"]["ID"], "2");
}

TEST(BatchTest, HaltStopsAtFirstErrorAndLaterCommandsAppearNowhere) {
  PortalHarness h;
  const json r = Result(h.PostJson(
      kBatch,
      R"({"halt":1,"cmd":{"a":"crm.lead.get?id=1","b":"crm.lead.get?id=5000","c":"crm.lead.get?id=2"}})"));
  EXPECT_EQ(r["result"].size(), 1u);
  EXPECT_TRUE(r["result_error"].contains("b"));
  EXPECT_FALSE(r["result"].contains("c"));
  EXPECT_FALSE(r["result_error"].contains("c"));
  EXPECT_FALSE(r["result_time"].contains("c"));
  EXPECT_EQ(h.methods().calls(), 2);
}

TEST(BatchTest, MoreThanFiftyCommands) {
  PortalHarness h;
  json cmd = json::object();
  for (int i = 0; i < 52; ++i) cmd["c" + std::to_string(100 + i)] = "crm.lead.add";
  const json r = Result(h.PostJson(kBatch, json{{"cmd", cmd}}.dump()));
  EXPECT_EQ(r["result"].size(), 50u);
  EXPECT_EQ(r["result_error"].size(), 2u);
  EXPECT_EQ(r["result_error"]["c150"]["error"], "ERROR_BATCH_LENGTH_EXCEEDED");
  EXPECT_EQ(r["result_error"]["c151"]["error"], "ERROR_BATCH_LENGTH_EXCEEDED");
  EXPECT_EQ(h.methods().calls(), 50);
}

TEST(BatchTest, ExactlyFiftyCommandsAllRun) {
  PortalHarness h;
  json cmd = json::object();
  for (int i = 0; i < 50; ++i) cmd["c" + std::to_string(i)] = "crm.lead.add";
  const json r = Result(h.PostJson(kBatch, json{{"cmd", cmd}}.dump()));
  EXPECT_EQ(r["result"].size(), 50u);
  EXPECT_EQ(r["result_error"], json::array());
}

TEST(BatchTest, NestedBatchRefused) {
  PortalHarness h;
  const json r = Result(h.PostJson(kBatch, R"({"cmd":{"a":"batch?cmd[x]=echo","b":"echo"}})"));
  EXPECT_EQ(r["result_error"]["a"]["error"], "ERROR_BATCH_METHOD_NOT_ALLOWED");
  EXPECT_TRUE(r["result"].contains("b"));
}

TEST(BatchTest, EmptyBatchHasEmptyListMaps) {
  PortalHarness h;
  const HttpReply reply = h.PostJson(kBatch, R"({"cmd":{}})");
  EXPECT_NE(reply.body.find(R"("result":{"result":[],"result_error":[],"result_total":[],"result_next":[],"result_time":[]})"),
            std::string::npos)
      << reply.body;
}

TEST(BatchTest, AuthInSubQueryIsDropped) {
  PortalHarness h;
  Result(h.PostJson(kBatch, R"({"cmd":{"a":"echo?auth=zzz&x=1"}})"));
  EXPECT_EQ(h.methods().last().params, json::parse(R"({"x":"1"})"));
}

PortalConfig CostlyConfig(bool per_method) {
  PortalConfig config = TestConfig();
  config.bucket.enforce = false;
  config.per_method_batch_accounting = per_method;
  config.cost = CostModel{absl::ZeroDuration(), absl::Seconds(1), absl::ZeroDuration(),
                          absl::ZeroDuration()};
  return config;
}

TEST(BatchAccountingTest, PerMethodChargesEachSubMethodAndBlocksItAlone) {
  PortalHarness h(CostlyConfig(true));
  const json r = Result(h.PostJson(
      kBatch, R"({"cmd":{"a":"work?rows=300","b":"work?rows=200","c":"work?rows=1","d":"echo"}})"));
  // a: 300, b checked at 300 runs -> 500, c checked at 500: blocked.
  EXPECT_EQ(r["result_time"]["a"]["operating"], 300);
  EXPECT_EQ(r["result_time"]["b"]["operating"], 500);
  EXPECT_EQ(r["result_error"]["c"]["error"], "OPERATION_TIME_LIMIT");
  EXPECT_EQ(r["result_time"]["d"]["operating"], 1);
  const json top = PortalHarness::Json(h.PostJson(kBatch, R"({"cmd":{"e":"echo"}})"))["time"];
  EXPECT_EQ(top["operating"], 0);  // batch itself is not charged
  const json stats = h.portal().StatsJson();
  EXPECT_EQ(stats["operating"]["work"], 500.0);
  EXPECT_FALSE(stats["operating"].contains("batch"));
}

TEST(BatchAccountingTest, BatchModeChargesTheWholeBatchToBatch) {
  PortalHarness h(CostlyConfig(false));
  HttpReply reply = h.PostJson(kBatch, R"({"cmd":{"a":"work?rows=300","b":"work?rows=200","c":"work?rows=1"}})");
  const json r = PortalHarness::Json(reply);
  EXPECT_EQ(r["result"]["result_error"], json::array());  // sub-commands are not checked
  EXPECT_EQ(r["time"]["operating"], 501);
  EXPECT_EQ(r["time"]["processing"], 501);
  EXPECT_EQ(reply.delay, absl::Seconds(501));
  reply = h.PostJson(kBatch, R"({"cmd":{"a":"echo"}})");
  EXPECT_EQ(reply.status, 429);
  EXPECT_EQ(PortalHarness::Json(reply)["error"], "OPERATION_TIME_LIMIT");
  EXPECT_EQ(h.Get("/rest/1/secret/work?rows=1").status, 200);  // direct calls unaffected
}

TEST(BatchTest, ProcessingIsTheSumAndSubTimesAreSequential) {
  PortalConfig config = TestConfig();
  config.cost = CostModel{absl::Seconds(1), absl::ZeroDuration(), absl::ZeroDuration(),
                          absl::ZeroDuration()};
  PortalHarness h(config);
  const HttpReply reply = h.PostJson(kBatch, R"({"cmd":{"a":"echo","b":"echo"}})");
  const json j = PortalHarness::Json(reply);
  EXPECT_EQ(reply.delay, absl::Seconds(2));
  EXPECT_EQ(j["time"]["processing"], 2);
  EXPECT_EQ(j["result"]["result_time"]["b"]["start"], j["result"]["result_time"]["a"]["finish"]);
}

}  // namespace
}  // namespace b24emu::batch_test
