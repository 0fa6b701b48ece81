// Every example of the fast_bitrix24 README (docs/peers.md) run through the
// gateway against the emulator: get_all, get_by_ID, call (bulk, raw, null,
// positional), call_batch with $result.
#include <map>

#include <gtest/gtest.h>

#include "tests/e2e/rpc_helpers.h"

namespace b24gate::e2e::fast_bitrix24_examples_test {
namespace {

// leads = bx.get_all('crm.lead.list')
TEST(FastBitrix24Examples, GetAllLeads) {
  auto stack = Up();
  ASSERT_TRUE(stack);
  GetAllOut out = GetAll(*stack, "crm.lead.list", nullptr);
  ASSERT_TRUE(out.status.ok()) << out.status.error_message();
  ASSERT_EQ(out.items.size(), 300u);
  EXPECT_EQ(out.items, RestAll(*stack, "crm.lead.list", json::object()));
  EXPECT_EQ(out.summary.count(), 300);
  EXPECT_EQ(out.summary.total(), 300);
  EXPECT_TRUE(out.summary.total_matched());
}

// deals = bx.get_all('crm.deal.list', params={'select': ['*', 'UF_*'],
// 'filter': {'CLOSED': 'N'}}), then get_by_ID('crm.deal.contact.items.get',
// [d['ID'] for d in deals]) and call('crm.deal.update', tasks) prefixing every
// title with its ID.
TEST(FastBitrix24Examples, GetAllDealsGetByIdContactsAndRetitle) {
  auto stack = Up();
  ASSERT_TRUE(stack);
  json params = {{"select", {"*", "UF_*"}}, {"filter", {{"CLOSED", "N"}}}};
  GetAllOut deals = GetAll(*stack, "crm.deal.list", params);
  ASSERT_TRUE(deals.status.ok()) << deals.status.error_message();
  std::vector<json> direct = RestAll(*stack, "crm.deal.list", params);
  ASSERT_GT(direct.size(), 50u);  // more than one page
  ASSERT_LT(direct.size(), 120u);  // the filter did something
  EXPECT_EQ(deals.items, direct);
  bool has_uf = false;
  for (const auto& [k, v] : deals.items[0].items()) has_uf = has_uf || k.rfind("UF_", 0) == 0;
  EXPECT_TRUE(has_uf) << deals.items[0];
  for (const auto& d : deals.items) EXPECT_EQ(d["CLOSED"], "N");
  EXPECT_EQ(deals.summary.count(), static_cast<int64_t>(direct.size()));
  EXPECT_TRUE(deals.summary.total_matched());

  // get_by_ID: results in id order, each the portal's answer for that id.
  std::vector<json> ids = IdsOf(deals.items);
  GetByIdOut contacts = GetById(*stack, "crm.deal.contact.items.get", ids);
  ASSERT_TRUE(contacts.status.ok()) << contacts.status.error_message();
  ASSERT_EQ(contacts.results.size(), ids.size());
  // Reference answers straight from the emulator, 50 to a batch.
  std::map<int64_t, json> expected;
  for (size_t i = 0; i < ids.size(); i += 50) {
    json cmd = json::object();
    for (size_t j = i; j < std::min(ids.size(), i + 50); ++j) {
      cmd["d" + ids[j].dump()] = "crm.deal.contact.items.get?id=" + ids[j].dump();
    }
    json answer = stack->Rest("batch", {{"halt", 0}, {"cmd", cmd}});
    for (auto& [key, value] : answer["result"]["result"].items()) {
      expected[std::stoll(key.substr(1))] = value;
    }
  }
  int with_contacts = 0;
  for (size_t i = 0; i < ids.size(); ++i) {
    const pb::IdResult& r = contacts.results[i];
    EXPECT_EQ(J(r.id()), ids[i]);
    ASSERT_FALSE(r.has_error()) << r.error().description();
    EXPECT_EQ(J(r.result()), expected[ids[i].get<int64_t>()]) << "deal " << ids[i];
    with_contacts += !J(r.result()).empty();
  }
  EXPECT_GT(with_contacts, 0);

  // call('crm.deal.update', [{ID, fields: {TITLE: f'{ID} - {TITLE}'}}, ...])
  std::vector<json> tasks;
  for (const auto& d : deals.items) {
    tasks.push_back({{"ID", d["ID"]},
                     {"fields", {{"TITLE", d["ID"].get<std::string>() + " - " +
                                               d["TITLE"].get<std::string>()}}}});
  }
  json before = stack->EmulatorStats();
  CallOut updated = CallBulk(*stack, "crm.deal.update", tasks);
  ASSERT_TRUE(updated.status.ok()) << updated.status.error_message();
  ASSERT_EQ(updated.response.results_size(), static_cast<int>(tasks.size()));
  for (const auto& r : updated.response.results()) {
    ASSERT_FALSE(r.has_error()) << r.error().description();
    EXPECT_EQ(J(r.result()), true);
  }
  json after = stack->EmulatorStats();
  // Packed 50 to a batch.
  EXPECT_EQ(StatInt(after, "batches") - StatInt(before, "batches"),
            static_cast<int64_t>((tasks.size() + 49) / 50));
  std::vector<json> retitled = RestAll(*stack, "crm.deal.list", params);
  ASSERT_EQ(retitled.size(), deals.items.size());
  for (size_t i = 0; i < retitled.size(); ++i) {
    EXPECT_EQ(retitled[i]["TITLE"],
              deals.items[i]["ID"].get<std::string>() + " - " + deals.items[i]["TITLE"].get<std::string>());
  }
}

// bx.call('crm.lead.update', {"ID": 123, "fields": {"DESCRIPTION": None}},
// raw=True) — and the same without raw: the gateway sends JSON by itself.
// Leads have no field named DESCRIPTION (Bitrix24 ignores unknown fields), so
// the call also erases the lead's real description fields, COMMENTS and
// SOURCE_DESCRIPTION, to show that null arrives as null.
TEST(FastBitrix24Examples, EraseDescriptionWithNull) {
  auto stack = Up();
  ASSERT_TRUE(stack);
  std::vector<json> leads = RestAll(*stack, "crm.lead.list", {{"select", {"ID"}}});
  ASSERT_GE(leads.size(), 2u);
  for (bool raw : {false, true}) {
    int64_t id = IdOf(leads[raw ? 1 : 0]);
    json set = stack->Rest("crm.lead.update",
                           {{"id", id},
                            {"fields", {{"COMMENTS", "to be erased"}, {"SOURCE_DESCRIPTION", "this too"}}}});
    ASSERT_EQ(set["result"], true) << set;
    json before = stack->Rest("crm.lead.get", {{"id", id}})["result"];
    ASSERT_EQ(before["COMMENTS"], "to be erased");
    ASSERT_EQ(before["SOURCE_DESCRIPTION"], "this too");
    CallOut out = Call1(*stack, "crm.lead.update",
                        {{"ID", id},
                         {"fields",
                          {{"DESCRIPTION", nullptr}, {"COMMENTS", nullptr}, {"SOURCE_DESCRIPTION", nullptr}}}},
                        raw);
    ASSERT_TRUE(out.status.ok()) << out.status.error_message();
    EXPECT_EQ(out.result(), true);
    json after = stack->Rest("crm.lead.get", {{"id", id}})["result"];
    EXPECT_TRUE(after["COMMENTS"].is_null()) << "raw=" << raw << ": " << after["COMMENTS"];
    EXPECT_TRUE(after["SOURCE_DESCRIPTION"].is_null()) << "raw=" << raw << ": " << after["SOURCE_DESCRIPTION"];
    EXPECT_EQ(after["TITLE"], before["TITLE"]);  // nothing else changed
  }
  // Neither call went inside a batch (a query string cannot carry null).
  EXPECT_EQ(StatInt(stack->EmulatorStats(), "batches"), 0);
}

// bx.call('task.commentitem.add', [123, {"POST_MESSAGE": "..."}], raw=True)
// — and without raw: a top-level list travels as JSON by itself.
TEST(FastBitrix24Examples, TaskCommentWithPositionalParams) {
  auto stack = Up();
  ASSERT_TRUE(stack);
  json tasks = stack->Rest("tasks.task.list", {{"select", {"ID"}}})["result"]["tasks"];
  ASSERT_GE(tasks.size(), 1u) << tasks;
  int64_t task_id = IdOf(tasks[0], "id");
  for (bool raw : {true, false}) {
    std::string message = raw ? "Комментарий к задаче" : "Комментарий без raw";
    CallOut out = Call1(*stack, "task.commentitem.add", json::array({task_id, {{"POST_MESSAGE", message}}}), raw);
    ASSERT_TRUE(out.status.ok()) << out.status.error_message();
    EXPECT_TRUE(out.result().is_number_integer()) << out.result();
    json comments = stack->Rest("task.commentitem.getlist", json::array({task_id}))["result"];
    bool found = false;
    for (const auto& c : comments) found = found || c["POST_MESSAGE"] == message;
    EXPECT_TRUE(found) << comments;
  }
  EXPECT_EQ(StatIn(stack->EmulatorStats(), "errors", "ERROR_CORE"), 0);
}

// bx.call_batch({'halt': 0, 'cmd': {'deals': 'crm.deal.list', 'activities':
// 'crm.activity.list?filter[ENTITY_TYPE]=3&filter[ENTITY_ID]=$result[deals][0][ID]'}})
TEST(FastBitrix24Examples, CallBatchWithResultReference) {
  auto stack = Up();
  ASSERT_TRUE(stack);
  BatchOut out = CallBatch(
      *stack,
      {{"deals", "crm.deal.list", nullptr},
       {"activities",
        "crm.activity.list?filter[ENTITY_TYPE]=3&filter[ENTITY_ID]=$result[deals][0][ID]", nullptr}},
      /*halt=*/false);
  ASSERT_TRUE(out.status.ok()) << out.status.error_message();
  auto r = out.by_key();
  ASSERT_FALSE(r["deals"].has_error()) << r["deals"].error().description();
  ASSERT_FALSE(r["activities"].has_error()) << r["activities"].error().description();
  json deals = J(r["deals"].result());
  ASSERT_EQ(deals.size(), 50u);
  EXPECT_EQ(r["deals"].total(), 120);
  json first_id = deals[0]["ID"];
  json direct = stack->Rest("crm.activity.list",
                            {{"filter", {{"ENTITY_TYPE", 3}, {"ENTITY_ID", first_id}}}});
  EXPECT_EQ(J(r["activities"].result()), direct["result"]);
  // The reference was resolved by the portal (one batch), not left as text:
  // a list that ignored the filter would be a full page of activities.
  json unfiltered = stack->Rest("crm.activity.list", json::object());
  EXPECT_NE(J(r["activities"].result()), unfiltered["result"]);
  EXPECT_EQ(StatInt(stack->EmulatorStats(), "batches"), 1);
}

// bx.call('crm.lead.add', {'fields': {'TITLE': 'Чпок'}})
TEST(FastBitrix24Examples, SingleCallWithParams) {
  auto stack = Up();
  ASSERT_TRUE(stack);
  CallOut out = Call1(*stack, "crm.lead.add", {{"fields", {{"TITLE", "Чпок"}}}});
  ASSERT_TRUE(out.status.ok()) << out.status.error_message();
  ASSERT_TRUE(out.result().is_number_integer()) << out.result();
  int64_t id = out.result().get<int64_t>();
  EXPECT_EQ(stack->Rest("crm.lead.get", {{"id", id}})["result"]["TITLE"], "Чпок");
  EXPECT_EQ(StatIn(stack->EmulatorStats(), "created", "crm.lead"), 1);
}

}  // namespace
}  // namespace b24gate::e2e::fast_bitrix24_examples_test
