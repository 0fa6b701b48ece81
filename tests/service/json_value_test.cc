#include "service/json_value.h"

#include <google/protobuf/struct.pb.h>
#include <google/protobuf/util/json_util.h>
#include <google/protobuf/util/message_differencer.h>
#include <gtest/gtest.h>

#include <cmath>
#include <limits>
#include <nlohmann/json.hpp>
#include <string>

namespace b24gate::json_value_test {
namespace {

using ::google::protobuf::ListValue;
using ::google::protobuf::Struct;
using ::google::protobuf::Value;
using ::google::protobuf::util::MessageDifferencer;
using json = ::nlohmann::ordered_json;

// The same value with object keys sorted, for order-insensitive comparison.
::nlohmann::json Sorted(const json& j) { return ::nlohmann::json::parse(j.dump()); }

Value Number(double number) {
  Value value;
  value.set_number_value(number);
  return value;
}

// Parses proto3 JSON into a Struct, independently of the code under test.
Struct ParseStruct(const std::string& text) {
  Struct out;
  EXPECT_TRUE(google::protobuf::util::JsonStringToMessage(text, &out).ok());
  return out;
}

TEST(ToJsonTest, Scalars) {
  Value null_value;
  null_value.set_null_value(google::protobuf::NULL_VALUE);
  EXPECT_TRUE(ToJson(null_value).is_null());
  EXPECT_TRUE(ToJson(Value()).is_null());  // kind not set

  Value flag;
  flag.set_bool_value(false);
  EXPECT_EQ(ToJson(flag), json(false));

  Value text;
  text.set_string_value("Привет, мир");
  EXPECT_EQ(ToJson(text), json("Привет, мир"));
}

TEST(ToJsonTest, IntegralDoublesBecomeIntegers) {
  EXPECT_TRUE(ToJson(Number(410)).is_number_integer());
  EXPECT_EQ(ToJson(Number(410)).dump(), "410");
  EXPECT_EQ(ToJson(Number(-7)).dump(), "-7");
  EXPECT_EQ(ToJson(Number(0)).dump(), "0");
  EXPECT_EQ(ToJson(Number(9007199254740991.0)).dump(), "9007199254740991");
}

TEST(ToJsonTest, OtherDoublesStayFloats) {
  EXPECT_TRUE(ToJson(Number(2.5)).is_number_float());
  EXPECT_EQ(ToJson(Number(2.5)).dump(), "2.5");
  // 2^53 and beyond are not trustworthy integers.
  EXPECT_TRUE(ToJson(Number(9007199254740992.0)).is_number_float());
  EXPECT_TRUE(ToJson(Number(1e20)).is_number_float());
  EXPECT_TRUE(ToJson(Number(std::numeric_limits<double>::infinity()))
                  .is_number_float());
}

TEST(ToJsonTest, NestedStructAndLists) {
  Struct params = ParseStruct(R"({
    "filter": {">ID": 0, "CLOSED": "N"},
    "select": ["*", "UF_*"],
    "matrix": [[1, 2], [], [{"a": null}]],
    "empty": {}
  })");
  // A Struct is a map: key order is not kept, so compare as sorted JSON.
  EXPECT_EQ(Sorted(ToJson(params)), Sorted(json::parse(R"({
    "filter": {">ID": 0, "CLOSED": "N"},
    "select": ["*", "UF_*"],
    "matrix": [[1, 2], [], [{"a": null}]],
    "empty": {}
  })")));
}

TEST(ToJsonTest, ListValue) {
  ListValue list;
  *list.add_values() = Number(1);
  list.add_values()->set_string_value("x");
  EXPECT_EQ(ToJson(list), json::parse(R"([1, "x"])"));
  EXPECT_EQ(ToJson(ListValue()), json::array());
}

TEST(ToValueTest, Scalars) {
  EXPECT_EQ(ToValue(json()).kind_case(), Value::kNullValue);
  EXPECT_TRUE(ToValue(json(true)).bool_value());
  EXPECT_EQ(ToValue(json(-42)).number_value(), -42.0);
  EXPECT_EQ(ToValue(json(42u)).number_value(), 42.0);
  EXPECT_EQ(ToValue(json(0.1)).number_value(), 0.1);
  EXPECT_EQ(ToValue(json("значение")).string_value(), "значение");
}

TEST(ToValueTest, LargeIntegersBecomeNearestDouble) {
  // Documented precision loss beyond 2^53.
  json big = json::parse("9007199254740993");
  EXPECT_EQ(ToValue(big).number_value(), 9007199254740992.0);
  EXPECT_TRUE(ToJson(ToValue(big)).is_number_float());
}

TEST(ToValueTest, WrittenInPlaceMatchesTheValueReturned) {
  // GetAll writes each item straight into its message's repeated field.
  const json item = json::parse(R"({"ID": "7", "TITLE": "Лид", "PHONE": [{"VALUE": "+1"}],
                                    "EMPTY": {}, "NONE": [], "N": 1.5, "X": null})");
  google::protobuf::ListValue list;
  ToValue(item, list.add_values());
  EXPECT_TRUE(MessageDifferencer::Equals(list.values(0), ToValue(item)));
  EXPECT_EQ(list.values(0).struct_value().fields().at("EMPTY").kind_case(), Value::kStructValue);
  EXPECT_EQ(list.values(0).struct_value().fields().at("NONE").kind_case(), Value::kListValue);
}

TEST(ToStructTest, ObjectMatchesProtobufsOwnJsonParser) {
  const std::string text = R"({
    "id": 410,
    "fields": {"TITLE": "Сделка #1", "OPPORTUNITY": "1000000.00",
               "PHONE": [{"VALUE": "+1333", "VALUE_TYPE": "WORK"}],
               "DESCRIPTION": null, "OPENED": true}
  })";
  EXPECT_TRUE(MessageDifferencer::Equals(ToStruct(json::parse(text)),
                                         ParseStruct(text)));
}

TEST(ToStructTest, NonObjectGivesEmptyStruct) {
  EXPECT_EQ(ToStruct(json::parse("[1, 2]")).fields_size(), 0);
  EXPECT_EQ(ToStruct(json(5)).fields_size(), 0);
  EXPECT_EQ(ToListValue(json::object()).values_size(), 0);
}

TEST(RoundTripTest, JsonThroughValueAndBack) {
  const json original = json::parse(R"({
    "a": [1, -2, 2.5, true, false, null, "Ключ", [[]], {}],
    "b": {"c": {"d": [{"e": "f"}]}},
    "int": 123456789,
    "neg": -0.5,
    "emoji": "😀"
  })");
  EXPECT_EQ(Sorted(ToJson(ToValue(original))), Sorted(original));
  EXPECT_EQ(Sorted(ToJson(ToStruct(original))), Sorted(original));
}

TEST(RoundTripTest, ValueThroughJsonAndBack) {
  Struct original = ParseStruct(R"({
    "list": [1, 2.25, "x", null, false, {"nested": ["deep", [3]]}],
    "name": "Иван"
  })");
  EXPECT_TRUE(MessageDifferencer::Equals(ToStruct(ToJson(original)), original));
}

}  // namespace
}  // namespace b24gate::json_value_test
