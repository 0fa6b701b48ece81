// CheckParams and the batch plan's reference syntax, on both sides of each
// limit.
#include "engine/gateway/input_limits.h"

#include <cmath>
#include <limits>
#include <string>

#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include "engine/gateway/batch_plan.h"

namespace b24gate::param_checks_test {
namespace {

using Json = nlohmann::ordered_json;
using ::testing::HasSubstr;

Json Nested(int levels) {
  Json v = 1;
  for (int i = 0; i < levels; ++i) v = Json{{"a", v}};
  return v;
}

std::string MessageOf(const Json& params, const InputLimits& limits = InputLimits()) {
  absl::Status s = CheckParams(params, "params", limits);
  EXPECT_EQ(s.code(), absl::StatusCode::kInvalidArgument) << params.dump().substr(0, 200);
  return std::string(s.message());
}

TEST(InputLimits, DepthOnBothSides) {
  InputLimits limits;
  limits.max_depth = 3;
  EXPECT_TRUE(CheckParams(Nested(3), "params", limits).ok());
  EXPECT_THAT(MessageOf(Nested(4), limits),
              HasSubstr("params: nested deeper than the limit of 3 levels (limits.max_depth), at "
                        "params.a.a.a"));
  EXPECT_THAT(MessageOf(Json::array({Json::array({Json::array({Json::array()})})}), limits),
              HasSubstr("at params[0][0][0]"));
}

TEST(InputLimits, StringsAndKeys) {
  InputLimits limits;
  limits.max_string_bytes = 4;
  EXPECT_TRUE(CheckParams(Json{{"F", {{"T", "abcd"}}}}, "params", limits).ok());
  EXPECT_THAT(MessageOf(Json{{"F", {{"T", "abcde"}}}}, limits),
              HasSubstr("params.F.T: a string of 5 bytes, above the limit of 4 "
                        "(limits.max_string_bytes)"));
  EXPECT_THAT(MessageOf(Json{{"F", {{"TITLE", 1}}}}, limits),
              HasSubstr("params.F: the key \"TITLE\" has 5 bytes"));
  EXPECT_THAT(MessageOf(Json{{"FIELDS", {{"TITLE", std::string("a\0b", 3)}}}}),
              HasSubstr("params.FIELDS.TITLE: holds a NUL byte (byte 1)"));
  EXPECT_THAT(MessageOf(Json{{"FIELDS", {{std::string("T\0", 2), 1}}}}),
              HasSubstr("params.FIELDS: the key \"T\\x00\" holds a NUL byte"));
  EXPECT_THAT(MessageOf(Json{{"FIELDS", {{"TITLE", "\xe2\x82"}}}}),
              HasSubstr("params.FIELDS.TITLE: not valid UTF-8 (byte 0)"));
  EXPECT_THAT(MessageOf(Json{{"L", {"ok", "\xc0\xaf"}}}), HasSubstr("params.L[1]: not valid UTF-8"));
  EXPECT_TRUE(CheckParams(Json{{"T", "\xd0\x9f\xf0\x9f\x8c\x8d"}}, "params", InputLimits()).ok());
}

TEST(InputLimits, Numbers) {
  EXPECT_THAT(MessageOf(Json{{"x", std::numeric_limits<double>::quiet_NaN()}}),
              HasSubstr("params.x: NaN has no JSON form"));
  EXPECT_THAT(MessageOf(Json{{"x", -std::numeric_limits<double>::infinity()}}),
              HasSubstr("params.x: an infinite number has no JSON form"));
  EXPECT_TRUE(CheckParams(Json{{"x", int64_t{1} << 53}, {"y", -(int64_t{1} << 53)}, {"z", 1e300}},
                          "params", InputLimits())
                  .ok());
  EXPECT_THAT(MessageOf(Json{{"x", (int64_t{1} << 53) + 1}}), HasSubstr("params.x: 9007199254740993 is beyond 2^53"));
  EXPECT_THAT(MessageOf(Json{{"x", std::numeric_limits<int64_t>::min()}}), HasSubstr("params.x: "));
  EXPECT_THAT(MessageOf(Json{{"x", std::numeric_limits<uint64_t>::max()}}), HasSubstr("params.x: "));
}

TEST(InputLimits, ParamsSize) {
  InputLimits limits;
  limits.max_params_bytes = 20;
  EXPECT_TRUE(CheckParams(Json{{"a", "0123456789"}}, "params", limits).ok());  // 18 bytes
  EXPECT_THAT(MessageOf(Json{{"a", "0123456789abc"}}, limits),
              HasSubstr("params: 21 bytes as JSON, above the limit of 20 (limits.max_params_bytes)"));
}

TEST(InputLimits, Counts) {
  EXPECT_TRUE(CheckCount(3, 3, "ids", "ids", "max_ids", "").ok());
  EXPECT_EQ(CheckCount(4, 3, "ids", "ids", "max_ids", "split").message(),
            "ids: 4 ids, above the limit of 3 (limits.max_ids); split");
}

std::vector<BatchCommandSpec> TwoCommands(const std::string& reference) {
  return {{"c0", "crm.lead.get", Json{{"id", 1}}}, {"c1", "crm.lead.get", Json{{"id", reference}}}};
}

TEST(BatchReferences, WellFormedOnesPass) {
  for (const char* ok : {"$result[c0]", "$result[c0][ID]", "$result[c0][0][TITLE]", "$result_total[c0]",
                         "x $result[c0] y $result_next[c0]", "$resultat", "$result_x[a]", "$result"}) {
    EXPECT_TRUE(PlanBatch(TwoCommands(ok)).ok()) << ok;
  }
}

TEST(BatchReferences, MalformedOnesNameTheCommand) {
  struct Case {
    const char* ref;
    const char* why;
  };
  for (const Case& c : {Case{"$result[c0", "no closing ']'"}, Case{"$result[]", "an empty command key"},
                        Case{"$result[c0][ID", "a '[' in its path does not close"},
                        Case{"$result_error[c0", "no closing ']'"},
                        Case{"$result[c0] $result[", "no closing ']'"}}) {
    auto plan = PlanBatch(TwoCommands(c.ref));
    ASSERT_FALSE(plan.ok()) << c.ref;
    EXPECT_THAT(plan.status().message(), HasSubstr("commands[1] (\"c1\"): malformed reference"));
    EXPECT_THAT(plan.status().message(), HasSubstr(c.why)) << c.ref;
  }
}

TEST(BatchReferences, CommandCountAndQueryParams) {
  InputLimits limits;
  limits.max_batch_commands = 1;
  EXPECT_THAT(PlanBatch(TwoCommands("x"), kMaxBatchCommands, limits).status().message(),
              HasSubstr("commands: 2 commands, above the limit of 1 (limits.max_batch_commands)"));
  std::vector<BatchCommandSpec> query = {{"c0", "crm.lead.add?fields[TITLE]=a%00b", nullptr}};
  EXPECT_THAT(PlanBatch(query).status().message(),
              HasSubstr("commands[0].method?query.fields.TITLE: holds a NUL byte"));
}

}  // namespace
}  // namespace b24gate::param_checks_test
