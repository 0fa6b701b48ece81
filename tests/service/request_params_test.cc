// params / params_json: exclusive, key order kept, parse errors with a
// position.
#include "service/request_params.h"

#include <gtest/gtest.h>

#include "absl/strings/match.h"

namespace b24gate::request_params_test {
namespace {

TEST(RequestParams, JsonTextKeepsTheCallersKeyOrder) {
  auto params = ParamsOrJson(static_cast<const google::protobuf::Value*>(nullptr),
                             R"({"order":{"STAGE_ID":"ASC","OPPORTUNITY":"DESC"},"a":1})");
  ASSERT_TRUE(params.ok()) << params.status();
  EXPECT_EQ(params->dump(), R"({"order":{"STAGE_ID":"ASC","OPPORTUNITY":"DESC"},"a":1})");
}

TEST(RequestParams, NeitherGivenIsAnEmptyObject) {
  auto params = ParamsOrJson(static_cast<const google::protobuf::Struct*>(nullptr), "");
  ASSERT_TRUE(params.ok());
  EXPECT_EQ(*params, nlohmann::ordered_json::object());
}

TEST(RequestParams, BothGivenIsRefusedNamingBothFields) {
  google::protobuf::Struct s;
  ParamsFields fields{"commands[2].params", "commands[2].params_json"};
  auto params = ParamsOrJson(&s, "{}", fields);
  EXPECT_EQ(params.status().code(), absl::StatusCode::kInvalidArgument);
  EXPECT_TRUE(absl::StrContains(params.status().message(), "commands[2].params and commands[2].params_json"))
      << params.status();
}

TEST(RequestParams, MalformedTextNamesTheFieldAndPosition) {
  auto params = ParseJsonText("{\"a\":1,\n \"b\": }", "params_json[4]");
  EXPECT_EQ(params.status().code(), absl::StatusCode::kInvalidArgument);
  EXPECT_TRUE(absl::StartsWith(params.status().message(), "params_json[4]: not valid JSON (byte "))
      << params.status();
  EXPECT_TRUE(absl::StrContains(params.status().message(), "line 2, column")) << params.status();
  EXPECT_FALSE(absl::StrContains(params.status().message(), "json.exception")) << params.status();
}

// {"id":1,"id":2}: nlohmann keeps the last, other readers the first.
TEST(RequestParams, AKeyGivenTwiceInOneObjectIsRefused) {
  auto twice = ParseJsonText(R"({"filter":{"ID":1,"TITLE":"a","ID":2}})", "params_json");
  EXPECT_EQ(twice.status().code(), absl::StatusCode::kInvalidArgument);
  EXPECT_TRUE(absl::StartsWith(twice.status().message(),
                               "params_json.filter.ID: the key is given twice"))
      << twice.status();
  auto in_list = ParseJsonText(R"([{"a":1},{"a":2,"a":3}])", "params_json[2]");
  EXPECT_TRUE(absl::StartsWith(in_list.status().message(), "params_json[2][1].a: the key"))
      << in_list.status();
  EXPECT_TRUE(ParseJsonText(R"({"a":{"ID":1},"b":{"ID":1},"ID":[{"ID":2},{"ID":3}]})", "p").ok());
}

TEST(RequestParams, ObjectsOnlyWhereListsMeanNothing) {
  auto list_for_call = ParamsOrJson(static_cast<const google::protobuf::Value*>(nullptr), "[1,2]");
  EXPECT_TRUE(list_for_call.ok()) << "positional methods take a list";
  auto list_for_struct = ParamsOrJson(static_cast<const google::protobuf::Struct*>(nullptr), "[1,2]");
  EXPECT_EQ(list_for_struct.status().code(), absl::StatusCode::kInvalidArgument);
  auto number = ParamsOrJson(static_cast<const google::protobuf::Value*>(nullptr), "42");
  EXPECT_TRUE(absl::StrContains(number.status().message(), "got number")) << number.status();
}

}  // namespace
}  // namespace b24gate::request_params_test
