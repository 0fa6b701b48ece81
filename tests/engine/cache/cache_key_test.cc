#include "engine/cache/cache_key.h"

#include <gtest/gtest.h>

namespace b24gate::cache_key_test {
namespace {

using Json = nlohmann::ordered_json;

TEST(CanonicalParams, KeyOrderOfObjectsDoesNotMatter) {
  Json a = Json::parse(R"({"select":["ID","TITLE"],"filter":{"STAGE_ID":"NEW",">ID":5}})");
  Json b = Json::parse(R"({"filter":{">ID":5,"STAGE_ID":"NEW"},"select":["ID","TITLE"]})");
  EXPECT_EQ(CanonicalParams(a), CanonicalParams(b));
}

TEST(CanonicalParams, ListOrderMatters) {
  EXPECT_NE(CanonicalParams(Json::parse(R"({"select":["ID","TITLE"]})")),
            CanonicalParams(Json::parse(R"({"select":["TITLE","ID"]})")));
}

TEST(CanonicalParams, OrderKeepsItsKeyOrderAtAnyCase) {
  Json a = Json::parse(R"({"order":{"STAGE_ID":"ASC","ID":"DESC"},"filter":{"b":1,"a":2}})");
  Json b = Json::parse(R"({"filter":{"a":2,"b":1},"order":{"STAGE_ID":"ASC","ID":"DESC"}})");
  Json c = Json::parse(R"({"order":{"ID":"DESC","STAGE_ID":"ASC"},"filter":{"a":2,"b":1}})");
  EXPECT_EQ(CanonicalParams(a), CanonicalParams(b));
  EXPECT_NE(CanonicalParams(a), CanonicalParams(c));
  Json upper1 = Json::parse(R"({"ORDER":{"A":"ASC","B":"ASC"}})");
  Json upper2 = Json::parse(R"({"ORDER":{"B":"ASC","A":"ASC"}})");
  EXPECT_NE(CanonicalParams(upper1), CanonicalParams(upper2));
}

TEST(CanonicalParams, DistinguishesTypes) {
  EXPECT_NE(CanonicalParams(Json::parse(R"({"id":1})")), CanonicalParams(Json::parse(R"({"id":"1"})")));
  EXPECT_NE(CanonicalParams(Json::parse(R"({"id":null})")), CanonicalParams(Json::parse(R"({})")));
  EXPECT_EQ(CanonicalParams(Json::parse(R"([1,{"b":1,"a":2}])")), R"([1,{"a":2,"b":1}])");
}

TEST(EntityOf, DropsTheLastPartKeepsAtMostTwo) {
  EXPECT_EQ(EntityOf("crm.deal.list"), "crm.deal");
  EXPECT_EQ(EntityOf("crm.deal.update"), "crm.deal");
  EXPECT_EQ(EntityOf("crm.deal.contact.items.get"), "crm.deal");
  EXPECT_EQ(EntityOf("tasks.task.list"), "tasks.task");
  EXPECT_EQ(EntityOf("user.get"), "user");
  EXPECT_EQ(EntityOf("profile"), "profile");
}

TEST(MethodMatches, GlobWithStarsIgnoringCase) {
  EXPECT_TRUE(MethodMatches("crm.*.list", "crm.deal.list"));
  EXPECT_TRUE(MethodMatches("crm.*.list", "crm.deal.productrows.list"));
  EXPECT_TRUE(MethodMatches("CRM.Deal.*", "crm.deal.get"));
  EXPECT_TRUE(MethodMatches("*", "user.get"));
  EXPECT_TRUE(MethodMatches("crm.deal.get", "crm.deal.get"));
  EXPECT_FALSE(MethodMatches("crm.*.list", "crm.deal.get"));
  EXPECT_FALSE(MethodMatches("crm.deal.get", "crm.deal.getx"));
  EXPECT_FALSE(MethodMatches("crm.*.list", "tasks.task.list"));
}

}  // namespace
}  // namespace b24gate::cache_key_test
