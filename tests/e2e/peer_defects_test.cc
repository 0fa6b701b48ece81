// One test per known fast_bitrix24 defect (docs/peers.md) that
// concerns Call / CallBatch / GetAll / GetById: b24gate gets each one right.
#include <algorithm>
#include <random>
#include <set>

#include <gtest/gtest.h>

#include "tests/e2e/rpc_helpers.h"

namespace b24gate::e2e::peer_defects_test {
namespace {

std::vector<json> LeadIds(Stack& stack, size_t n) {
  std::vector<json> ids = IdsOf(RestAll(stack, "crm.lead.list", {{"select", {"ID"}}}));
  if (ids.size() > n) ids.resize(n);
  return ids;
}

// Batch query strings must not carry None as "None" nor booleans as
// "True"/"False" (fast_bitrix24 #156, #223).
TEST(PeerDefects, BooleansAndNullInBulkCallAreNotSentAsText) {
  auto stack = Up();
  ASSERT_TRUE(stack);
  std::vector<json> ids = LeadIds(*stack, 4);
  ASSERT_EQ(ids.size(), 4u);
  ASSERT_EQ(stack->Rest("crm.lead.update", {{"id", ids[2]}, {"fields", {{"COMMENTS", "erase me"}}}})["result"],
            true);
  std::vector<json> params = {
      {{"id", ids[0]}, {"fields", {{"OPENED", true}, {"SOURCE_DESCRIPTION", true}}}},
      {{"id", ids[1]}, {"fields", {{"OPENED", false}, {"SOURCE_DESCRIPTION", false}}}},
      {{"id", ids[2]}, {"fields", {{"COMMENTS", nullptr}}}},
      {{"id", ids[3]}, {"fields", {{"OPENED", true}, {"COMMENTS", "kept"}}}},
  };
  CallOut out = CallBulk(*stack, "crm.lead.update", params);
  ASSERT_TRUE(out.status.ok()) << out.status.error_message();
  ASSERT_EQ(out.response.results_size(), 4);
  for (const auto& r : out.response.results()) {
    ASSERT_FALSE(r.has_error()) << r.error().description();
    EXPECT_EQ(J(r.result()), true);
  }
  json a = stack->Rest("crm.lead.get", {{"id", ids[0]}})["result"];
  json b = stack->Rest("crm.lead.get", {{"id", ids[1]}})["result"];
  json c = stack->Rest("crm.lead.get", {{"id", ids[2]}})["result"];
  json d = stack->Rest("crm.lead.get", {{"id", ids[3]}})["result"];
  // As PHP's http_build_query: true -> "1", false -> "0".
  EXPECT_EQ(a["SOURCE_DESCRIPTION"], "1");
  EXPECT_EQ(b["SOURCE_DESCRIPTION"], "0");
  EXPECT_EQ(a["OPENED"], "Y");
  EXPECT_EQ(b["OPENED"], "N");
  EXPECT_TRUE(c["COMMENTS"].is_null()) << c["COMMENTS"];  // erased, not "None"
  EXPECT_EQ(d["OPENED"], "Y");
  EXPECT_EQ(d["COMMENTS"], "kept");
  // The booleans shared one batch; the null call went alone as JSON.
  json stats = stack->EmulatorStats();
  EXPECT_EQ(StatInt(stats, "batches"), 1);
}

// Every batched call is accounted under its real method, not `batch`; each
// item's `time` carries that method's operating time (and the gateway never
// chokes on `time.operating`, unlike respect_velocity_policy=False).
TEST(PeerDefects, BatchedCallsAreCountedUnderTheirRealMethods) {
  auto stack = Up();
  ASSERT_TRUE(stack);
  std::vector<json> params;
  for (int i = 0; i < 3; ++i) params.push_back({{"filter", {{">ID", i * 10}}}, {"select", {"ID"}}});
  CallOut out = CallBulk(*stack, "crm.deal.list", params);
  ASSERT_TRUE(out.status.ok()) << out.status.error_message();
  ASSERT_EQ(out.response.results_size(), 3);
  for (const auto& r : out.response.results()) {
    ASSERT_FALSE(r.has_error());
    json time = J(r.time());
    ASSERT_TRUE(time.contains("operating")) << time;
    EXPECT_GT(time["operating"].get<double>(), 0);
  }
  json stats = stack->EmulatorStats();
  EXPECT_EQ(StatInt(stats, "batches"), 1);
  ASSERT_TRUE(stats["operating"].contains("crm.deal.list")) << stats["operating"];
  EXPECT_GT(stats["operating"]["crm.deal.list"].get<double>(), 0);
}

// get_by_ID / call with 51 and 101 items (a last batch of exactly one) lose
// or scramble a result in fast_bitrix24.
TEST(PeerDefects, BulkCallAndGetByIdWithALastBatchOfOne) {
  auto stack = Up();
  ASSERT_TRUE(stack);
  std::vector<json> all = LeadIds(*stack, 101);
  ASSERT_EQ(all.size(), 101u);
  for (size_t n : {51u, 101u}) {
    std::vector<json> ids(all.begin(), all.begin() + n);
    std::vector<json> params;
    for (const auto& id : ids) params.push_back({{"id", id}});
    int64_t batches_before = StatInt(stack->EmulatorStats(), "batches");
    CallOut bulk = CallBulk(*stack, "crm.lead.get", params);
    ASSERT_TRUE(bulk.status.ok()) << bulk.status.error_message();
    ASSERT_EQ(bulk.response.results_size(), static_cast<int>(n));
    for (size_t i = 0; i < n; ++i) {
      const pb::CallResult& r = bulk.response.results(static_cast<int>(i));
      ASSERT_FALSE(r.has_error()) << n << "/" << i << ": " << r.error().description();
      EXPECT_EQ(IdOf(J(r.result())), ids[i].get<int64_t>()) << n << "/" << i;
    }
    int64_t batches_after = StatInt(stack->EmulatorStats(), "batches");
    // ceil(n/50) requests; the last single one may travel alone or as a batch.
    EXPECT_GE(batches_after - batches_before, static_cast<int64_t>(n / 50));

    GetByIdOut by_id = GetById(*stack, "crm.lead.get", ids);
    ASSERT_TRUE(by_id.status.ok()) << by_id.status.error_message();
    ASSERT_EQ(by_id.results.size(), n);
    for (size_t i = 0; i < n; ++i) {
      EXPECT_EQ(J(by_id.results[i].id()), ids[i]);
      ASSERT_FALSE(by_id.results[i].has_error()) << by_id.results[i].error().description();
      EXPECT_EQ(IdOf(J(by_id.results[i].result())), ids[i].get<int64_t>());
    }
  }
}

// call() results come back in request order (#170, #234), also when some
// items fail and when every item travels as its own request.
TEST(PeerDefects, CallResultsAreInRequestOrder) {
  auto stack = Up();
  ASSERT_TRUE(stack);
  std::vector<json> ids = LeadIds(*stack, 70);
  ASSERT_EQ(ids.size(), 70u);
  std::mt19937 rng(7);
  std::shuffle(ids.begin(), ids.end(), rng);
  ids.insert(ids.begin() + 13, 999999);  // a missing lead in the middle
  for (bool raw : {false, true}) {
    std::vector<json> params;
    for (const auto& id : ids) params.push_back({{"id", id}});
    if (raw) params.resize(10);  // separate requests: keep within the rate limit
    CallOut out = CallBulk(*stack, "crm.lead.get", params, raw);
    ASSERT_TRUE(out.status.ok()) << out.status.error_message();
    ASSERT_EQ(out.response.results_size(), static_cast<int>(params.size()));
    for (size_t i = 0; i < params.size(); ++i) {
      const pb::CallResult& r = out.response.results(static_cast<int>(i));
      if (i == 13) {
        ASSERT_TRUE(r.has_error());
        EXPECT_EQ(r.error().grpc_code(), static_cast<int>(grpc::StatusCode::NOT_FOUND));
        EXPECT_EQ(r.error().description(), "Not found");
        continue;
      }
      ASSERT_FALSE(r.has_error()) << i << ": " << r.error().description();
      EXPECT_EQ(IdOf(J(r.result())), ids[i].get<int64_t>()) << "raw=" << raw << " item " << i;
    }
  }
}

// No parameter such as `__order` is injected: a positional legacy method
// (which refuses any extra parameter) works in a bulk Call (#234, #157).
TEST(PeerDefects, NoInjectedParametersPositionalMethodInBulkCall) {
  auto stack = Up();
  ASSERT_TRUE(stack);
  json tasks = stack->Rest("tasks.task.list", {{"select", {"ID"}}})["result"]["tasks"];
  ASSERT_GE(tasks.size(), 3u);
  std::vector<json> params;
  for (int i = 0; i < 3; ++i) {
    params.push_back(json::array({IdOf(tasks[i], "id"), {{"POST_MESSAGE", "bulk comment " + std::to_string(i)}}}));
  }
  CallOut out = CallBulk(*stack, "task.commentitem.add", params);
  ASSERT_TRUE(out.status.ok()) << out.status.error_message();
  ASSERT_EQ(out.response.results_size(), 3);
  for (int i = 0; i < 3; ++i) {
    const pb::CallResult& r = out.response.results(i);
    ASSERT_FALSE(r.has_error()) << r.error().code() << " " << r.error().description();
    EXPECT_TRUE(J(r.result()).is_number_integer());
    json comments = stack->Rest("task.commentitem.getlist", json::array({IdOf(tasks[i], "id")}))["result"];
    bool found = false;
    for (const auto& c : comments) found = found || c["POST_MESSAGE"] == "bulk comment " + std::to_string(i);
    EXPECT_TRUE(found) << comments;
  }
  EXPECT_EQ(StatIn(stack->EmulatorStats(), "errors", "ERROR_CORE"), 0);
}

// An error inside a 200 answer (a batch's result_error) is an error, never an
// empty result (fast_bitrix24 yields None), and the bulk call's other
// results are kept (the PHP SDK loses them).
TEST(PeerDefects, ErrorInside200AnswerIsAnError) {
  auto stack = Up();
  ASSERT_TRUE(stack);
  std::vector<json> ids = LeadIds(*stack, 1);
  CallOut out = CallBulk(*stack, "crm.lead.get", {{{"id", ids[0]}}, {{"id", 999999}}, {{"id", ids[0]}}});
  ASSERT_TRUE(out.status.ok()) << out.status.error_message();
  ASSERT_EQ(out.response.results_size(), 3);
  EXPECT_FALSE(out.response.results(0).has_error());
  const pb::CallResult& bad = out.response.results(1);
  ASSERT_TRUE(bad.has_error());
  EXPECT_FALSE(bad.has_result());
  EXPECT_EQ(bad.error().code(), "");
  EXPECT_EQ(bad.error().description(), "Not found");
  EXPECT_EQ(bad.error().grpc_code(), static_cast<int>(grpc::StatusCode::NOT_FOUND));
  EXPECT_FALSE(out.response.results(2).has_error());
  EXPECT_EQ(StatInt(stack->EmulatorStats(), "batches"), 1);
}

// The PHP SDK throws for a whole `halt=0` batch when one command fails
// (result_error set, HTTP 200), losing the others' results. CallBatch keeps
// each: the failed command's error in its place, every other result as
// answered, all from one batch request.
TEST(PeerDefects, OneFailedCommandInABatchLosesNoOtherResult) {
  auto stack = Up();
  ASSERT_TRUE(stack);
  std::vector<json> ids = LeadIds(*stack, 2);
  ASSERT_EQ(ids.size(), 2u);
  stack->ResetEmulator();
  BatchOut out = CallBatch(*stack,
                           {{"first", "crm.lead.get", {{"id", ids[0]}}},
                            {"broken", "crm.lead.get", {{"id", 999999}}},
                            {"added", "crm.lead.add", {{"fields", {{"TITLE", "kept"}}}}},
                            {"last", "crm.lead.get", {{"id", ids[1]}}}},
                           /*halt=*/false);
  ASSERT_TRUE(out.status.ok()) << out.status.error_message();
  EXPECT_EQ(StatInt(stack->EmulatorStats(), "requests"), 1);
  auto results = out.by_key();
  ASSERT_EQ(results.size(), 4u);
  EXPECT_EQ(results["broken"].error().description(), "Not found");
  EXPECT_EQ(results["broken"].error().grpc_code(), static_cast<int>(grpc::StatusCode::NOT_FOUND));
  ASSERT_FALSE(results["first"].has_error()) << results["first"].error().description();
  EXPECT_EQ(IdOf(J(results["first"].result())), ids[0].get<int64_t>());
  ASSERT_FALSE(results["last"].has_error()) << results["last"].error().description();
  EXPECT_EQ(IdOf(J(results["last"].result())), ids[1].get<int64_t>());
  ASSERT_FALSE(results["added"].has_error()) << results["added"].error().description();
  const json added = stack->Rest("crm.lead.get", {{"id", J(results["added"].result())}});
  EXPECT_EQ(added["result"]["TITLE"], "kept") << added;
}

// An HTML error page is a clear error, not a crash. Reads are repeated (and
// succeed); writes are not repeated and say the outcome is unknown.
TEST(PeerDefects, HtmlErrorPageYieldsAClearError) {
  auto stack = Up();
  ASSERT_TRUE(stack);
  stack->SetFaults("502=@1");
  CallOut read = Call1(*stack, "crm.lead.list", {{"select", {"ID"}}});
  ASSERT_TRUE(read.status.ok()) << read.status.error_message();
  EXPECT_EQ(read.result().size(), 50u);
  json stats = stack->EmulatorStats();
  EXPECT_EQ(StatIn(stats, "faults_injected", "502"), 1) << stats.dump();
  EXPECT_EQ(StatInt(stats, "requests"), 2);

  stack->ResetEmulator();
  stack->SetFaults("504=@1");
  CallOut write = Call1(*stack, "crm.lead.add", {{"fields", {{"TITLE", "once"}}}});
  EXPECT_EQ(write.status.error_code(), grpc::StatusCode::UNAVAILABLE);
  EXPECT_EQ(ReasonOf(write.status), "OUTCOME_UNKNOWN");
  EXPECT_NE(write.status.error_message().find("504"), std::string::npos) << write.status.error_message();
  EXPECT_NE(write.status.error_message().find("not JSON"), std::string::npos) << write.status.error_message();
  stats = stack->EmulatorStats();
  EXPECT_EQ(StatIn(stats, "faults_injected", "504"), 1);
  EXPECT_EQ(StatInt(stats, "requests"), 1);               // not repeated ...
  EXPECT_EQ(StatIn(stats, "created", "crm.lead"), 1);     // ... so created once

  // The same for a JSON 500 (INTERNAL_SERVER_ERROR).
  stack->ResetEmulator();
  stack->SetFaults("500=@1");
  CallOut write500 = Call1(*stack, "crm.lead.add", {{"fields", {{"TITLE", "once more"}}}});
  EXPECT_EQ(write500.status.error_code(), grpc::StatusCode::UNAVAILABLE);
  EXPECT_EQ(ReasonOf(write500.status), "OUTCOME_UNKNOWN");
  stats = stack->EmulatorStats();
  EXPECT_EQ(StatInt(stats, "requests"), 1);
  EXPECT_EQ(StatIn(stats, "created", "crm.lead"), 1);
}

// A rejected credential is not retried (fast_bitrix24 loops for ever).
TEST(PeerDefects, RejectedCredentialIsNotRetried) {
  auto real = Up();
  ASSERT_TRUE(real);
  GatewaySpec gateway;
  gateway.portal = {{"webhook", "http://" + real->emulator().address() + "/rest/1/rejected/"}};
  auto wrong = Up({}, gateway);
  ASSERT_TRUE(wrong);

  CallOut call = Call1(*wrong, "crm.lead.list", json::object());
  EXPECT_EQ(call.status.error_code(), grpc::StatusCode::UNAUTHENTICATED);
  EXPECT_EQ(ReasonOf(call.status), "INVALID_CREDENTIALS");
  EXPECT_EQ(Requests(*real), 1);

  GetAllOut all = GetAll(*wrong, "crm.lead.list", json::object());
  EXPECT_EQ(all.status.error_code(), grpc::StatusCode::UNAUTHENTICATED);
  EXPECT_EQ(Requests(*real), 2);

  CallOut bulk = CallBulk(*wrong, "crm.lead.get", {{{"id", 1}}, {{"id", 2}}});
  if (bulk.status.ok()) {
    ASSERT_EQ(bulk.response.results_size(), 2);
    for (const auto& r : bulk.response.results()) {
      EXPECT_EQ(r.error().code(), "INVALID_CREDENTIALS");
      EXPECT_EQ(r.error().grpc_code(), static_cast<int>(grpc::StatusCode::UNAUTHENTICATED));
    }
  } else {
    EXPECT_EQ(bulk.status.error_code(), grpc::StatusCode::UNAUTHENTICATED);
  }
  EXPECT_EQ(Requests(*real), 3);
}

// Reference: crm.timeline.comment.list read straight from the emulator by
// following `next`.
std::vector<json> RestFollowNext(Stack& stack, const std::string& method) {
  std::vector<json> out;
  int64_t start = 0;
  for (int guard = 0; guard < 40; ++guard) {
    json page = stack.Rest(method, {{"start", start}});
    EXPECT_TRUE(page.contains("result")) << page;
    if (!page.contains("result")) return out;
    EXPECT_FALSE(page.contains("total")) << "the method was expected to have no total";
    for (const auto& item : page["result"]) out.push_back(item);
    if (!page.contains("next")) return out;
    start = page["next"].get<int64_t>();
  }
  return out;
}

// Methods without `total` are read to the end, not only their first page
// (#260, #265).
TEST(PeerDefects, ListWithoutTotalIsReadToTheEnd) {
  auto stack = Up();
  ASSERT_TRUE(stack);
  GetAllOut out = GetAll(*stack, "crm.timeline.comment.list", json::object());
  ASSERT_TRUE(out.status.ok()) << out.status.error_message();
  std::vector<json> direct = RestFollowNext(*stack, "crm.timeline.comment.list");
  ASSERT_GT(direct.size(), 100u);  // several pages
  EXPECT_EQ(out.items, direct);
  ASSERT_TRUE(out.has_summary);
  EXPECT_EQ(out.summary.count(), static_cast<int64_t>(direct.size()));
  EXPECT_FALSE(out.summary.has_total());
}

// The forced `order` breaks methods that refuse it (#196, #236, #98): the
// gateway adds none.
TEST(PeerDefects, MethodThatRefusesOrderWorksWithGetAll) {
  auto stack = Up();
  ASSERT_TRUE(stack);
  json refused = stack->Rest("crm.timeline.comment.list", {{"order", {{"ID", "ASC"}}}});
  ASSERT_EQ(refused["error"], "INVALID_ARG_VALUE") << refused;  // the method really refuses it
  stack->ResetEmulator();
  GetAllOut out = GetAll(*stack, "crm.timeline.comment.list", {{"select", {"ID", "COMMENT"}}});
  ASSERT_TRUE(out.status.ok()) << out.status.error_message();
  EXPECT_GT(out.items.size(), 50u);
  json stats = stack->EmulatorStats();
  EXPECT_EQ(StatIn(stats, "errors", "INVALID_ARG_VALUE"), 0) << stats.dump();
}

// Keyset paging: 3,500 leads in ID order, each once, no OPERATION_TIME_LIMIT,
// and far fewer HTTP requests than pages (#187, #216).
TEST(PeerDefects, KeysetReadingOfALongList) {
  EmulatorSpec emulator;
  emulator.seed = "crm.lead=3500";
  auto stack = Up(emulator);
  ASSERT_TRUE(stack);
  GetAllOut out = GetAll(*stack, "crm.lead.list", {{"select", {"ID", "TITLE"}}});
  ASSERT_TRUE(out.status.ok()) << out.status.error_message();
  ASSERT_EQ(out.items.size(), 3500u);
  std::vector<int64_t> ids;
  for (const auto& i : out.items) ids.push_back(IdOf(i));
  EXPECT_TRUE(std::is_sorted(ids.begin(), ids.end()));
  EXPECT_EQ(std::set<int64_t>(ids.begin(), ids.end()).size(), ids.size());
  EXPECT_EQ(out.summary.strategy(), "parallel_keyset");
  EXPECT_EQ(out.summary.count(), 3500);
  EXPECT_EQ(out.summary.total(), 3500);
  EXPECT_TRUE(out.summary.total_matched());
  json stats = stack->EmulatorStats();
  EXPECT_EQ(StatIn(stats, "errors", "OPERATION_TIME_LIMIT"), 0);
  EXPECT_EQ(StatIn(stats, "errors", "QUERY_LIMIT_EXCEEDED"), 0);
  // 70 pages in far fewer requests, never one a page. With the bucket idle
  // the read spends some of it to end sooner (the count's batch carries fewer
  // pages, and the tail is split so that the connections finish together):
  // 23-25 requests here.
  EXPECT_LE(StatInt(stats, "requests"), 35) << stats.dump();
  // The last row really is the last lead.
  json last = stack->Rest("crm.lead.list", {{"order", {{"ID", "DESC"}}}, {"select", {"ID"}}})["result"][0];
  EXPECT_EQ(ids.back(), IdOf(last));
}

// GetById with 10,000 ids and the default client settings (4 MiB message
// limit): every result present, in order.
TEST(PeerDefects, GetByIdWithTenThousandIds) {
  EmulatorSpec emulator;
  emulator.seed = "crm.lead=10000";
  emulator.extra_args = {"--no-limits", "--cost-zero"};
  GatewaySpec gateway;
  gateway.portal = {{"burst", 100000}, {"drain_per_second", 100000}, {"headroom", 0}};
  auto stack = Up(emulator, gateway);
  ASSERT_TRUE(stack);
  GetAllOut all = GetAll(*stack, "crm.lead.list", {{"select", {"ID"}}});
  ASSERT_TRUE(all.status.ok()) << all.status.error_message();
  ASSERT_EQ(all.items.size(), 10000u);
  std::vector<json> ids = IdsOf(all.items);
  GetByIdOut out = GetById(*stack, "crm.lead.get", ids);
  ASSERT_TRUE(out.status.ok()) << out.status.error_message();
  ASSERT_EQ(out.results.size(), ids.size());
  for (size_t i = 0; i < ids.size(); ++i) {
    ASSERT_EQ(J(out.results[i].id()), ids[i]) << i;
    ASSERT_FALSE(out.results[i].has_error()) << i << ": " << out.results[i].error().description();
    ASSERT_EQ(IdOf(J(out.results[i].result())), ids[i].get<int64_t>()) << i;
  }
  EXPECT_GT(out.messages, 1);  // streamed in chunks below the limit
  json stats = stack->EmulatorStats();
  EXPECT_EQ(StatInt(stats, "commands") >= 10000, true) << stats.dump();
}

}  // namespace
}  // namespace b24gate::e2e::peer_defects_test
