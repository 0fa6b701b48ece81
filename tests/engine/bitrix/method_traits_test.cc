#include "engine/bitrix/method_traits.h"

#include <gtest/gtest.h>

namespace b24gate::method_traits_test {
namespace {

TEST(MethodTraits, ReadsAreRecognisedByTheirLastWord) {
  for (const char* m : {"crm.lead.list", "crm.lead.get", "crm.deal.fields", "user.current",
                        "crm.deal.contact.items.get", "CRM.LEAD.LIST.json", "user.search"}) {
    EXPECT_TRUE(IsReadMethod(m)) << m;
  }
}

TEST(MethodTraits, EverythingElseIsAWrite) {
  for (const char* m : {"crm.lead.add", "crm.deal.update", "crm.lead.delete",
                        "crm.lead.contact.add", "task.commentitem.add", "tasks.task.start",
                        "some.unknown.method"}) {
    EXPECT_FALSE(IsReadMethod(m)) << m;
  }
}

TEST(MethodTraits, NormalizeStripsSuffixes) {
  EXPECT_EQ(NormalizeMethod("crm.lead.list.json"), "crm.lead.list");
  EXPECT_EQ(NormalizeMethod("crm.lead.list/"), "crm.lead.list");
  EXPECT_EQ(NormalizeMethod(" CRM.Lead.List "), "crm.lead.list");
}

TEST(MethodTraits, ValidateMethodName) {
  EXPECT_TRUE(ValidateMethodName("crm.lead.list").ok());
  EXPECT_TRUE(ValidateMethodName("crm.item.productrow.list").ok());
  EXPECT_FALSE(ValidateMethodName("").ok());
  EXPECT_FALSE(ValidateMethodName("crm..list").ok());
  EXPECT_FALSE(ValidateMethodName("crm.lead.list?start=5").ok());
  EXPECT_FALSE(ValidateMethodName("crm lead").ok());
}

TEST(MethodTraits, KnownShapes) {
  EXPECT_EQ(KnownListShape("crm.item.list")->items_key, "items");
  EXPECT_EQ(KnownListShape("crm.item.list")->keyset_filter_field, "id");
  EXPECT_EQ(KnownListShape("tasks.task.list")->items_key, "tasks");
  EXPECT_EQ(KnownListShape("tasks.task.list")->item_id_field, "id");
  EXPECT_EQ(KnownListShape("crm.lead.list")->keyset_filter_field, "ID");
  EXPECT_TRUE(KnownListShape("user.get")->keyset_filter_field.empty());
  EXPECT_FALSE(KnownListShape("some.thing.list").has_value());
}

}  // namespace
}  // namespace b24gate::method_traits_test
