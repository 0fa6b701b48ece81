#include "engine/bitrix/query_parser.h"

#include <gtest/gtest.h>

namespace b24gate::query_parser_test {
namespace {

TEST(QueryParser, NestedKeysListsAndEscapes) {
  auto q = ParseQueryString(
      "filter%5B%3EID%5D=5&select[]=ID&select[]=NAME&fields[PHONE][0][VALUE]=%2B7+999&order[ID]=ASC");
  ASSERT_TRUE(q.ok()) << q.status();
  EXPECT_EQ((*q)["filter"][">ID"], "5");
  EXPECT_EQ((*q)["select"], nlohmann::ordered_json({"ID", "NAME"}));
  EXPECT_EQ((*q)["fields"]["PHONE"][0]["VALUE"], "+7 999");
  EXPECT_EQ((*q)["order"]["ID"], "ASC");
}

TEST(QueryParser, ExplicitIndexesFormAList) {
  auto q = ParseQueryString("select[0]=ID&select[1]=TITLE");
  ASSERT_TRUE(q.ok());
  EXPECT_EQ((*q)["select"], nlohmann::ordered_json({"ID", "TITLE"}));
}

TEST(QueryParser, ReferencesStayText) {
  auto q = ParseQueryString("filter[ENTITY_ID]=$result[deals][0][ID]");
  ASSERT_TRUE(q.ok());
  EXPECT_EQ((*q)["filter"]["ENTITY_ID"], "$result[deals][0][ID]");
}

TEST(QueryParser, MalformedInputIsAnError) {
  EXPECT_FALSE(ParseQueryString("a=%zz").ok());
  EXPECT_FALSE(ParseQueryString("a=%2").ok());
  EXPECT_FALSE(ParseQueryString("a[b=1").ok());
  EXPECT_FALSE(ParseQueryString("[x]=1").ok());
}

}  // namespace
}  // namespace b24gate::query_parser_test
