// REST 3.0 request building: URLs beside the classic ones, the JSON body
// with the OAuth token inside, the Idempotency-Key header, and key checks.
#include "engine/portal/rest_v3.h"

#include <set>

#include <gtest/gtest.h>

namespace b24gate::rest_v3_test {
namespace {

TEST(RestV3, UrlsSitBesideTheClassicOnes) {
  EXPECT_EQ(V3Url("https://p.example/rest/1/code/", "tasks.task.add"),
            "https://p.example/rest/api/1/code/tasks.task.add");
  EXPECT_EQ(V3Url("https://p.example/rest/", "tasks.task.list"),
            "https://p.example/rest/api/tasks.task.list");
  // A portal whose host name contains "rest" is not confused.
  EXPECT_EQ(V3Url("http://rest.example:8080/rest/7/x/", "m"), "http://rest.example:8080/rest/api/7/x/m");
}

TEST(RestV3, OAuthTokenRidesInTheBodyAndTheKeyInAHeader) {
  Auth auth;
  auth.base_url = "https://p.example/rest/";
  auth.access_token = "tok";
  HttpRequest r;
  r.url = "classic";
  MakeV3Request(auth, "tasks.task.add", {{"fields", {{"title", "t"}}}}, "k-1", &r);
  EXPECT_EQ(r.url, "https://p.example/rest/api/tasks.task.add");
  EXPECT_EQ(nlohmann::ordered_json::parse(r.body),
            nlohmann::ordered_json({{"fields", {{"title", "t"}}}, {"auth", "tok"}}));
  ASSERT_EQ(r.headers.size(), 1u);
  EXPECT_EQ(r.headers[0], (std::pair<std::string, std::string>{"Idempotency-Key", "k-1"}));

  HttpRequest webhook;
  Auth hook;
  hook.base_url = "https://p.example/rest/1/c/";
  MakeV3Request(hook, "tasks.task.get", {{"id", 1}}, "", &webhook);
  EXPECT_EQ(webhook.body, R"({"id":1})");
  EXPECT_TRUE(webhook.headers.empty());
}

TEST(RestV3, ABatchIsAListWithTheKeysAsAliasesAndTheTokenInAHeader) {
  Auth auth;
  auth.base_url = "https://p.example/rest/";
  auth.access_token = "tok";
  HttpRequest r;
  MakeV3BatchRequest(auth,
                     {{"made", "tasks.task.add", {{"fields", {{"title", "t"}}}}},
                      {"got", "tasks.task.get", {{"id", {{"$ref", "made.id"}}}}}},
                     &r);
  EXPECT_EQ(r.url, "https://p.example/rest/api/batch");
  EXPECT_EQ(r.content_type, "application/json");
  EXPECT_EQ(r.body,
            R"([{"method":"tasks.task.add","query":{"fields":{"title":"t"}},"as":"made"},)"
            R"({"method":"tasks.task.get","query":{"id":{"$ref":"made.id"}},"as":"got"}])");
  ASSERT_EQ(r.headers.size(), 1u);
  EXPECT_EQ(r.headers[0], (std::pair<std::string, std::string>{"Authorization", "Bearer tok"}));

  Auth hook;
  hook.base_url = "https://p.example/rest/1/c/";
  HttpRequest webhook;
  MakeV3BatchRequest(hook, {{"g", "tasks.task.get", {{"id", 1}}}}, &webhook);
  EXPECT_EQ(webhook.url, "https://p.example/rest/api/1/c/batch");
  EXPECT_TRUE(webhook.headers.empty());
}

TEST(RestV3, KeysAreFreshAndValid) {
  std::set<std::string> keys;
  for (int i = 0; i < 1000; ++i) {
    std::string key = NewIdempotencyKey();
    EXPECT_TRUE(CheckIdempotencyKey(key, "k").ok()) << key;
    keys.insert(key);
  }
  EXPECT_EQ(keys.size(), 1000u);
}

TEST(RestV3, KeyCheckNamesTheField) {
  EXPECT_TRUE(CheckIdempotencyKey(std::string(255, 'a'), "idempotency_key").ok());
  for (const std::string& bad : {std::string(), std::string(256, 'a'), std::string("a\tb"),
                                 std::string("caf\xc3\xa9")}) {
    absl::Status s = CheckIdempotencyKey(bad, "idempotency_key");
    EXPECT_EQ(s.code(), absl::StatusCode::kInvalidArgument);
    EXPECT_NE(s.message().find("idempotency_key"), absl::string_view::npos) << s;
  }
}

}  // namespace
}  // namespace b24gate::rest_v3_test
