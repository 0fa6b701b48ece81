// ApplyApiVersion: what a Call asks of REST 3.0 is checked before anything is
// queued, and a REST 3.0 call's options and parameters are set for sending.
#include "service/rest_v3_call.h"

#include <optional>

#include <gtest/gtest.h>

#include "tests/support/fake_dispatcher.h"

namespace b24gate::rest_v3_call_test {
namespace {

namespace pb = bitrix24::gateway::v1;

pb::CallRequest Request(pb::ApiVersion api, const std::string& key = "") {
  pb::CallRequest r;
  r.set_method("tasks.task.add");
  r.set_api_version(api);
  r.set_idempotency_key(key);
  return r;
}

CallSpec Spec(const char* params_json, const char* field = "params") {
  CallSpec spec;
  spec.params = nlohmann::ordered_json::parse(params_json);
  spec.params_field = field;
  return spec;
}

TEST(RestV3Call, ClassicCallsAreUntouched) {
  CallSpec spec = Spec(R"({"b":1,"a":2})");
  CallOptions options;
  ASSERT_TRUE(ApplyApiVersion(Request(pb::API_VERSION_UNSPECIFIED), &spec, &options).ok());
  EXPECT_EQ(options.api, RestApi::kClassic);
  EXPECT_EQ(spec.params.dump(), R"({"b":1,"a":2})");
  EXPECT_EQ(spec.cache, CacheMode::kUse);
}

TEST(RestV3Call, AV3CallIsSetUpForSending) {
  CallSpec spec = Spec(R"({"fields":{"title":"t","creatorId":1},"auth":"x"})");
  CallOptions options;
  ASSERT_TRUE(ApplyApiVersion(Request(pb::API_VERSION_V3, "order-1"), &spec, &options).ok());
  EXPECT_EQ(options.api, RestApi::kV3);
  EXPECT_EQ(options.idempotency_key, "order-1");
  EXPECT_EQ(spec.cache, CacheMode::kBypass);
  // A Struct keeps no key order: sorted, so one call is always the same bytes.
  EXPECT_EQ(spec.params.dump(), R"({"auth":"x","fields":{"creatorId":1,"title":"t"}})");
}

TEST(RestV3Call, JsonTextKeepsItsOrder) {
  CallSpec spec = Spec(R"({"order":{"title":"ASC"},"filter":[]})", "params_json");
  CallOptions options;
  ASSERT_TRUE(ApplyApiVersion(Request(pb::API_VERSION_V3), &spec, &options).ok());
  EXPECT_EQ(spec.params.dump(), R"({"order":{"title":"ASC"},"filter":[]})");
}

TEST(RestV3Call, RefusalsNameTheField) {
  struct Case {
    pb::CallRequest request;
    CallSpec spec;
    const char* field;
  };
  pb::CallRequest bulk = Request(pb::API_VERSION_V3);
  bulk.add_bulk_params();
  std::vector<Case> cases = {
      {Request(pb::API_VERSION_CLASSIC, "k"), Spec("{}"), "idempotency_key"},
      {Request(pb::API_VERSION_V3, std::string(256, 'k')), Spec("{}"), "idempotency_key"},
      {Request(pb::API_VERSION_V3, "a\nb"), Spec("{}"), "idempotency_key"},
      {bulk, Spec("{}"), "bulk_params"},
      {Request(pb::API_VERSION_V3), Spec("[1,2]", "params_json"), "params_json"},
      {Request(static_cast<pb::ApiVersion>(7)), Spec("{}"), "api_version"},
  };
  for (Case& c : cases) {
    CallOptions options;
    absl::Status s = ApplyApiVersion(c.request, &c.spec, &options);
    EXPECT_EQ(s.code(), absl::StatusCode::kInvalidArgument) << c.field;
    EXPECT_NE(s.message().find(c.field), absl::string_view::npos) << s;
    EXPECT_EQ(options.api, RestApi::kClassic);
  }
}

// A portal whose default is REST 3.0 sends there what names no version; an
// explicit API_VERSION_CLASSIC still goes to classic REST.
TEST(RestV3Call, APortalsDefaultAppliesWhenTheRequestNamesNone) {
  CallSpec spec = Spec(R"({"fields":{"title":"t"}})");
  CallOptions options;
  ASSERT_TRUE(ApplyApiVersion(Request(pb::API_VERSION_UNSPECIFIED), &spec, &options, RestApi::kV3).ok());
  EXPECT_EQ(options.api, RestApi::kV3);
  CallSpec classic_spec = Spec(R"({"fields":{"TITLE":"t"}})");
  CallOptions classic;
  ASSERT_TRUE(
      ApplyApiVersion(Request(pb::API_VERSION_CLASSIC), &classic_spec, &classic, RestApi::kV3).ok());
  EXPECT_EQ(classic.api, RestApi::kClassic);

  CallOptions fanout;
  CacheMode cache = CacheMode::kUse;
  std::vector<nlohmann::ordered_json> sets = {nlohmann::ordered_json::object(),
                                              nlohmann::ordered_json::array()};
  absl::Status refused =
      ApplyFanoutApiVersion(pb::API_VERSION_UNSPECIFIED, RestApi::kV3, &fanout, &cache, &sets);
  EXPECT_EQ(refused.code(), absl::StatusCode::kInvalidArgument);
  EXPECT_NE(refused.message().find("params[1]"), absl::string_view::npos) << refused;
  sets.pop_back();
  ASSERT_TRUE(
      ApplyFanoutApiVersion(pb::API_VERSION_UNSPECIFIED, RestApi::kV3, &fanout, &cache, &sets).ok());
  EXPECT_EQ(fanout.api, RestApi::kV3);
  EXPECT_EQ(cache, CacheMode::kBypass);
}

// API_VERSION_AUTO: one fetch of the portal's OpenAPI document decides for
// every request; a method it lists goes to REST 3.0, one it does not (or a
// batch with any such command) stays classic; explicit versions and
// UNSPECIFIED (the fakes' default is classic) never fetch it.
TEST(RestV3Call, AutoRoutesByThePortalsOpenApiDocument) {
  FakeClock clock;
  FakeDispatcher portal;
  Gateway gateway({&portal}, &clock);
  std::vector<std::optional<absl::StatusOr<RestApi>>> got(5);
  auto into = [&got](int i) { return [&got, i](absl::StatusOr<RestApi> api) { got[i] = api; }; };
  ResolveApi(&gateway, "", pb::API_VERSION_AUTO, {"tasks.task.list"}, into(0));
  ResolveApi(&gateway, "", pb::API_VERSION_AUTO, {"crm.lead.list"}, into(1));
  EXPECT_FALSE(got[0] || got[1]);
  std::optional<FakeDispatcher::Request> fetch = portal.Take();
  ASSERT_TRUE(fetch);
  EXPECT_EQ(fetch->method, "rest.documentation.openapi");
  EXPECT_EQ(portal.waiting(), 0u);
  CallReply document;
  document.result = nlohmann::ordered_json::parse(
      R"({"openapi":"3.0.0","paths":{"/tasks.task.list":{},"/tasks.task.add":{}}})");
  fetch->call_done(document);
  ASSERT_TRUE(got[0] && got[1]);
  EXPECT_EQ(got[0]->value(), RestApi::kV3);
  EXPECT_EQ(got[1]->value(), RestApi::kClassic);

  ResolveApi(&gateway, "", pb::API_VERSION_AUTO, {"TASKS.TASK.ADD", "tasks.task.list"}, into(2));
  ResolveApi(&gateway, "", pb::API_VERSION_AUTO, {"tasks.task.add", "crm.lead.add"}, into(3));
  ResolveApi(&gateway, "", pb::API_VERSION_UNSPECIFIED, {"tasks.task.list"}, into(4));
  EXPECT_EQ(got[2]->value(), RestApi::kV3);
  EXPECT_EQ(got[3]->value(), RestApi::kClassic);
  EXPECT_EQ(got[4]->value(), RestApi::kClassic);
  EXPECT_EQ(portal.requests(), 1);

  std::optional<absl::StatusOr<RestApi>> unknown;
  ResolveApi(&gateway, "nowhere", pb::API_VERSION_AUTO, {"tasks.task.list"},
             [&unknown](absl::StatusOr<RestApi> api) { unknown = api; });
  ASSERT_TRUE(unknown);
  EXPECT_EQ(unknown->status().code(), absl::StatusCode::kNotFound);
}

}  // namespace
}  // namespace b24gate::rest_v3_call_test
