// The read cache end to end: a real gateway with a "cache" section in front
// of the emulator, whose request counter shows what reached the portal: a hit
// (whatever the parameters' key order), a different `order` key order is a
// different read, TTL expiry, bypass, refresh, invalidation by writes (Call,
// bulk Call, CallBatch), errors never cached, GetById per id, LRU eviction
// at the size bound, and the cache metrics; then two gateways sharing the
// cache through a real redis-server.
#include <chrono>
#include <iostream>
#include <thread>

#include <gtest/gtest.h>

#include "absl/strings/match.h"
#include "tests/e2e/harness.h"
#include "tests/e2e/replica.h"
#include "tests/e2e/rpc_helpers.h"
#include "tests/support/redis_server.h"

namespace b24gate::e2e::cache_test {
namespace {

using SteadyClock = std::chrono::steady_clock;

// How long lead gets live in the cache.
constexpr std::chrono::seconds kLeadTtl(2);

// Deals lists and gets for five minutes, lead gets for kLeadTtl.
json CacheSection(int max_entries = 1000) {
  return {{"rules",
           {{{"methods", {"crm.*.list", "crm.deal.get"}}, {"ttl_seconds", 300}},
            {{"methods", "crm.lead.get"}, {"ttl_seconds", kLeadTtl.count()}}}},
          {"max_entries", max_entries}};
}

std::unique_ptr<Stack> CachedStack(int max_entries = 1000, std::vector<std::string> args = {}) {
  GatewaySpec gateway;
  gateway.settings = {{"cache", CacheSection(max_entries)}};
  gateway.extra_args = std::move(args);
  return Up({}, gateway);
}

pb::CallRequest Read(const std::string& method, const std::string& params_json,
                     pb::CacheMode mode = pb::CACHE_MODE_UNSPECIFIED) {
  pb::CallRequest request;
  request.set_method(method);
  request.set_params_json(params_json);
  request.set_cache(mode);
  return request;
}

// Requests that reached the emulator while `body` ran.
template <typename F>
int64_t RequestsDuring(Stack& stack, F body) {
  int64_t before = Requests(stack);
  body();
  return Requests(stack) - before;
}

std::string TitleOf(const CallOut& out) { return out.result().value("TITLE", ""); }

// Runs `read` of a lead cached at or after `stored_from` and expects it a
// hit: certain only while the entry is younger than kLeadTtl, so a machine
// that starved the test past that (the read proves nothing then) skips the
// check rather than fail it.
template <typename F>
void ExpectLeadHitWhileFresh(Stack& stack, SteadyClock::time_point stored_from, F read) {
  const int64_t sent = RequestsDuring(stack, read);
  if (SteadyClock::now() - stored_from < kLeadTtl) {
    EXPECT_EQ(sent, 0) << "a hit within the TTL";
  } else {
    std::cout << "the lead's TTL passed before the read: its hit is not checked\n";
  }
}

// Waits until an entry cached before now has certainly expired.
void OutliveLeadTtl() { std::this_thread::sleep_for(kLeadTtl + std::chrono::milliseconds(300)); }

// The first `n` deal ids, straight from the emulator.
std::vector<json> DealIds(Stack& stack, size_t n) {
  json page = stack.Rest("crm.deal.list", {{"select", {"ID"}}, {"order", {{"ID", "ASC"}}}});
  std::vector<json> ids = IdsOf(page["result"].get<std::vector<json>>());
  EXPECT_GE(ids.size(), n);
  ids.resize(n);
  return ids;
}

TEST(ReadCache, SecondReadIsAHitWhateverTheKeyOrder) {
  auto stack = CachedStack();
  ASSERT_TRUE(stack);
  const std::string a = R"({"select":["ID","TITLE"],"filter":{">ID":3,"<ID":40}})";
  const std::string b = R"({"filter":{"<ID":40,">ID":3},"select":["ID","TITLE"]})";
  CallOut first, second;
  EXPECT_EQ(RequestsDuring(*stack, [&] { first = DoCall(*stack, Read("crm.deal.list", a)); }), 1);
  ASSERT_TRUE(first.status.ok()) << first.status.error_message();
  EXPECT_EQ(RequestsDuring(*stack, [&] { second = DoCall(*stack, Read("crm.deal.list", b)); }), 0)
      << "the same read with its keys in another order must be a hit";
  ASSERT_TRUE(second.status.ok());
  EXPECT_EQ(first.result(), second.result());
  EXPECT_EQ(first.response.total(), second.response.total());
  EXPECT_GT(first.result().size(), 0u);
}

TEST(ReadCache, OrderKeyOrderIsADifferentRead) {
  auto stack = CachedStack();
  ASSERT_TRUE(stack);
  const std::string by_stage = R"({"order":{"STAGE_ID":"ASC","ID":"DESC"},"select":["ID","STAGE_ID"]})";
  const std::string by_id = R"({"order":{"ID":"DESC","STAGE_ID":"ASC"},"select":["ID","STAGE_ID"]})";
  CallOut x, y;
  EXPECT_EQ(RequestsDuring(*stack, [&] { x = DoCall(*stack, Read("crm.deal.list", by_stage)); }), 1);
  EXPECT_EQ(RequestsDuring(*stack, [&] { y = DoCall(*stack, Read("crm.deal.list", by_id)); }), 1)
      << "Bitrix24 sorts by `order`'s keys in the order given: not the same read";
  ASSERT_TRUE(x.status.ok() && y.status.ok());
  EXPECT_NE(x.result(), y.result());
  EXPECT_EQ(RequestsDuring(*stack, [&] { DoCall(*stack, Read("crm.deal.list", by_id)); }), 0);
}

TEST(ReadCache, EntriesExpireAfterTheirRulesTimeToLive) {
  auto stack = CachedStack();
  ASSERT_TRUE(stack);
  const std::string lead = R"({"id":2})";
  auto read = [&] { DoCall(*stack, Read("crm.lead.get", lead)); };
  SteadyClock::time_point stored_from = SteadyClock::now();
  EXPECT_EQ(RequestsDuring(*stack, read), 1);
  ExpectLeadHitWhileFresh(*stack, stored_from, read);
  OutliveLeadTtl();
  stored_from = SteadyClock::now();
  EXPECT_EQ(RequestsDuring(*stack, read), 1) << "expired";
  ExpectLeadHitWhileFresh(*stack, stored_from, read);
}

TEST(ReadCache, BypassAndRefresh) {
  auto stack = CachedStack();
  ASSERT_TRUE(stack);
  const json id = DealIds(*stack, 1)[0];
  const std::string deal = json{{"id", id}}.dump();
  // A bypassed read neither answers from nor fills the cache.
  EXPECT_EQ(RequestsDuring(*stack, [&] { DoCall(*stack, Read("crm.deal.get", deal, pb::CACHE_MODE_BYPASS)); }), 1);
  EXPECT_EQ(RequestsDuring(*stack, [&] { DoCall(*stack, Read("crm.deal.get", deal)); }), 1);
  EXPECT_EQ(RequestsDuring(*stack, [&] { DoCall(*stack, Read("crm.deal.get", deal, pb::CACHE_MODE_BYPASS)); }), 1);
  // Changed behind the gateway's back: the cache still has the old title.
  json changed = stack->Rest("crm.deal.update", {{"id", id}, {"fields", {{"TITLE", "Changed elsewhere"}}}});
  ASSERT_EQ(changed["result"], true) << changed.dump();
  CallOut stale = DoCall(*stack, Read("crm.deal.get", deal));
  EXPECT_NE(TitleOf(stale), "Changed elsewhere");
  CallOut fresh;
  EXPECT_EQ(RequestsDuring(*stack, [&] { fresh = DoCall(*stack, Read("crm.deal.get", deal, pb::CACHE_MODE_REFRESH)); }), 1);
  EXPECT_EQ(TitleOf(fresh), "Changed elsewhere");
  CallOut after;
  EXPECT_EQ(RequestsDuring(*stack, [&] { after = DoCall(*stack, Read("crm.deal.get", deal)); }), 0);
  EXPECT_EQ(TitleOf(after), "Changed elsewhere") << "a refresh replaces the cached answer";
}

TEST(ReadCache, WritesThroughTheGatewayDropTheirEntityTypesReads) {
  auto stack = CachedStack();
  ASSERT_TRUE(stack);
  const std::vector<json> id = DealIds(*stack, 2);
  const std::string deal = json{{"id", id[0]}}.dump();
  const std::string leads = R"({"select":["ID"]})";
  DoCall(*stack, Read("crm.deal.get", deal));
  DoCall(*stack, Read("crm.lead.list", leads));
  ASSERT_EQ(RequestsDuring(*stack, [&] { DoCall(*stack, Read("crm.deal.get", deal)); }), 0);

  // Call.
  CallOut update = Call1(*stack, "crm.deal.update", {{"id", id[0]}, {"fields", {{"TITLE", "One"}}}});
  ASSERT_TRUE(update.status.ok()) << update.status.error_message();
  CallOut read;
  EXPECT_EQ(RequestsDuring(*stack, [&] { read = DoCall(*stack, Read("crm.deal.get", deal)); }), 1);
  EXPECT_EQ(TitleOf(read), "One");
  EXPECT_EQ(RequestsDuring(*stack, [&] { DoCall(*stack, Read("crm.lead.list", leads)); }), 0)
      << "a deal write leaves cached leads alone";

  // Bulk Call.
  CallOut bulk = CallBulk(*stack, "crm.deal.update", {{{"id", id[0]}, {"fields", {{"TITLE", "Two"}}}},
                                                      {{"id", id[1]}, {"fields", {{"TITLE", "Two b"}}}}});
  ASSERT_TRUE(bulk.status.ok());
  EXPECT_EQ(RequestsDuring(*stack, [&] { read = DoCall(*stack, Read("crm.deal.get", deal)); }), 1);
  EXPECT_EQ(TitleOf(read), "Two");

  // CallBatch, the method in Bitrix24's "method?query" form.
  BatchOut batch = CallBatch(*stack, {{"u", "crm.deal.update?id=" + id[0].dump() + "&fields[TITLE]=Three", nullptr}});
  ASSERT_TRUE(batch.status.ok()) << batch.status.error_message();
  EXPECT_EQ(RequestsDuring(*stack, [&] { read = DoCall(*stack, Read("crm.deal.get", deal)); }), 1);
  EXPECT_EQ(TitleOf(read), "Three");

  // CallMany of adds drops cached deal lists.
  const std::string deals = R"({"select":["ID"],"order":{"ID":"DESC"}})";
  CallOut list_before = DoCall(*stack, Read("crm.deal.list", deals));
  CallManyOut added = CallMany(*stack, "crm.deal.add", {{{"fields", {{"TITLE", "New deal"}}}}});
  ASSERT_TRUE(added.status.ok());
  CallOut list_after;
  EXPECT_EQ(RequestsDuring(*stack, [&] { list_after = DoCall(*stack, Read("crm.deal.list", deals)); }), 1);
  EXPECT_EQ(list_after.response.total(), list_before.response.total() + 1);
}

TEST(ReadCache, ErrorsAreNeverCached) {
  auto stack = CachedStack();
  ASSERT_TRUE(stack);
  const std::string missing = R"({"id":987654})";
  CallOut first = DoCall(*stack, Read("crm.deal.get", missing));
  EXPECT_EQ(first.status.error_code(), grpc::StatusCode::NOT_FOUND);
  EXPECT_EQ(RequestsDuring(*stack, [&] { DoCall(*stack, Read("crm.deal.get", missing)); }), 1);
}

TEST(ReadCache, GetByIdIsCachedPerId) {
  auto stack = CachedStack();
  ASSERT_TRUE(stack);
  std::vector<json> id = DealIds(*stack, 4);
  GetByIdOut first = GetById(*stack, "crm.deal.get", {id[0], id[1], id[2]});
  ASSERT_TRUE(first.status.ok());
  for (const auto& r : first.results) ASSERT_FALSE(r.has_error()) << r.error().description();
  GetByIdOut second;
  EXPECT_EQ(RequestsDuring(*stack, [&] { second = GetById(*stack, "crm.deal.get", {id[2], id[1], id[0]}); }), 0);
  ASSERT_EQ(second.results.size(), 3u);
  EXPECT_EQ(J(second.results[0].result())["ID"], std::to_string(IdOf({{"ID", id[2]}})));
  EXPECT_EQ(J(second.results[2].result())["ID"], std::to_string(IdOf({{"ID", id[0]}})));
  // One new id among cached ones: only it is asked for.
  GetByIdOut mixed;
  int64_t sent = RequestsDuring(*stack, [&] { mixed = GetById(*stack, "crm.deal.get", {id[0], id[3], id[1]}); });
  EXPECT_EQ(sent, 1);
  ASSERT_EQ(mixed.results.size(), 3u);
  EXPECT_EQ(J(mixed.results[1].result())["ID"], std::to_string(IdOf({{"ID", id[3]}})));
}

TEST(ReadCache, LeastRecentlyUsedEntryIsEvictedAtTheBound) {
  auto stack = CachedStack(/*max_entries=*/3, {"--metrics-listen", "127.0.0.1:0"});
  ASSERT_TRUE(stack);
  std::vector<json> id = DealIds(*stack, 5);
  auto get = [&](int i) {
    CallOut out = DoCall(*stack, Read("crm.deal.get", json{{"id", id[i]}}.dump()));
    EXPECT_TRUE(out.status.ok()) << out.status.error_message();
  };
  for (int i : {1, 2, 3}) get(i);
  EXPECT_EQ(RequestsDuring(*stack, [&] { get(1); }), 0);  // 2 is now the least recently used
  EXPECT_EQ(RequestsDuring(*stack, [&] { get(4); }), 1);  // evicts 2
  EXPECT_EQ(RequestsDuring(*stack, [&] { get(1); get(3); get(4); }), 0);
  EXPECT_EQ(RequestsDuring(*stack, [&] { get(2); }), 1) << "2 was evicted";

  // The metrics say the same: 4 hits (1, 1, 3, 4), 5 misses, 2 evictions
  // (2, then 1 for 2's return), 3 entries.
  std::string text = ScrapeMetrics(stack->gateway());
  ASSERT_FALSE(text.empty());
  EXPECT_TRUE(absl::StrContains(text, "b24gate_cache_hits_total{portal=\"main\"} 4")) << text;
  EXPECT_TRUE(absl::StrContains(text, "b24gate_cache_misses_total{portal=\"main\"} 5"));
  EXPECT_TRUE(absl::StrContains(text, "b24gate_cache_evictions_total{portal=\"main\"} 2"));
  EXPECT_TRUE(absl::StrContains(text, "b24gate_cache_entries{portal=\"main\"} 3"));
}

TEST(ReadCache, OffWithoutACacheSection) {
  auto stack = Up();
  ASSERT_TRUE(stack);
  DoCall(*stack, Read("crm.deal.get", R"({"id":1})"));
  EXPECT_EQ(RequestsDuring(*stack, [&] { DoCall(*stack, Read("crm.deal.get", R"({"id":1})")); }), 1);
}

TEST(ReadCache, TwoGatewaysShareItThroughRedis) {
  auto redis = testing::RedisServer::Start();
  ASSERT_TRUE(redis.ok()) << redis.status();
  const std::vector<std::string> args = {"--redis", (*redis)->url(), "--replicas", "2"};
  auto stack = CachedStack(1000, args);
  ASSERT_TRUE(stack);
  json portal = {{"name", "main"}, {"webhook", stack->webhook_url()}};
  json config = GatewayConfig(portal);
  config["cache"] = CacheSection();
  auto second = StartReplica(config, args);
  ASSERT_TRUE(second.ok()) << second.status();
  auto call_second = [&](const pb::CallRequest& request) {
    CallOut out;
    out.status = second->stub->Call(Ctx().get(), request, &out.response);
    return out;
  };

  const std::string deal = json{{"id", DealIds(*stack, 1)[0]}}.dump();
  CallOut first, other;
  EXPECT_EQ(RequestsDuring(*stack, [&] { first = DoCall(*stack, Read("crm.deal.get", deal)); }), 1);
  EXPECT_EQ(RequestsDuring(*stack, [&] { other = call_second(Read("crm.deal.get", deal)); }), 0)
      << "the other gateway's answer is a hit through Redis";
  ASSERT_TRUE(other.status.ok()) << other.status.error_message();
  EXPECT_EQ(first.result(), other.result());

  // A write through the second gateway drops the entry for the first.
  pb::CallRequest update;
  update.set_method("crm.deal.update");
  *update.mutable_params() = V({{"id", json::parse(deal)["id"]}, {"fields", {{"TITLE", "Shared"}}}});
  ASSERT_TRUE(call_second(update).status.ok());
  CallOut fresh;
  EXPECT_EQ(RequestsDuring(*stack, [&] { fresh = DoCall(*stack, Read("crm.deal.get", deal)); }), 1);
  EXPECT_EQ(TitleOf(fresh), "Shared");
  EXPECT_EQ(RequestsDuring(*stack, [&] { call_second(Read("crm.deal.get", deal)); }), 0);

  // Redis's expiry is the TTL.
  const std::string lead = R"({"id":2})";
  const SteadyClock::time_point stored_from = SteadyClock::now();
  EXPECT_EQ(RequestsDuring(*stack, [&] { DoCall(*stack, Read("crm.lead.get", lead)); }), 1);
  ExpectLeadHitWhileFresh(*stack, stored_from, [&] { call_second(Read("crm.lead.get", lead)); });
  OutliveLeadTtl();
  EXPECT_EQ(RequestsDuring(*stack, [&] { call_second(Read("crm.lead.get", lead)); }), 1) << "expired";

  // Redis gone: reads go to the portal, callers see no error.
  (*redis)->Kill();
  CallOut without;
  EXPECT_EQ(RequestsDuring(*stack, [&] { without = DoCall(*stack, Read("crm.deal.get", deal)); }), 1);
  EXPECT_TRUE(without.status.ok()) << without.status.error_message();
  EXPECT_EQ(TitleOf(without), "Shared");
}

}  // namespace
}  // namespace b24gate::e2e::cache_test
