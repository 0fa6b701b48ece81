// Every example of the Bitrix24 JS REST client's documentation (BX.rest.callMethod /
// callBatch) run through the gateway against the emulator.
#include <algorithm>
#include <set>

#include <gtest/gtest.h>

#include "tests/e2e/rpc_helpers.h"

namespace b24gate::e2e::js_client_examples_test {
namespace {

// callMethod('crm.lead.list', {filter:{'>ID':0}, select:[ID,NAME,EMAIL],
// order:{ID:'DESC'}, start:0, limit:50})
TEST(JsClientExamples, LeadListWithOrderStartAndLimit) {
  auto stack = Up();
  ASSERT_TRUE(stack);
  json params = {{"filter", {{">ID", 0}}},
                 {"select", {"ID", "NAME", "EMAIL"}},
                 {"order", {{"ID", "DESC"}}},
                 {"start", 0},
                 {"limit", 50}};
  CallOut out = Call1(*stack, "crm.lead.list", params);
  ASSERT_TRUE(out.status.ok()) << out.status.error_message();
  json leads = out.result();
  ASSERT_TRUE(leads.is_array());
  ASSERT_EQ(leads.size(), 50u);
  EXPECT_EQ(out.response.total(), 300);
  EXPECT_EQ(out.response.next(), 50);
  for (size_t i = 1; i < leads.size(); ++i) EXPECT_GT(IdOf(leads[i - 1]), IdOf(leads[i]));
  EXPECT_EQ(leads, stack->Rest("crm.lead.list", params)["result"]);
  // result.time() of the JS client: the portal's time object is passed on.
  EXPECT_TRUE(J(out.response.time()).contains("operating"));
}

// callMethod('crm.lead.list', {filter:{'>CREATED_DATE':'2025-01-01'},
// select:[ID,NAME,EMAIL,PHONE], order:{ID:'DESC'}})
TEST(JsClientExamples, LeadListWithDateFilterAndMultiFields) {
  auto stack = Up();
  ASSERT_TRUE(stack);
  json params = {{"filter", {{">CREATED_DATE", "2025-01-01"}}},
                 {"select", {"ID", "NAME", "EMAIL", "PHONE"}},
                 {"order", {{"ID", "DESC"}}}};
  CallOut out = Call1(*stack, "crm.lead.list", params);
  ASSERT_TRUE(out.status.ok()) << out.status.error_message();
  json direct = stack->Rest("crm.lead.list", params);
  EXPECT_EQ(out.result(), direct["result"]);
  EXPECT_EQ(out.response.total(), direct["total"].get<int64_t>());
}

// callMethod('crm.lead.get', {id: 12345}) on a portal without that lead, then
// add / get / update / delete of a lead as in the examples.
TEST(JsClientExamples, LeadAddGetUpdateDelete) {
  auto stack = Up();
  ASSERT_TRUE(stack);
  CallOut missing = Call1(*stack, "crm.lead.get", {{"id", 12345}});
  EXPECT_EQ(missing.status.error_code(), grpc::StatusCode::NOT_FOUND);

  json fields = {{"NAME", "Иван Иванов"},
                 {"EMAIL", {{{"VALUE", "ivan@example.com"}, {"VALUE_TYPE", "WORK"}}}},
                 {"PHONE", {{{"VALUE", "+375291234567"}, {"VALUE_TYPE", "WORK"}}}}};
  CallOut added = Call1(*stack, "crm.lead.add", {{"fields", fields}});
  ASSERT_TRUE(added.status.ok()) << added.status.error_message();
  ASSERT_TRUE(added.result().is_number_integer()) << added.result();
  int64_t id = added.result().get<int64_t>();
  EXPECT_GT(id, 0);

  CallOut got = Call1(*stack, "crm.lead.get", {{"id", id}});
  ASSERT_TRUE(got.status.ok()) << got.status.error_message();
  json lead = got.result();
  EXPECT_EQ(lead["ID"], std::to_string(id));
  EXPECT_EQ(lead["NAME"], "Иван Иванов");
  EXPECT_EQ(lead["EMAIL"][0]["VALUE"], "ivan@example.com");
  EXPECT_EQ(lead["EMAIL"][0]["VALUE_TYPE"], "WORK");
  EXPECT_EQ(lead["PHONE"][0]["VALUE"], "+375291234567");

  CallOut updated = Call1(*stack, "crm.lead.update",
                          {{"id", id}, {"fields", {{"NAME", "Новое имя"}, {"STATUS_ID", "IN_PROCESS"}}}});
  ASSERT_TRUE(updated.status.ok()) << updated.status.error_message();
  EXPECT_EQ(updated.result(), true);
  json after = stack->Rest("crm.lead.get", {{"id", id}})["result"];
  EXPECT_EQ(after["NAME"], "Новое имя");
  EXPECT_EQ(after["STATUS_ID"], "IN_PROCESS");

  CallOut deleted = Call1(*stack, "crm.lead.delete", {{"id", id}});
  ASSERT_TRUE(deleted.status.ok()) << deleted.status.error_message();
  EXPECT_EQ(deleted.result(), true);
  CallOut gone = Call1(*stack, "crm.lead.get", {{"id", id}});
  EXPECT_EQ(gone.status.error_code(), grpc::StatusCode::NOT_FOUND);
  EXPECT_EQ(InfoOf(gone.status).metadata().at("description"), "Not found");
}

// callMethod('crm.deal.list', {filter:{STAGE_ID:'NEW'}, select:[...]}) and
// callMethod('crm.deal.add', {fields:{TITLE, STAGE_ID, OPPORTUNITY, CURRENCY_ID}})
TEST(JsClientExamples, DealListAndAdd) {
  auto stack = Up();
  ASSERT_TRUE(stack);
  json params = {{"filter", {{"STAGE_ID", "NEW"}}},
                 {"select", {"ID", "TITLE", "OPPORTUNITY", "CURRENCY_ID"}}};
  CallOut list = Call1(*stack, "crm.deal.list", params);
  ASSERT_TRUE(list.status.ok()) << list.status.error_message();
  json direct = stack->Rest("crm.deal.list", params);
  EXPECT_EQ(list.result(), direct["result"]);
  EXPECT_EQ(list.response.total(), direct["total"].get<int64_t>());
  for (const auto& deal : list.result()) {
    EXPECT_EQ(deal.size(), 4u) << deal;  // exactly the selected fields
  }

  CallOut added = Call1(*stack, "crm.deal.add",
                        {{"fields",
                          {{"TITLE", "Новая сделка"},
                           {"STAGE_ID", "NEW"},
                           {"OPPORTUNITY", 100000},
                           {"CURRENCY_ID", "BYN"}}}});
  ASSERT_TRUE(added.status.ok()) << added.status.error_message();
  int64_t id = added.result().get<int64_t>();
  json deal = stack->Rest("crm.deal.get", {{"id", id}})["result"];
  EXPECT_EQ(deal["TITLE"], "Новая сделка");
  EXPECT_EQ(deal["STAGE_ID"], "NEW");
  EXPECT_EQ(deal["OPPORTUNITY"], "100000.00");
  EXPECT_EQ(deal["CURRENCY_ID"], "BYN");
}

// Example 1: createLeadWithContact — crm.contact.add, crm.lead.add with
// CONTACT_ID, crm.lead.contact.add.
TEST(JsClientExamples, CreateLeadWithContact) {
  auto stack = Up();
  ASSERT_TRUE(stack);
  CallOut contact = Call1(*stack, "crm.contact.add",
                          {{"fields", {{"NAME", "Пётр"}, {"LAST_NAME", "Петров"}}}});
  ASSERT_TRUE(contact.status.ok()) << contact.status.error_message();
  int64_t contact_id = contact.result().get<int64_t>();
  CallOut lead = Call1(*stack, "crm.lead.add",
                       {{"fields", {{"TITLE", "Lead with contact"}, {"CONTACT_ID", contact_id}}}});
  ASSERT_TRUE(lead.status.ok()) << lead.status.error_message();
  int64_t lead_id = lead.result().get<int64_t>();
  CallOut link = Call1(*stack, "crm.lead.contact.add",
                       {{"id", lead_id}, {"fields", {{"CONTACT_ID", contact_id}}}});
  ASSERT_TRUE(link.status.ok()) << link.status.error_message();
  EXPECT_EQ(link.result(), true);

  json items = stack->Rest("crm.lead.contact.items.get", {{"id", lead_id}})["result"];
  ASSERT_TRUE(items.is_array()) << items;
  bool found = false;
  for (const auto& i : items) found = found || i["CONTACT_ID"] == contact_id;
  EXPECT_TRUE(found) << items;
  EXPECT_EQ(stack->Rest("crm.contact.get", {{"id", contact_id}})["result"]["NAME"], "Пётр");
}

// callBatch({lead_1: crm.lead.get {id:1}, lead_2: crm.lead.get {id:2},
// leads: crm.lead.list {filter:{'>ID':0}}}, cb, 0)
TEST(JsClientExamples, ThreeCommandBatch) {
  auto stack = Up();
  ASSERT_TRUE(stack);
  BatchOut out = CallBatch(*stack,
                           {{"lead_1", "crm.lead.get", {{"id", 1}}},
                            {"lead_2", "crm.lead.get", {{"id", 2}}},
                            {"leads", "crm.lead.list", {{"filter", {{">ID", 0}}}}}},
                           /*halt=*/false);
  ASSERT_TRUE(out.status.ok()) << out.status.error_message();
  ASSERT_EQ(out.response.results_size(), 3);
  EXPECT_EQ(out.response.results(0).key(), "lead_1");
  EXPECT_EQ(out.response.results(1).key(), "lead_2");
  EXPECT_EQ(out.response.results(2).key(), "leads");
  for (int id : {1, 2}) {
    const pb::CallResult& r = out.response.results(id - 1).result();
    json direct = stack->Rest("crm.lead.get", {{"id", id}});
    if (direct.contains("result")) {
      EXPECT_FALSE(r.has_error()) << r.error().description();
      EXPECT_EQ(J(r.result()), direct["result"]);
    } else {
      // A gap in the seeded ids: the error is reported for this key only.
      EXPECT_EQ(r.error().description(), direct["error_description"]);
      EXPECT_EQ(r.error().grpc_code(), static_cast<int>(grpc::StatusCode::NOT_FOUND));
    }
  }
  const pb::CallResult& leads = out.response.results(2).result();
  ASSERT_FALSE(leads.has_error());
  EXPECT_EQ(J(leads.result()).size(), 50u);
  EXPECT_EQ(leads.total(), 300);
  EXPECT_EQ(leads.next(), 50);
  EXPECT_EQ(J(leads.result()), stack->Rest("crm.lead.list", {{"filter", {{">ID", 0}}}})["result"]);
  json stats = stack->EmulatorStats();
  EXPECT_EQ(StatInt(stats, "batches"), 1);
}

// Example 2: getLeadWithRelated — the company command depends on the lead's
// COMPANY_ID; done in one batch with a $result reference.
TEST(JsClientExamples, LeadWithRelatedDependentBatch) {
  auto stack = Up();
  ASSERT_TRUE(stack);
  json companies = stack->Rest("crm.company.list", {{"select", {"ID"}}})["result"];
  json contacts = stack->Rest("crm.contact.list", {{"select", {"ID"}}})["result"];
  ASSERT_GE(companies.size(), 2u);
  ASSERT_GE(contacts.size(), 1u);
  int64_t company_id = IdOf(companies[1]);
  int64_t contact_id = IdOf(contacts[0]);
  json added = stack->Rest("crm.lead.add", {{"fields",
                                             {{"TITLE", "related"},
                                              {"COMPANY_ID", company_id},
                                              {"CONTACT_ID", contact_id}}}});
  ASSERT_TRUE(added.contains("result")) << added;
  int64_t lead_id = added["result"].get<int64_t>();

  BatchOut out = CallBatch(*stack,
                           {{"lead", "crm.lead.get", {{"id", lead_id}}},
                            {"contacts", "crm.lead.contact.items.get", {{"id", lead_id}}},
                            {"company", "crm.company.get", {{"id", "$result[lead][COMPANY_ID]"}}}});
  ASSERT_TRUE(out.status.ok()) << out.status.error_message();
  auto r = out.by_key();
  ASSERT_EQ(r.size(), 3u);
  ASSERT_FALSE(r["lead"].has_error()) << r["lead"].error().description();
  ASSERT_FALSE(r["contacts"].has_error()) << r["contacts"].error().description();
  ASSERT_FALSE(r["company"].has_error()) << r["company"].error().description();
  EXPECT_EQ(J(r["lead"].result())["COMPANY_ID"], std::to_string(company_id));
  json links = J(r["contacts"].result());
  ASSERT_EQ(links.size(), 1u) << links;
  EXPECT_EQ(links[0]["CONTACT_ID"], contact_id);
  EXPECT_EQ(J(r["company"].result())["ID"], std::to_string(company_id));
  EXPECT_EQ(J(r["company"].result()),
            stack->Rest("crm.company.get", {{"id", company_id}})["result"]);
  EXPECT_EQ(StatInt(stack->EmulatorStats(), "batches"), 1);
}

// The getAllLeads paging loop ({'>ID':0}, select ID NAME, start += 50) is one
// GetAll.
TEST(JsClientExamples, PagingLoopIsGetAll) {
  auto stack = Up();
  ASSERT_TRUE(stack);
  GetAllOut out = GetAll(*stack, "crm.lead.list",
                         {{"filter", {{">ID", 0}}}, {"select", {"ID", "NAME"}}});
  ASSERT_TRUE(out.status.ok()) << out.status.error_message();
  std::vector<json> direct = RestAll(*stack, "crm.lead.list", {{"select", {"ID", "NAME"}}});
  ASSERT_EQ(direct.size(), 300u);
  EXPECT_EQ(out.items, direct);
  ASSERT_TRUE(out.has_summary);
  EXPECT_EQ(out.summary.count(), 300);
  EXPECT_EQ(out.summary.total(), 300);
  EXPECT_TRUE(out.summary.total_matched());
  // Progress for a progress bar: items so far grow to the total.
  ASSERT_FALSE(out.progress.empty());
  EXPECT_EQ(out.progress.back().items_so_far(), 300);
  for (size_t i = 1; i < out.progress.size(); ++i) {
    EXPECT_GE(out.progress[i].items_so_far(), out.progress[i - 1].items_so_far());
  }
}

// The caching example's call and the retry example's crm.lead.list with {}.
TEST(JsClientExamples, PlainListCalls) {
  auto stack = Up();
  ASSERT_TRUE(stack);
  json params = {{"filter", {{">ID", 0}}}, {"select", {"ID", "NAME"}}};
  CallOut cached = Call1(*stack, "crm.lead.list", params);
  ASSERT_TRUE(cached.status.ok()) << cached.status.error_message();
  EXPECT_EQ(cached.result(), stack->Rest("crm.lead.list", params)["result"]);
  CallOut empty = Call1(*stack, "crm.lead.list", json::object());
  ASSERT_TRUE(empty.status.ok()) << empty.status.error_message();
  EXPECT_EQ(empty.result().size(), 50u);
  EXPECT_EQ(empty.response.total(), 300);
}

// callWithRetry: QUERY_LIMIT_EXCEEDED is retried by the gateway itself. The
// gateway's bucket model is made too generous so the portal refuses some
// requests.
TEST(JsClientExamples, QueryLimitExceededIsRetriedByTheGateway) {
  EmulatorSpec emulator;
  emulator.extra_args = {"--bucket-burst", "1", "--bucket-rate", "10"};
  GatewaySpec gateway;
  gateway.portal = {{"burst", 20}, {"drain_per_second", 20}, {"headroom", 0}};
  auto stack = Up(emulator, gateway);
  ASSERT_TRUE(stack);
  std::vector<json> params;
  for (int i = 0; i < 5; ++i) params.push_back({{"filter", {{">ID", i}}}, {"select", {"ID"}}});
  // raw: each call is its own HTTP request, sent concurrently.
  CallOut out = CallBulk(*stack, "crm.lead.list", params, /*raw=*/true);
  ASSERT_TRUE(out.status.ok()) << out.status.error_message();
  ASSERT_EQ(out.response.results_size(), 5);
  for (int i = 0; i < 5; ++i) {
    const pb::CallResult& r = out.response.results(i);
    ASSERT_FALSE(r.has_error()) << i << ": " << r.error().code() << " " << r.error().description();
    EXPECT_GT(IdOf(J(r.result())[0]), i);
  }
  json stats = stack->EmulatorStats();
  EXPECT_GE(StatIn(stats, "errors", "QUERY_LIMIT_EXCEEDED"), 1) << stats.dump();
}

// Error types: a wrong webhook is INVALID_CREDENTIALS -> UNAUTHENTICATED.
TEST(JsClientExamples, WrongWebhookIsUnauthenticated) {
  auto real = Up();
  ASSERT_TRUE(real);
  GatewaySpec gateway;
  gateway.portal = {{"webhook", "http://" + real->emulator().address() + "/rest/1/wrongcode/"}};
  auto wrong = Up({}, gateway);
  ASSERT_TRUE(wrong);
  CallOut out = Call1(*wrong, "crm.lead.add", {{"fields", {{"NAME", "Иван"}}}});
  EXPECT_EQ(out.status.error_code(), grpc::StatusCode::UNAUTHENTICATED);
  EXPECT_EQ(ReasonOf(out.status), "INVALID_CREDENTIALS");
  EXPECT_EQ(Requests(*real), 1);
  EXPECT_EQ(StatIn(real->EmulatorStats(), "created", "crm.lead"), 0);
}

}  // namespace
}  // namespace b24gate::e2e::js_client_examples_test
