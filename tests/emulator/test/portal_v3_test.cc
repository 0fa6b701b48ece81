// REST 3.0 through the Portal: routing and auth, the v3 answer and error
// shapes, Idempotency-Key (replay, reuse, errors not kept, overlap, faults),
// and limits shared with classic calls. Uses an in-test v3 method table.
#include <atomic>
#include <string>
#include <vector>

#include <gtest/gtest.h>

#include "absl/strings/str_cat.h"
#include "tests/emulator/portal.h"
#include "tests/emulator/test/fake_clock.h"

namespace b24emu::portal_v3_test {
namespace {

using nlohmann::json;

// v3/things.thing.add (write: {"item": {"id": n}}; no `fields` is a
// validation error), v3/things.thing.get (read), and classic things.list.
class V3Methods : public MethodTable {
 public:
  bool HasMethod(const std::string& m) const override {
    return m == "v3/things.thing.add" || m == "v3/things.thing.get" || m == "things.list";
  }
  bool IsWrite(const std::string& m) const override { return m == "v3/things.thing.add"; }
  std::vector<std::string> MethodNames() const override {
    return {"things.list", "v3/things.thing.add", "v3/things.thing.get"};
  }
  MethodResult Invoke(const MethodCall& call) override {
    ++runs;
    MethodResult r;
    if (call.method == "v3/things.thing.add") {
      if (!call.params.contains("fields")) {
        r.http_status = 400;
        r.is_error = true;
        r.error = "BITRIX_REST_V3_EXCEPTION_VALIDATION_REQUESTVALIDATIONEXCEPTION";
        r.error_description = "Error validating the request object";
        r.validation = json::array({{{"field", "fields"}, {"message", "Required"}}});
        return r;
      }
      r.result = {{"item", {{"id", ++created}}}};
      r.work.rows_returned = 1;
      return r;
    }
    r.result = {{"item", {{"id", call.params.value("id", 0)}}}};
    return r;
  }
  std::atomic<int> runs{0};
  std::atomic<int> created{0};
};

class PortalV3Test : public ::testing::Test {
 protected:
  explicit PortalV3Test(CostModel cost = *CostProfile("zero")) {
    PortalConfig config;
    config.webhooks = {{1, "secret"}};
    config.cost = cost;
    config.bucket.burst = 5;
    portal_ = std::make_unique<Portal>(config, &methods_, &clock_);
  }

  HttpReply Send(const std::string& path, const std::string& body,
                 std::optional<std::string> key = std::nullopt, const std::string& verb = "POST",
                 const std::string& content_type = "application/json") {
    RestRequest r;
    r.target = path;
    const size_t q = path.find('?');
    r.path = path.substr(0, q);
    if (q != std::string::npos) r.params.query = path.substr(q + 1);
    r.params.content_type = content_type;
    r.params.body = body;
    r.http_method = verb;
    r.host = "127.0.0.1:8080";
    r.idempotency_key = std::move(key);
    return portal_->HandleRest(r);
  }
  HttpReply Add(const std::string& body, std::optional<std::string> key = std::nullopt) {
    return Send("/rest/api/1/secret/things.thing.add", body, std::move(key));
  }
  static json Json(const HttpReply& r) { return json::parse(r.body); }
  static bool Replayed(const HttpReply& r) {
    for (const auto& [name, value] : r.headers) {
      if (name == "Idempotent-Replayed" && value == "true") return true;
    }
    return false;
  }

  FakeClock clock_;
  V3Methods methods_;
  std::unique_ptr<Portal> portal_;
};

TEST_F(PortalV3Test, WebhookPathAnswersResultAndTime) {
  const HttpReply reply = Add(R"({"fields":{"title":"x"}})");
  ASSERT_EQ(reply.status, 200) << reply.body;
  const json j = Json(reply);
  EXPECT_EQ(j["result"]["item"]["id"], 1);
  EXPECT_TRUE(j["time"].contains("operating"));
  EXPECT_FALSE(j.contains("total"));
}

TEST_F(PortalV3Test, OAuthPathTakesTheTokenFromTheBody) {
  EXPECT_EQ(Json(Send("/rest/api/things.thing.get", R"({"id":1})"))["error"], "NO_AUTH_FOUND");
  // A token in the query string is not read.
  EXPECT_EQ(Json(Send("/rest/api/things.thing.get?auth=t", R"({"id":1})"))["error"],
            "NO_AUTH_FOUND");
  const HttpReply bad = Send("/rest/api/things.thing.get", R"({"id":1,"auth":"unknown"})");
  EXPECT_EQ(bad.status, 401);
  EXPECT_EQ(Json(bad)["error"], "invalid_token");
}

TEST_F(PortalV3Test, MethodErrorsHaveTheV3ShapeWithValidation) {
  const HttpReply reply = Add("{}");
  EXPECT_EQ(reply.status, 400);
  const json e = Json(reply)["error"];
  EXPECT_EQ(e["code"], "BITRIX_REST_V3_EXCEPTION_VALIDATION_REQUESTVALIDATIONEXCEPTION");
  EXPECT_EQ(e["validation"][0]["field"], "fields");
}

TEST_F(PortalV3Test, UnknownMethodAndBadBodyAreV3Errors) {
  const HttpReply missing = Send("/rest/api/1/secret/no.such.method", "{}");
  EXPECT_EQ(missing.status, 404);
  EXPECT_EQ(Json(missing)["error"]["code"], "BITRIX_REST_V3_EXCEPTION_METHODNOTFOUNDEXCEPTION");
  const HttpReply form = Send("/rest/api/1/secret/things.thing.get", "id=1", std::nullopt, "POST",
                              "application/x-www-form-urlencoded");
  EXPECT_EQ(form.status, 400);
  EXPECT_EQ(Json(form)["error"]["code"], "BITRIX_REST_V3_EXCEPTION_INVALIDJSONEXCEPTION");
}

TEST_F(PortalV3Test, GetReadsNoQueryParameters) {
  const HttpReply reply = Send("/rest/api/1/secret/things.thing.get?id=7", "", std::nullopt, "GET");
  ASSERT_EQ(reply.status, 200);
  EXPECT_EQ(Json(reply)["result"]["item"]["id"], 0);
}

// Repeated slashes are merged and a trailing '/' dropped on REST 3.0 paths
// as on classic ones (nginx's default merge_slashes): the forms a client
// makes of a base URL written with a trailing '/' reach the method, and an
// Idempotency-Key belongs to the method, not to how its path was spelled.
TEST_F(PortalV3Test, RepeatedSlashesReachTheMethod) {
  const json clean = Json(Send("/rest/api/1/secret/things.thing.get", R"({"id":7})"));
  ASSERT_EQ(clean["result"]["item"]["id"], 7) << clean;
  for (const char* path : {"/rest/api/1/secret//things.thing.get/", "//rest/api/1/secret/things.thing.get",
                           "/rest//api//1//secret//things.thing.get//"}) {
    const HttpReply reply = Send(path, R"({"id":7})");
    EXPECT_EQ(reply.status, 200) << path << ": " << reply.body;
    EXPECT_EQ(Json(reply)["result"], clean["result"]) << path;
  }
  const HttpReply oauth = Send("//rest/api//things.thing.get/", R"({"id":7})");
  EXPECT_EQ(Json(oauth)["error"], "NO_AUTH_FOUND") << oauth.body;
  clock_.Advance(absl::Seconds(10));  // the bucket (burst 5) drains
  ASSERT_EQ(Add(R"({"fields":{"title":"x"}})", "k1").status, 200);
  EXPECT_TRUE(Replayed(Send("/rest/api/1/secret//things.thing.add/", R"({"fields":{"title":"x"}})", "k1")));
  EXPECT_EQ(methods_.created, 1);
}

TEST_F(PortalV3Test, V3MethodsAreNotReachableFromClassicPaths) {
  EXPECT_EQ(Json(Send("/rest/1/secret/things.thing.add", "{}"))["error"], "ERROR_METHOD_NOT_FOUND");
  const json batch = Json(Send("/rest/1/secret/batch",
                               R"({"cmd":{"a":"v3/things.thing.add?fields[title]=x"}})"));
  EXPECT_EQ(batch["result"]["result_error"]["a"]["error"], "ERROR_METHOD_NOT_FOUND");
  EXPECT_EQ(methods_.created, 0);
}

TEST_F(PortalV3Test, SameKeySameBodyReplaysWithoutRunning) {
  const HttpReply first = Add(R"({"fields":{"title":"x"}})", "k1");
  const HttpReply second = Add(R"({"fields":{"title":"x"}})", "k1");
  ASSERT_EQ(second.status, 200);
  EXPECT_EQ(second.body, first.body);
  EXPECT_TRUE(Replayed(second));
  EXPECT_FALSE(Replayed(first));
  EXPECT_EQ(methods_.created, 1);
  EXPECT_EQ(portal_->StatsJson()["idempotent_replays"], 1);
  // Another key is another write.
  EXPECT_EQ(Json(Add(R"({"fields":{"title":"x"}})", "k2"))["result"]["item"]["id"], 2);
}

TEST_F(PortalV3Test, BodiesAreComparedAsParameters) {
  Add(R"({"fields":{"title":"x","creatorId":1}})", "k1");
  EXPECT_TRUE(Replayed(Add(R"({"fields":{"creatorId":1,"title":"x"}})", "k1")));
  EXPECT_TRUE(Replayed(Add(R"({"fields":{"title":"x","creatorId":1},"auth":"refreshed"})", "k1")));
  EXPECT_EQ(methods_.created, 1);
}

TEST_F(PortalV3Test, SameKeyOtherBodyIs422) {
  Add(R"({"fields":{"title":"x"}})", "k1");
  const HttpReply reused = Add(R"({"fields":{"title":"y"}})", "k1");
  EXPECT_EQ(reused.status, 422);
  EXPECT_EQ(Json(reused)["error"]["code"],
            "BITRIX_REST_V3_EXCEPTION_IDEMPOTENCYKEYREUSEDEXCEPTION");
  EXPECT_EQ(methods_.created, 1);
}

TEST_F(PortalV3Test, ErrorsAreNotKept) {
  EXPECT_EQ(Add("{}", "k1").status, 400);
  const HttpReply retry = Add(R"({"fields":{"title":"x"}})", "k1");
  EXPECT_EQ(retry.status, 200);
  EXPECT_FALSE(Replayed(retry));
  EXPECT_EQ(methods_.created, 1);
}

TEST_F(PortalV3Test, InvalidKeyIs400AndNothingRuns) {
  for (const std::string& key : {std::string(), std::string(256, 'k'), std::string("a\nb")}) {
    const HttpReply reply = Add(R"({"fields":{"title":"x"}})", key);
    EXPECT_EQ(reply.status, 400);
    EXPECT_EQ(Json(reply)["error"]["code"],
              "BITRIX_REST_V3_EXCEPTION_INVALIDIDEMPOTENCYKEYEXCEPTION");
  }
  EXPECT_EQ(methods_.runs, 0);
}

TEST_F(PortalV3Test, ReadsIgnoreTheKey) {
  Send("/rest/api/1/secret/things.thing.get", R"({"id":1})", "k1");
  Send("/rest/api/1/secret/things.thing.get", R"({"id":1})", "k1");
  EXPECT_EQ(methods_.runs, 2);
  EXPECT_EQ(portal_->StatsJson()["idempotent_replays"], 0);
}

TEST_F(PortalV3Test, KeyExpiresAfter24Hours) {
  Add(R"({"fields":{"title":"x"}})", "k1");
  clock_.Advance(absl::Hours(24));
  EXPECT_FALSE(Replayed(Add(R"({"fields":{"title":"x"}})", "k1")));
  EXPECT_EQ(methods_.created, 2);
}

TEST_F(PortalV3Test, WriteExecutedBeforeA500IsReplayedOnRetry) {
  ASSERT_TRUE(portal_->SetFaults("500=@1").ok());
  EXPECT_EQ(Add(R"({"fields":{"title":"x"}})", "k1").status, 500);
  const HttpReply retry = Add(R"({"fields":{"title":"x"}})", "k1");
  EXPECT_EQ(retry.status, 200);
  EXPECT_TRUE(Replayed(retry));
  EXPECT_EQ(methods_.created, 1);
}

TEST_F(PortalV3Test, LeakyBucketIsSharedWithClassicCalls) {
  for (int i = 0; i < 3; ++i) ASSERT_EQ(Send("/rest/1/secret/things.list", "{}").status, 200);
  for (int i = 0; i < 2; ++i) {
    ASSERT_EQ(Send("/rest/api/1/secret/things.thing.get", R"({"id":1})").status, 200);
  }
  const HttpReply refused = Send("/rest/api/1/secret/things.thing.get", R"({"id":1})");
  EXPECT_EQ(refused.status, 503);
  EXPECT_EQ(Json(refused)["error"], "QUERY_LIMIT_EXCEEDED");
}

// rest.documentation.openapi (and its short name), by GET or POST: a bare
// OpenAPI document whose paths are the table's REST 3.0 methods, never its
// classic ones; writes are described with the Idempotency-Key they take.
TEST_F(PortalV3Test, OpenApiDocumentListsTheV3MethodsServed) {
  for (const std::string verb : {"GET", "POST"}) {
    for (const std::string name : {"rest.documentation.openapi", "documentation"}) {
      SCOPED_TRACE(verb + " " + name);
      clock_.Advance(absl::Seconds(10));  // the bucket drains
      const HttpReply r = Send("/rest/api/1/secret/" + name, "", std::nullopt, verb);
      ASSERT_EQ(r.status, 200) << r.body;
      const json doc = Json(r);
      EXPECT_FALSE(doc.contains("result"));
      EXPECT_EQ(doc["openapi"], "3.0.0");
      const json& paths = doc["paths"];
      EXPECT_TRUE(paths.contains("/things.thing.add"));
      EXPECT_TRUE(paths.contains("/things.thing.get"));
      EXPECT_TRUE(paths.contains("/batch"));
      EXPECT_TRUE(paths["/rest.documentation.openapi"].contains("get"));
      EXPECT_FALSE(paths.contains("/things.list"));
      EXPECT_EQ(paths["/things.thing.add"]["post"]["parameters"][0]["name"], "Idempotency-Key");
      EXPECT_FALSE(paths["/things.thing.get"]["post"].contains("parameters"));
    }
  }
  EXPECT_EQ(methods_.runs, 0);
  // A wrong webhook learns nothing.
  EXPECT_EQ(Send("/rest/api/1/wrong/rest.documentation.openapi", "").status, 401);
}

class PortalV3CostTest : public PortalV3Test {
 protected:
  PortalV3CostTest() : PortalV3Test(*CostProfile("small")) {}
};

TEST_F(PortalV3CostTest, RepeatDuringTheFirstRunRunsAgainAndIsCounted) {
  Add(R"({"fields":{"title":"x"}})", "k1");  // held 10.1 ms by the cost model
  const HttpReply early = Add(R"({"fields":{"title":"x"}})", "k1");
  EXPECT_FALSE(Replayed(early));
  EXPECT_EQ(methods_.created, 2);
  EXPECT_EQ(portal_->StatsJson()["idempotency_overlaps"], 1);
  clock_.Advance(absl::Milliseconds(20));
  EXPECT_TRUE(Replayed(Add(R"({"fields":{"title":"x"}})", "k1")));
}

}  // namespace
}  // namespace b24emu::portal_v3_test
