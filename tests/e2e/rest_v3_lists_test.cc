// REST 3.0 through the streaming RPCs, end to end (a real b24gate in front
// of a real b24-emulator): GetAll reads a v3 list whole (every task once, in
// the order asked, the same tasks the classic list has; the event log by its
// tail cursor and by offset), GetById calls the
// v3 get per id, and CallMany's v3 writes struck by a fault after the
// emulator ran them land exactly once.
#include <algorithm>
#include <set>
#include <string>
#include <vector>

#include <gtest/gtest.h>

#include "absl/strings/match.h"
#include "absl/strings/str_cat.h"
#include "tests/e2e/rpc_helpers.h"

namespace b24gate::e2e::rest_v3_lists_test {
namespace {

constexpr int kTasks = 2500;
constexpr int kEvents = 3000;

// `limits`: the emulator enforces the standard plan's bucket and operating
// time, and the gateway keeps to its default (standard) model of them.
std::unique_ptr<Stack> UpWithTasks(bool limits = false) {
  EmulatorSpec emulator;
  emulator.seed = absl::StrCat("tasks.task=", kTasks, ",user=12,main.eventlog=", kEvents);
  GatewaySpec gateway;
  if (!limits) {
    emulator.extra_args = {"--no-limits"};
    gateway.portal = {{"burst", 10000}, {"drain_per_second", 10000}};
  }
  return Up(std::move(emulator), std::move(gateway));
}

pb::GetAllRequest V3List(const json& params) {
  pb::GetAllRequest request;
  request.set_method("tasks.task.list");
  *request.mutable_params() = S(params);
  request.set_api_version(pb::API_VERSION_V3);
  return request;
}

std::vector<int64_t> Ids(const std::vector<json>& items, const char* key) {
  std::vector<int64_t> ids;
  for (const json& item : items) ids.push_back(IdOf(item, key));
  return ids;
}

TEST(RestV3Lists, GetAllReadsEveryTaskOnceInIdOrder) {
  auto stack = UpWithTasks(/*limits=*/true);
  ASSERT_TRUE(stack);
  GetAllOut classic = GetAll(*stack, "tasks.task.list", {{"select", {"ID"}}});
  ASSERT_TRUE(classic.status.ok()) << classic.status.error_message();
  std::vector<int64_t> want = Ids(classic.items, "id");
  std::sort(want.begin(), want.end());
  ASSERT_EQ(want.size(), static_cast<size_t>(kTasks));

  stack->ResetEmulator();
  GetAllOut v3 = GetAllWith(*stack, V3List({{"select", {"id", "title"}}}));
  ASSERT_TRUE(v3.status.ok()) << v3.status.error_message();
  EXPECT_EQ(Ids(v3.items, "id"), want);  // each once, ascending
  EXPECT_EQ(v3.summary.strategy(), "v3_parallel_keyset");
  EXPECT_EQ(v3.summary.count(), kTasks);
  EXPECT_FALSE(v3.summary.has_total());
  EXPECT_TRUE(v3.items[0]["title"].is_string());
  // A REST 3.0 batch of the first page (1000, the method's maximum) and the
  // highest id; then ids 1001..1900 and 1901.. (to the end) in two batches
  // side by side, each piece ending in its one page.
  EXPECT_EQ(Requests(*stack), 3);
  json stats = stack->EmulatorStats();
  EXPECT_EQ(StatInt(stats, "batches"), 3);
  EXPECT_EQ(StatIn(stats, "errors", "QUERY_LIMIT_EXCEEDED"), 0);
  EXPECT_EQ(StatIn(stats, "errors", "OPERATION_TIME_LIMIT"), 0);

  // One chain, as LIST_STRATEGY_KEYSET asks: pages of 1000 one after
  // another, 1000, 1000, 500, the last short.
  stack->ResetEmulator();
  pb::GetAllRequest chain = V3List({{"select", {"id"}}});
  chain.set_strategy(pb::LIST_STRATEGY_KEYSET);
  GetAllOut one = GetAllWith(*stack, chain);
  ASSERT_TRUE(one.status.ok()) << one.status.error_message();
  EXPECT_EQ(Ids(one.items, "id"), want);
  EXPECT_EQ(one.summary.strategy(), "v3_keyset");
  EXPECT_EQ(Requests(*stack), 3);
  EXPECT_EQ(StatInt(stack->EmulatorStats(), "batches"), 0);
}

// Pieces are cut by the first page's density; where the ids are denser
// than that, a piece runs on past its first page. Every task still comes
// once, in id order, within the caller's own filter.
TEST(RestV3Lists, AParallelReadOfUnevenIdsMissesAndRepeatsNothing) {
  auto stack = UpWithTasks();
  ASSERT_TRUE(stack);
  GetAllOut all = GetAllWith(*stack, V3List({{"select", {"id"}}}));
  ASSERT_TRUE(all.status.ok()) << all.status.error_message();
  const std::vector<int64_t> ids = Ids(all.items, "id");
  ASSERT_EQ(ids.size(), static_cast<size_t>(kTasks));
  // Every other one of the first 800 tasks deleted (REST 3.0 batches of 50
  // deletes): the first page spans 1.4 times as many ids as a page of the
  // rest, so the piece cut after it holds more than a page.
  std::vector<int64_t> want;
  pb::CallBatchRequest deletes;
  deletes.set_api_version(pb::API_VERSION_V3);
  for (size_t i = 0; i < ids.size(); ++i) {
    if (i >= 800 || i % 2 == 1) {
      if (ids[i] > ids[1]) want.push_back(ids[i]);
      continue;
    }
    pb::BatchCommand* c = deletes.add_commands();
    c->set_key(absl::StrCat("d", ids[i]));
    c->set_method("tasks.task.delete");
    *c->mutable_params() = S({{"id", ids[i]}});
  }
  pb::CallBatchResponse deleted;
  ASSERT_TRUE(stack->stub().CallBatch(Ctx(60).get(), deletes, &deleted).ok());
  for (const auto& r : deleted.results()) ASSERT_FALSE(r.result().has_error()) << r.key();
  stack->ResetEmulator();
  GetAllOut read =
      GetAllWith(*stack, V3List({{"select", {"id"}}, {"filter", {{"id", ">", ids[1]}}}}));
  ASSERT_TRUE(read.status.ok()) << read.status.error_message();
  EXPECT_EQ(Ids(read.items, "id"), want);
  EXPECT_EQ(read.summary.strategy(), "v3_parallel_keyset");
  const json stats = stack->EmulatorStats();
  // The probe, the pieces, and at least one piece's next page: all batches.
  EXPECT_GE(StatInt(stats, "requests"), 3);
  EXPECT_EQ(StatInt(stats, "requests"), StatInt(stats, "batches"));
}

TEST(RestV3Lists, GetAllInAnotherOrderReadsByOffset) {
  auto stack = UpWithTasks();
  ASSERT_TRUE(stack);
  GetAllOut v3 = GetAllWith(*stack, V3List({{"select", {"id", "title"}},
                                            {"order", {{"title", "DESC"}}}}));
  ASSERT_TRUE(v3.status.ok()) << v3.status.error_message();
  EXPECT_EQ(v3.summary.strategy(), "v3_offset");
  ASSERT_EQ(v3.items.size(), static_cast<size_t>(kTasks));
  std::vector<int64_t> ids = Ids(v3.items, "id");
  EXPECT_EQ(std::set<int64_t>(ids.begin(), ids.end()).size(), ids.size());
  for (size_t i = 1; i < v3.items.size(); ++i) {
    ASSERT_GE(v3.items[i - 1]["title"].get<std::string>(), v3.items[i]["title"].get<std::string>())
        << i;
  }
}

TEST(RestV3Lists, GetAllFollowsATailCursorAndReadsOtherOrdersByOffset) {
  auto stack = UpWithTasks();
  ASSERT_TRUE(stack);
  stack->ResetEmulator();
  pb::GetAllRequest tail = V3List({{"select", {"id", "auditTypeId"}}, {"cursor", {{"order", "ASC"}}}});
  tail.set_method("main.eventlog.tail");
  GetAllOut read = GetAllWith(*stack, tail);
  ASSERT_TRUE(read.status.ok()) << read.status.error_message();
  EXPECT_EQ(read.summary.strategy(), "v3_tail");
  std::vector<int64_t> want;
  for (int64_t id = 1; id <= kEvents; ++id) want.push_back(id);
  EXPECT_EQ(Ids(read.items, "id"), want);
  // Three full pages of 1000, then an empty one ends it.
  EXPECT_EQ(Requests(*stack), 4);

  pb::GetAllRequest newest_first = V3List({{"select", {"id"}}, {"order", {{"id", "DESC"}}}});
  newest_first.set_method("main.eventlog.list");
  GetAllOut desc = GetAllWith(*stack, newest_first);
  ASSERT_TRUE(desc.status.ok()) << desc.status.error_message();
  EXPECT_EQ(desc.summary.strategy(), "v3_offset");
  std::reverse(want.begin(), want.end());
  EXPECT_EQ(Ids(desc.items, "id"), want);
}

// A portal configured with "api_version": "v3" sends what names no version
// to REST 3.0; API_VERSION_CLASSIC still reaches classic REST.
TEST(RestV3Lists, APortalsDefaultVersionAppliesToRequestsThatNameNone) {
  auto stack = UpWithApiVersion("v3");
  ASSERT_TRUE(stack);
  pb::GetAllRequest list = V3List({{"select", {"id"}}});
  list.clear_api_version();
  GetAllOut read = GetAllWith(*stack, list);
  ASSERT_TRUE(read.status.ok()) << read.status.error_message();
  EXPECT_EQ(read.summary.strategy(), "v3_parallel_keyset");
  ASSERT_FALSE(read.items.empty());
  const int64_t id = IdOf(read.items[0], "id");
  CallOut v3 = Call1(*stack, "tasks.task.get", {{"id", id}});
  ASSERT_TRUE(v3.status.ok()) << v3.status.error_message();
  EXPECT_EQ(IdOf(v3.result()["item"], "id"), id);
  ExpectClassicTaskGet(*stack, id);
}

TEST(RestV3Lists, GetAllRefusesPagingItDoesItself) {
  auto stack = UpWithTasks();
  ASSERT_TRUE(stack);
  stack->ResetEmulator();
  GetAllOut out = GetAllWith(*stack, V3List({{"pagination", {{"limit", 10}}}}));
  EXPECT_EQ(out.status.error_code(), grpc::StatusCode::INVALID_ARGUMENT);
  EXPECT_EQ(out.status.error_message().rfind("params.pagination", 0), 0u)
      << out.status.error_message();
  EXPECT_EQ(Requests(*stack), 0);
}

TEST(RestV3Lists, GetByIdCallsTheV3GetPerId) {
  auto stack = UpWithTasks();
  ASSERT_TRUE(stack);
  GetAllOut some = GetAllWith(*stack, V3List({{"filter", {{"id", "<=", 40}}}}));
  ASSERT_TRUE(some.status.ok()) << some.status.error_message();
  ASSERT_GE(some.items.size(), 2u);
  const int64_t a = IdOf(some.items[0], "id");
  const int64_t b = IdOf(some.items[1], "id");
  pb::GetByIdRequest request;
  request.set_method("tasks.task.get");
  for (int64_t id : {b, int64_t{99999999}, a}) *request.add_ids() = V(id);
  *request.mutable_params() = S({{"select", {"id", "title"}}});
  request.set_api_version(pb::API_VERSION_V3);
  GetByIdOut out = GetByIdWith(*stack, request);
  ASSERT_TRUE(out.status.ok()) << out.status.error_message();
  ASSERT_EQ(out.results.size(), 3u);
  EXPECT_EQ(IdOf(J(out.results[0].result())["item"], "id"), b);
  EXPECT_EQ(out.results[1].error().grpc_code(), static_cast<int>(grpc::StatusCode::NOT_FOUND));
  EXPECT_EQ(out.results[1].error().code(), "BITRIX_REST_V3_EXCEPTION_ENTITYNOTFOUNDEXCEPTION");
  EXPECT_EQ(IdOf(J(out.results[2].result())["item"], "id"), a);
}

TEST(RestV3Lists, CallManyV3WritesLandExactlyOnceThroughFaults) {
  auto stack = UpWithTasks();
  ASSERT_TRUE(stack);
  stack->ResetEmulator();
  // The emulator runs the first two adds it gets, then answers one with 500
  // and resets the other's connection.
  stack->SetFaults("500=@1,reset=@1,method=tasks.task.add");
  pb::CallManyRequest request;
  request.set_method("tasks.task.add");
  for (int i = 0; i < 6; ++i) {
    *request.add_params() = V({{"fields", {{"title", absl::StrCat("many ", i)},
                                           {"creatorId", 1}, {"responsibleId", 2}}}});
  }
  request.set_api_version(pb::API_VERSION_V3);
  CallManyOut out = DoCallMany(*stack, request, 120);
  ASSERT_TRUE(out.status.ok()) << out.status.error_message();
  ASSERT_EQ(out.results.size(), 6u);
  std::set<int64_t> ids;
  for (const pb::CallResult& r : out.results) {
    ASSERT_FALSE(r.has_error()) << r.error().code() << " " << r.error().description();
    ids.insert(IdOf(J(r.result())["item"], "id"));
  }
  EXPECT_EQ(ids.size(), 6u);
  const json stats = stack->EmulatorStats();
  EXPECT_EQ(StatIn(stats, "created", "tasks.task"), 6);
  EXPECT_EQ(StatInt(stats, "idempotent_replays"), 2);
  EXPECT_EQ(StatInt(stats, "idempotency_overlaps"), 0);
}

// A caller's own keys make a repeat of the whole CallMany (as after a lost
// answer or a gateway restart) land each keyed write once: the portal
// answers them from its store, while a set left without a key runs again.
TEST(RestV3Lists, CallManyWithTheCallersKeysLandsEachKeyedWriteOnce) {
  auto stack = UpWithTasks();
  ASSERT_TRUE(stack);
  stack->ResetEmulator();
  pb::CallManyRequest request;
  request.set_method("tasks.task.add");
  request.set_api_version(pb::API_VERSION_V3);
  for (int i = 0; i < 3; ++i) {
    // A Struct's keys arrive in any order; the gateway sorts them, so the
    // repeat is the same body.
    *request.add_params() = V({{"fields", {{"title", absl::StrCat("keyed ", i)},
                                           {"creatorId", 1}, {"responsibleId", 2}}}});
  }
  for (const char* key : {"order-1", "order-2", ""}) request.add_idempotency_keys(key);
  CallManyOut first = DoCallMany(*stack, request, 60);
  ASSERT_TRUE(first.status.ok()) << first.status.error_message();
  CallManyOut again = DoCallMany(*stack, request, 60);
  ASSERT_TRUE(again.status.ok()) << again.status.error_message();
  ASSERT_EQ(first.results.size(), 3u);
  ASSERT_EQ(again.results.size(), 3u);
  for (int i = 0; i < 3; ++i) {
    ASSERT_FALSE(again.results[i].has_error()) << again.results[i].error().description();
    const bool keyed = i < 2;
    EXPECT_EQ(J(again.results[i].result()) == J(first.results[i].result()), keyed) << i;
  }
  const json stats = stack->EmulatorStats();
  EXPECT_EQ(StatIn(stats, "created", "tasks.task"), 4);
  EXPECT_EQ(StatInt(stats, "idempotent_replays"), 2);
}

TEST(RestV3Lists, CallManyKeysTheGatewayCannotHonourAreRefusedUnsent) {
  auto stack = UpWithTasks();
  ASSERT_TRUE(stack);
  stack->ResetEmulator();
  auto many = [](std::vector<std::string> keys, pb::ApiVersion api) {
    pb::CallManyRequest r;
    r.set_method("tasks.task.add");
    r.set_api_version(api);
    for (int i = 0; i < 2; ++i) *r.add_params() = V({{"fields", {{"title", "t"}}}});
    for (const std::string& k : keys) r.add_idempotency_keys(k);
    return r;
  };
  for (const auto& [request, field] :
       {std::pair{many({"a", "b"}, pb::API_VERSION_CLASSIC), "idempotency_keys"},
        std::pair{many({"a"}, pb::API_VERSION_V3), "idempotency_keys"},
        std::pair{many({"a", "a"}, pb::API_VERSION_V3), "idempotency_keys[1]"},
        std::pair{many({"tab\there", ""}, pb::API_VERSION_V3), "idempotency_keys[0]"}}) {
    CallManyOut out = DoCallMany(*stack, request, 30);
    EXPECT_EQ(out.status.error_code(), grpc::StatusCode::INVALID_ARGUMENT) << field;
    EXPECT_TRUE(absl::StrContains(out.status.error_message(), field))
        << out.status.error_message();
  }
  EXPECT_EQ(Requests(*stack), 0);
}

}  // namespace
}  // namespace b24gate::e2e::rest_v3_lists_test
