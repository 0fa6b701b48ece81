// Classic CRM CRUD, field formats, multi-field edits, links and error shapes.
#include <gtest/gtest.h>

#include "test_util.h"

namespace b24emu::data::testing::crm_test {
namespace {

class CrmTest : public ::testing::Test {
 protected:
  int64_t AddLead(json fields) {
    MethodResult r = Call(*p_, "crm.lead.add", {{"fields", std::move(fields)}});
    EXPECT_FALSE(r.is_error) << r.error_description;
    EXPECT_EQ(r.created_entity, "crm.lead");
    return r.result.get<int64_t>();
  }
  json Get(const std::string& entity, int64_t id) {
    MethodResult r = Call(*p_, "crm." + entity + ".get", {{"id", id}});
    EXPECT_FALSE(r.is_error) << r.error_description;
    return r.result;
  }
  std::unique_ptr<MethodTable> p_ = Portal("crm.lead=30,crm.deal=20,crm.contact=20,crm.company=5,user=3");
};

TEST_F(CrmTest, AddReturnsIntegerIdAboveTheMax) {
  MethodResult last = Call(*p_, "crm.lead.list", {{"order", {{"ID", "DESC"}}}, {"start", -1}});
  int64_t max = Ids(last.result)[0];
  int64_t id = AddLead({{"TITLE", "New"}});
  EXPECT_EQ(id, max + 1);
  EXPECT_EQ(AddLead({{"TITLE", "Next"}}), max + 2);
}

TEST_F(CrmTest, GetUsesWireFormats) {
  int64_t id = AddLead({{"TITLE", "T"}, {"OPPORTUNITY", 1000000}, {"OPENED", true}, {"ASSIGNED_BY_ID", 2},
                        {"DATE_CLOSED", "2024-08-30 14:29:00"}});
  json lead = Get("lead", id);
  EXPECT_EQ(lead["ID"], std::to_string(id));
  EXPECT_EQ(lead["OPPORTUNITY"], "1000000.00");
  EXPECT_EQ(lead["OPENED"], "Y");
  EXPECT_EQ(lead["ASSIGNED_BY_ID"], "2");
  EXPECT_EQ(lead["DATE_CLOSED"], "2024-08-30T14:29:00+02:00");
  EXPECT_EQ(lead["STATUS_ID"], "NEW");
  EXPECT_TRUE(lead["COMMENTS"].is_null());
  EXPECT_EQ(lead["HAS_PHONE"], "N");
  EXPECT_FALSE(lead.contains("PHONE"));
  EXPECT_TRUE(lead.contains("UF_CRM_1700000001"));
}

TEST_F(CrmTest, SeededRowsLookReal) {
  MethodResult r = Call(*p_, "crm.deal.list", {{"select", {"*", "UF_*"}}});
  ASSERT_FALSE(r.result.empty());
  const json& d = r.result[0];
  EXPECT_TRUE(d["ID"].is_string());
  EXPECT_TRUE(d["TITLE"].is_string());
  EXPECT_NE(d["OPPORTUNITY"].get<std::string>().find('.'), std::string::npos);
  EXPECT_EQ(d["DATE_CREATE"].get<std::string>().size(), 25u);  // 2024-08-30T14:29:00+02:00
  EXPECT_TRUE(d["CLOSED"] == "Y" || d["CLOSED"] == "N");
  EXPECT_TRUE(d.contains("UF_CRM_1700000101"));
}

TEST_F(CrmTest, UpdateChangesOnlyGivenFields) {
  int64_t id = AddLead({{"TITLE", "Before"}, {"NAME", "Ann"}, {"COMMENTS", "keep"}});
  MethodResult r = Call(*p_, "crm.lead.update", {{"id", id}, {"fields", {{"TITLE", "After"}}}});
  ASSERT_FALSE(r.is_error);
  EXPECT_EQ(r.result, true);
  json lead = Get("lead", id);
  EXPECT_EQ(lead["TITLE"], "After");
  EXPECT_EQ(lead["NAME"], "Ann");
  EXPECT_EQ(lead["COMMENTS"], "keep");
}

TEST_F(CrmTest, NullErasesAField) {
  int64_t id = AddLead({{"TITLE", "x"}, {"COMMENTS", "to erase"}});
  Call(*p_, "crm.lead.update", {{"id", id}, {"fields", {{"COMMENTS", nullptr}}}});
  EXPECT_TRUE(Get("lead", id)["COMMENTS"].is_null());
}

TEST_F(CrmTest, NullErasesASeededField) {
  json first = Call(*p_, "crm.lead.list", {{"start", -1}}).result[0];
  int64_t id = std::stoll(first["ID"].get<std::string>());
  Call(*p_, "crm.lead.update", {{"ID", std::to_string(id)}, {"FIELDS", {{"NAME", nullptr}}}});
  json lead = Get("lead", id);
  EXPECT_TRUE(lead["NAME"].is_null());
  EXPECT_EQ(lead["LAST_NAME"], first["LAST_NAME"]);
}

TEST_F(CrmTest, MultiFieldEdits) {
  int64_t id = AddLead({{"PHONE", {{{"VALUE", "+100"}, {"VALUE_TYPE", "WORK"}}, {{"VALUE", "+200"}, {"VALUE_TYPE", "MOBILE"}}}}});
  json phones = Get("lead", id)["PHONE"];
  ASSERT_EQ(phones.size(), 2u);
  EXPECT_EQ(phones[0]["VALUE"], "+100");
  EXPECT_EQ(phones[0]["TYPE_ID"], "PHONE");
  std::string first_id = phones[0]["ID"], second_id = phones[1]["ID"];
  EXPECT_NE(first_id, second_id);
  Call(*p_, "crm.lead.update",
       {{"id", id},
        {"fields",
         {{"PHONE",
           {{{"ID", first_id}, {"VALUE", "+111"}}, {{"ID", second_id}, {"DELETE", "Y"}}, {{"VALUE", "+300"}}}}}}});
  phones = Get("lead", id)["PHONE"];
  ASSERT_EQ(phones.size(), 2u);
  EXPECT_EQ(phones[0]["ID"], first_id);
  EXPECT_EQ(phones[0]["VALUE"], "+111");
  EXPECT_EQ(phones[0]["VALUE_TYPE"], "WORK");
  EXPECT_EQ(phones[1]["VALUE"], "+300");
  EXPECT_EQ(Get("lead", id)["HAS_PHONE"], "Y");
}

TEST_F(CrmTest, MultiFieldAsPhpObjectList) {
  int64_t id = AddLead({{"EMAIL", {{"n0", {{"VALUE", "a@example.com"}, {"VALUE_TYPE", "HOME"}}}}}});
  json emails = Get("lead", id)["EMAIL"];
  ASSERT_EQ(emails.size(), 1u);
  EXPECT_EQ(emails[0]["VALUE_TYPE"], "HOME");
}

TEST_F(CrmTest, DeleteThenGetIsNotFound) {
  int64_t id = AddLead({{"TITLE", "x"}});
  MethodResult del = Call(*p_, "crm.lead.delete", {{"id", id}});
  EXPECT_EQ(del.result, true);
  MethodResult get = Call(*p_, "crm.lead.get", {{"id", id}});
  EXPECT_TRUE(get.is_error);
  EXPECT_EQ(get.http_status, 400);
  EXPECT_EQ(get.error, "");
  EXPECT_EQ(get.error_description, "Not found");
  EXPECT_EQ(Call(*p_, "crm.lead.delete", {{"id", id}}).error_description, "Not found");
}

TEST_F(CrmTest, DeletedIdsAreNotReused) {
  int64_t id = AddLead({{"TITLE", "x"}});
  Call(*p_, "crm.lead.delete", {{"id", id}});
  EXPECT_EQ(AddLead({{"TITLE", "y"}}), id + 1);
}

TEST_F(CrmTest, ErrorShapes) {
  for (json params : {json::object(), json{{"id", 0}}, json{{"id", "abc"}}}) {
    MethodResult r = Call(*p_, "crm.deal.get", params);
    EXPECT_EQ(r.http_status, 400);
    EXPECT_EQ(r.error, "");
    EXPECT_EQ(r.error_description, "ID is not defined or invalid.");
  }
  MethodResult f = Call(*p_, "crm.contact.add", {{"fields", "oops"}});
  EXPECT_EQ(f.error, "");
  EXPECT_EQ(f.error_description, "Parameter 'fields' must be array.");
  MethodResult missing = Call(*p_, "crm.company.add");
  EXPECT_EQ(missing.error_description, "Parameter 'fields' must be array.");
  MethodResult nf = Call(*p_, "crm.company.update", {{"id", 999999}, {"fields", {{"TITLE", "x"}}}});
  EXPECT_EQ(nf.error_description, "Not found");
}

TEST_F(CrmTest, FieldsDescribeTypesAndFlags) {
  json f = Call(*p_, "crm.lead.fields").result;
  EXPECT_EQ(f["ID"]["type"], "integer");
  EXPECT_EQ(f["ID"]["isReadOnly"], true);
  EXPECT_EQ(f["STATUS_ID"]["type"], "crm_status");
  EXPECT_EQ(f["STATUS_ID"]["statusType"], "STATUS");
  EXPECT_EQ(f["PHONE"]["type"], "crm_multifield");
  EXPECT_EQ(f["PHONE"]["isMultiple"], true);
  EXPECT_EQ(f["UF_CRM_1700000001"]["isDynamic"], true);
  EXPECT_EQ(f["UF_CRM_1700000001"]["listLabel"], "Campaign");
  EXPECT_TRUE(f["TITLE"].contains("isRequired"));
  EXPECT_TRUE(f["TITLE"].contains("title"));
}

TEST_F(CrmTest, DealContactLinks) {
  int64_t deal = Call(*p_, "crm.deal.add", {{"fields", {{"TITLE", "D"}}}}).result.get<int64_t>();
  std::vector<int64_t> contacts = Ids(Call(*p_, "crm.contact.list", {{"select", {"ID"}}}).result);
  ASSERT_GE(contacts.size(), 3u);
  EXPECT_EQ(Call(*p_, "crm.deal.contact.items.get", {{"id", deal}}).result, json::array());
  EXPECT_EQ(Call(*p_, "crm.deal.contact.add", {{"id", deal}, {"fields", {{"CONTACT_ID", contacts[0]}}}}).result, true);
  Call(*p_, "crm.deal.contact.add", {{"id", deal}, {"fields", {{"CONTACT_ID", contacts[1]}, {"IS_PRIMARY", "Y"}}}});
  json items = Call(*p_, "crm.deal.contact.items.get", {{"id", deal}}).result;
  ASSERT_EQ(items.size(), 2u);
  EXPECT_EQ(items[0]["CONTACT_ID"], contacts[0]);
  EXPECT_EQ(items[0]["IS_PRIMARY"], "N");
  EXPECT_EQ(items[1]["IS_PRIMARY"], "Y");
  EXPECT_EQ(items[1]["SORT"], 20);
  EXPECT_EQ(items[1]["ROLE_ID"], 0);
  EXPECT_EQ(Get("deal", deal)["CONTACT_ID"], std::to_string(contacts[1]));

  Call(*p_, "crm.deal.contact.delete", {{"id", deal}, {"fields", {{"CONTACT_ID", contacts[1]}}}});
  items = Call(*p_, "crm.deal.contact.items.get", {{"id", deal}}).result;
  ASSERT_EQ(items.size(), 1u);
  EXPECT_EQ(items[0]["IS_PRIMARY"], "Y");

  Call(*p_, "crm.deal.contact.items.set",
       {{"id", deal}, {"items", {{{"CONTACT_ID", contacts[2]}, {"SORT", 5}}, {{"CONTACT_ID", contacts[1]}, {"IS_PRIMARY", "Y"}}}}});
  items = Call(*p_, "crm.deal.contact.items.get", {{"id", deal}}).result;
  ASSERT_EQ(items.size(), 2u);
  EXPECT_EQ(items[0]["CONTACT_ID"], contacts[2]);
  EXPECT_EQ(items[1]["IS_PRIMARY"], "Y");
}

TEST_F(CrmTest, SeededDealsHaveLinksToRealContacts) {
  std::set<int64_t> contacts = IdSet(Call(*p_, "crm.contact.list", {{"select", {"ID"}}}).result);
  int linked = 0;
  for (int64_t deal : Ids(Call(*p_, "crm.deal.list", {{"select", {"ID"}}}).result)) {
    for (const json& l : Call(*p_, "crm.deal.contact.items.get", {{"id", deal}}).result) {
      EXPECT_TRUE(contacts.count(l["CONTACT_ID"].get<int64_t>()));
      ++linked;
    }
  }
  EXPECT_GT(linked, 0);
}

TEST_F(CrmTest, LeadContactLinks) {
  int64_t lead = AddLead({{"TITLE", "L"}});
  int64_t contact = Ids(Call(*p_, "crm.contact.list", {{"start", -1}}).result)[0];
  EXPECT_EQ(Call(*p_, "crm.lead.contact.add", {{"id", lead}, {"fields", {{"CONTACT_ID", contact}}}}).result, true);
  json items = Call(*p_, "crm.lead.contact.items.get", {{"id", lead}}).result;
  ASSERT_EQ(items.size(), 1u);
  EXPECT_EQ(items[0]["IS_PRIMARY"], "Y");
  EXPECT_EQ(Get("lead", lead)["CONTACT_ID"], std::to_string(contact));
}

TEST_F(CrmTest, QueryStringStyleStringsWork) {
  MethodResult r = Call(*p_, "crm.lead.add", {{"FIELDS", {{"TITLE", "qs"}, {"OPPORTUNITY", "12.5"}, {"OPENED", "N"}}}});
  json lead = Get("lead", r.result.get<int64_t>());
  EXPECT_EQ(lead["OPPORTUNITY"], "12.50");
  EXPECT_EQ(lead["OPENED"], "N");
}

}  // namespace
}  // namespace b24emu::data::testing::crm_test
