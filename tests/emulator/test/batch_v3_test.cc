// REST 3.0's batch: parsing the list (and the JS SDK's "0", "1", ... object),
// `$ref` / `$refArray` resolution and its failures (batch_v3.h), and the
// portal running it: answers in order, the first error ending it with what
// ran before kept, the 50-command limit, a bearer token for OAuth, one
// request of the bucket.
#include <string>

#include <gtest/gtest.h>

#include "tests/emulator/batch_v3.h"
#include "tests/emulator/portal.h"
#include "tests/emulator/test/fake_clock.h"

namespace b24emu::batch_v3_test {
namespace {

using nlohmann::json;
using OJson = nlohmann::ordered_json;

TEST(ParseV3Batch, ReadsAListOrAnObjectOfRequests) {
  const OJson list = OJson::parse(
      R"([{"method":"A.Get","query":{"id":1},"as":"a"},{"method":"b.get","query":{}}])");
  auto parsed = ParseV3Batch(list);
  ASSERT_TRUE(parsed.ok()) << parsed.status();
  ASSERT_EQ(parsed->size(), 2u);
  EXPECT_EQ((*parsed)[0].method, "a.get");
  EXPECT_EQ((*parsed)[0].as, "a");
  EXPECT_EQ((*parsed)[1].as, "");
  auto object = ParseV3Batch(OJson::parse(R"({"0":{"method":"a.get","query":{}}})"));
  ASSERT_TRUE(object.ok());
  EXPECT_EQ(object->size(), 1u);
}

TEST(ParseV3Batch, RefusesItemsWithoutMethodOrQueryAndTwinAliases) {
  EXPECT_FALSE(ParseV3Batch(OJson::parse(R"([{"method":"a.get"}])")).ok());
  EXPECT_FALSE(ParseV3Batch(OJson::parse(R"([{"query":{}}])")).ok());
  EXPECT_FALSE(ParseV3Batch(OJson::parse(
                   R"([{"method":"a","query":{},"as":"x"},{"method":"b","query":{},"as":"x"}])"))
                   .ok());
}

TEST(V3BatchContext, ResolvesRefAndRefArrayAtAnyDepth) {
  V3BatchContext context;
  context.Keep("one", OJson::parse(R"({"item":{"id":7,"owner":{"name":"Ann"}}})"));
  context.Keep("many", OJson::parse(R"({"items":[{"id":1},{"id":2}]})"));
  context.Keep("flag", OJson::parse(R"({"result":true})"));
  auto resolved = context.Resolve(OJson::parse(
      R"({"id":{"$ref":"one.id"},"who":[{"$ref":"one.owner.name"}],
          "filter":[["id","in",{"$refArray":"many.id"}]],"second":{"$ref":"many.1.id"}})"));
  ASSERT_TRUE(resolved.ok()) << resolved.status();
  EXPECT_EQ(json(*resolved), json::parse(R"({"id":7,"who":["Ann"],
      "filter":[["id","in",[1,2]]],"second":2})"));
  EXPECT_FALSE(context.Resolve(OJson::parse(R"({"x":{"$ref":"one.item.id"}})")).ok());
  EXPECT_FALSE(context.Resolve(OJson::parse(R"({"x":{"$ref":"flag.result"}})")).ok());
  EXPECT_FALSE(context.Resolve(OJson::parse(R"({"x":{"$refArray":"many"}})")).ok());
  EXPECT_FALSE(context.Resolve(OJson::parse(R"({"x":{"$refArray":"one.id"}})")).ok());
  EXPECT_FALSE(context.Resolve(OJson::parse(R"({"x":{"$refArray":"many.title"}})")).ok());
}

// v3/things.thing.add (write, {"item": {"id": n}}) and v3/things.thing.get
// (read; id 0 is not found).
class Things : public MethodTable {
 public:
  bool HasMethod(const std::string& m) const override {
    return m == "v3/things.thing.add" || m == "v3/things.thing.get";
  }
  bool IsWrite(const std::string& m) const override { return m == "v3/things.thing.add"; }
  MethodResult Invoke(const MethodCall& call) override {
    MethodResult r;
    if (call.method == "v3/things.thing.add") {
      r.result = {{"item", {{"id", ++created}}}};
      return r;
    }
    if (call.params.value("id", 0) == 0) {
      r.http_status = 400;
      r.is_error = true;
      r.error = "BITRIX_REST_V3_EXCEPTION_ENTITYNOTFOUNDEXCEPTION";
      r.error_description = "Entity with ID 0 was not found.";
      return r;
    }
    r.result = {{"item", {{"id", call.params["id"]}}}};
    return r;
  }
  int created = 0;
};

class PortalV3BatchTest : public ::testing::Test {
 protected:
  PortalV3BatchTest() {
    PortalConfig config;
    config.webhooks = {{1, "secret"}};
    config.cost = *CostProfile("zero");
    config.oauth = OAuthOptions{};
    config.oauth->client_id = "app";
    config.oauth->client_secret = "secret";
    config.oauth->initial_refresh_token = "refresh";
    portal_ = std::make_unique<Portal>(config, &methods_, &clock_);
  }
  HttpReply Batch(const std::string& body, const std::string& path = "/rest/api/1/secret/batch",
                  const std::string& bearer = "") {
    RestRequest r;
    r.path = path;
    r.params.content_type = "application/json";
    r.params.body = body;
    r.host = "127.0.0.1:8080";
    r.bearer = bearer;
    return portal_->HandleRest(r);
  }

  FakeClock clock_;
  Things methods_;
  std::unique_ptr<Portal> portal_;
};

TEST_F(PortalV3BatchTest, AnswersInOrderWithReferencesResolved) {
  const HttpReply reply = Batch(R"([
      {"method":"things.thing.add","query":{},"as":"made"},
      {"method":"things.thing.get","query":{"id":{"$ref":"made.id"}}},
      {"method":"things.thing.get","query":{"id":{"$ref":"1.id"}}}])");
  ASSERT_EQ(reply.status, 200) << reply.body;
  const json j = json::parse(reply.body);
  EXPECT_EQ(j["result"], json::parse(R"([{"item":{"id":1}},{"item":{"id":1}},{"item":{"id":1}}])"));
  EXPECT_TRUE(j["time"].contains("operating"));
  EXPECT_EQ(portal_->StatsJson()["requests"], 1);
}

TEST_F(PortalV3BatchTest, TheFirstErrorIsTheAnswerAndEarlierWritesStay) {
  const HttpReply reply = Batch(R"([
      {"method":"things.thing.add","query":{}},
      {"method":"things.thing.get","query":{"id":0}},
      {"method":"things.thing.add","query":{}}])");
  EXPECT_EQ(reply.status, 400);
  EXPECT_EQ(json::parse(reply.body)["error"]["code"],
            "BITRIX_REST_V3_EXCEPTION_ENTITYNOTFOUNDEXCEPTION");
  EXPECT_EQ(methods_.created, 1);
}

TEST_F(PortalV3BatchTest, RefusesUnknownMethodsBadReferencesAndOverFifty) {
  auto code = [](const HttpReply& r) { return json::parse(r.body)["error"]["code"]; };
  EXPECT_EQ(code(Batch(R"([{"method":"nope.get","query":{}}])")),
            "BITRIX_REST_V3_EXCEPTION_METHODNOTFOUNDEXCEPTION");
  EXPECT_EQ(code(Batch(R"([{"method":"batch","query":{}}])")),
            "BITRIX_REST_V3_EXCEPTION_METHODNOTFOUNDEXCEPTION");
  EXPECT_EQ(code(Batch(R"([{"method":"things.thing.get","query":{"id":{"$ref":"x.id"}}}])")),
            "BITRIX_REST_V3_EXCEPTION_INVALIDSELECTEXCEPTION");
  json many = json::array();
  for (int i = 0; i < 51; ++i) {
    many.push_back({{"method", "things.thing.get"}, {"query", {{"id", 1}}}});
  }
  const HttpReply over = Batch(many.dump());
  EXPECT_EQ(over.status, 400);
  EXPECT_EQ(json::parse(over.body)["error"], "ERROR_BATCH_LENGTH_EXCEEDED");
}

TEST_F(PortalV3BatchTest, OAuthTakesTheTokenFromTheAuthorizationHeader) {
  const std::string body = R"([{"method":"things.thing.get","query":{"id":3}}])";
  EXPECT_EQ(json::parse(Batch(body, "/rest/api/batch").body)["error"], "NO_AUTH_FOUND");
  EXPECT_EQ(json::parse(Batch(body, "/rest/api/batch", "unknown").body)["error"], "invalid_token");
}

}  // namespace
}  // namespace b24emu::batch_v3_test
