#include "tests/emulator/query_parser.h"

#include <gtest/gtest.h>

namespace b24emu::query_parser_test {
namespace {

using OJson = nlohmann::ordered_json;

TEST(QueryParserTest, PlainPairs) {
  EXPECT_EQ(ParsePhpQuery("a=1&b=two"), OJson({{"a", "1"}, {"b", "two"}}));
}

TEST(QueryParserTest, EmptyInputIsEmptyObject) {
  EXPECT_EQ(ParsePhpQuery(""), OJson::object());
  EXPECT_EQ(ParsePhpQuery("&&"), OJson::object());
}

TEST(QueryParserTest, KeyWithoutValueIsEmptyString) {
  EXPECT_EQ(ParsePhpQuery("flag&x="), OJson({{"flag", ""}, {"x", ""}}));
}

TEST(QueryParserTest, PlusIsSpaceAndPercentDecodes) {
  EXPECT_EQ(ParsePhpQuery("q=a+b%20c%2Bd%26e%3D"), OJson({{"q", "a b c+d&e="}}));
}

TEST(QueryParserTest, MalformedPercentStays) {
  EXPECT_EQ(ParsePhpQuery("q=100%&r=%zz"), OJson({{"q", "100%"}, {"r", "%zz"}}));
}

TEST(QueryParserTest, ValueKeepsLaterEqualsSigns) {
  EXPECT_EQ(ParsePhpQuery("a=b=c"), OJson({{"a", "b=c"}}));
}

TEST(QueryParserTest, NestedBrackets) {
  EXPECT_EQ(ParsePhpQuery("a[b][c]=1"), OJson::parse(R"({"a":{"b":{"c":"1"}}})"));
}

TEST(QueryParserTest, AppendSyntaxMakesList) {
  EXPECT_EQ(ParsePhpQuery("select[]=ID&select[]=NAME"),
            OJson::parse(R"({"select":["ID","NAME"]})"));
}

TEST(QueryParserTest, ExplicitIndexZeroMakesList) {
  EXPECT_EQ(ParsePhpQuery("select[0]=ID"), OJson::parse(R"({"select":["ID"]})"));
}

TEST(QueryParserTest, OutOfOrderIndexesStayObject) {
  const OJson j = ParsePhpQuery("a[1]=x&a[0]=y");
  ASSERT_TRUE(j["a"].is_object());
  EXPECT_EQ(j["a"].dump(), R"({"1":"x","0":"y"})");
}

TEST(QueryParserTest, AppendContinuesAfterHighestIntegerKey) {
  EXPECT_EQ(ParsePhpQuery("a[5]=x&a[]=y").dump(), R"({"a":{"5":"x","6":"y"}})");
}

TEST(QueryParserTest, FilterPrefixesAreKeptInKeys) {
  EXPECT_EQ(ParsePhpQuery("filter[>ID]=5&filter[%25TITLE]=x&filter[!%3DSTAGE]=WON").dump(),
            R"({"filter":{">ID":"5","%TITLE":"x","!=STAGE":"WON"}})");
}

TEST(QueryParserTest, UnencodedEqualsInKeySplitsLikePhp) {
  // PHP splits at the first '=', leaving an unmatched '[' in the name.
  EXPECT_EQ(ParsePhpQuery("filter[!=STAGE]=WON").dump(), R"({"filter_!":"STAGE]=WON"})");
}

TEST(QueryParserTest, EncodedBracketsInKey) {
  EXPECT_EQ(ParsePhpQuery("filter%5B%3EID%5D=5"), OJson::parse(R"({"filter":{">ID":"5"}})"));
}

TEST(QueryParserTest, MultiFieldDeepNesting) {
  EXPECT_EQ(ParsePhpQuery("fields[PHONE][0][VALUE]=112233&fields[PHONE][0][VALUE_TYPE]=WORK"),
            OJson::parse(R"({"fields":{"PHONE":[{"VALUE":"112233","VALUE_TYPE":"WORK"}]}})"));
}

TEST(QueryParserTest, OrderKeepsInsertionOrder) {
  EXPECT_EQ(ParsePhpQuery("order[TITLE]=ASC&order[ID]=DESC").dump(),
            R"({"order":{"TITLE":"ASC","ID":"DESC"}})");
}

TEST(QueryParserTest, DotsAndSpacesInBaseNameBecomeUnderscores) {
  EXPECT_EQ(ParsePhpQuery("a.b=1&c d=2&e[f.g]=3").dump(), R"({"a_b":"1","c_d":"2","e":{"f.g":"3"}})");
}

TEST(QueryParserTest, UnmatchedBracketBecomesUnderscore) {
  EXPECT_EQ(ParsePhpQuery("a[b=1").dump(), R"({"a_b":"1"})");
}

TEST(QueryParserTest, TextAfterClosingBracketIsDropped) {
  EXPECT_EQ(ParsePhpQuery("a[b]c=1").dump(), R"({"a":{"b":"1"}})");
}

TEST(QueryParserTest, EmptyBaseNameIsIgnored) {
  EXPECT_EQ(ParsePhpQuery("[a]=1&=2&b=3").dump(), R"({"b":"3"})");
}

TEST(QueryParserTest, LaterScalarReplacesEarlier) {
  EXPECT_EQ(ParsePhpQuery("a=1&a=2").dump(), R"({"a":"2"})");
}

TEST(QueryParserTest, ArrayOverwritesScalarAndBack) {
  EXPECT_EQ(ParsePhpQuery("a=1&a[x]=2").dump(), R"({"a":{"x":"2"}})");
  EXPECT_EQ(ParsePhpQuery("a[x]=2&a=1").dump(), R"({"a":"1"})");
}

TEST(QueryParserTest, PositionalTopLevelIsList) {
  EXPECT_EQ(ParsePhpQuery("0=5&1[POST_MESSAGE]=hi").dump(), R"(["5",{"POST_MESSAGE":"hi"}])");
}

TEST(QueryParserTest, IntegerKeyRules) {
  EXPECT_TRUE(IsPhpIntegerKey("0"));
  EXPECT_TRUE(IsPhpIntegerKey("17"));
  EXPECT_TRUE(IsPhpIntegerKey("-3"));
  EXPECT_FALSE(IsPhpIntegerKey("01"));
  EXPECT_FALSE(IsPhpIntegerKey("-0"));
  EXPECT_FALSE(IsPhpIntegerKey("+1"));
  EXPECT_FALSE(IsPhpIntegerKey(" 1"));
  EXPECT_FALSE(IsPhpIntegerKey(""));
}

TEST(QueryParserTest, LeadingZeroKeyIsString) {
  EXPECT_EQ(ParsePhpQuery("a[01]=x").dump(), R"({"a":{"01":"x"}})");
}

TEST(QueryParserTest, UrlEncodeRoundTrips) {
  const std::string s = "filter[>ID]=$result[p0][49][ID]&x=a b/ü";
  EXPECT_EQ(UrlDecode(UrlEncode(s)), s);
  EXPECT_EQ(UrlEncode("a b[]"), "a%20b%5B%5D");
}

}  // namespace
}  // namespace b24emu::query_parser_test
