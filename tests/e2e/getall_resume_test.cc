// GetAll's resume cursors and strategies end to end: a read stopped part way
// is continued by a new gateway process from the last message's cursor, with
// no item lost or repeated, for every strategy, ordered and unordered; bad
// cursors are refused; the count can be skipped; a list of any length reports
// its total.
#include <gtest/gtest.h>

#include <algorithm>
#include <set>

#include "tests/e2e/rpc_helpers.h"

namespace b24gate::e2e::getall_resume_test {
namespace {

struct Partial {
  grpc::Status status;
  std::vector<int64_t> ids;
  std::vector<std::string> cursors;  // one per message
  bool has_summary = false;
  pb::GetAllSummary summary;
};

// Reads up to `max_messages` messages (all when < 0), then hangs up.
Partial Read(Stack& stack, pb::GetAllRequest request, int max_messages = -1) {
  auto ctx = Ctx(120);
  auto reader = stack.stub().GetAll(ctx.get(), request);
  Partial out;
  pb::GetAllResponse message;
  while ((max_messages < 0 || static_cast<int>(out.cursors.size()) < max_messages) &&
         reader->Read(&message)) {
    for (const auto& item : message.items()) out.ids.push_back(IdOf(J(item)));
    out.cursors.push_back(message.resume_cursor());
    if (message.has_summary()) {
      out.has_summary = true;
      out.summary = message.summary();
    }
  }
  if (max_messages >= 0) ctx->TryCancel();
  out.status = reader->Finish();
  return out;
}

pb::GetAllRequest Leads(pb::ListStrategy strategy, bool unordered) {
  pb::GetAllRequest r;
  r.set_method("crm.lead.list");
  *r.mutable_params() = S({{"select", {"ID", "TITLE"}}, {"filter", {{">ID", 10}}}});
  r.set_strategy(strategy);
  r.set_unordered(unordered);
  return r;
}

std::unique_ptr<Stack> Up() {
  EmulatorSpec emulator;
  emulator.seed = "crm.lead=2400";  // read straight within the bucket's burst too
  auto stack = Stack::Start(emulator);
  EXPECT_TRUE(stack.ok()) << stack.status();
  return stack.ok() ? std::move(*stack) : nullptr;
}

class Resume : public ::testing::TestWithParam<std::tuple<pb::ListStrategy, bool>> {};

TEST_P(Resume, ANewGatewayContinuesAfterTheLastMessage) {
  auto [strategy, unordered] = GetParam();
  auto stack = Up();
  ASSERT_TRUE(stack);
  std::vector<int64_t> expected;
  for (const json& item : RestAll(*stack, "crm.lead.list", {{"select", {"ID"}}})) {
    if (IdOf(item) > 10) expected.push_back(IdOf(item));  // the requests' filter
  }
  ASSERT_GT(expected.size(), 2300u);
  stack->ResetEmulator();

  Partial first = Read(*stack, Leads(strategy, unordered), 15);
  ASSERT_EQ(first.cursors.size(), 15u) << first.status.error_message();
  for (const std::string& c : first.cursors) EXPECT_FALSE(c.empty());
  ASSERT_TRUE(stack->RestartGateway().ok());

  pb::GetAllRequest again = Leads(pb::LIST_STRATEGY_UNSPECIFIED, unordered);
  again.set_resume_cursor(first.cursors.back());
  Partial rest = Read(*stack, again);
  ASSERT_TRUE(rest.status.ok()) << rest.status.error_message();
  std::vector<int64_t> got = first.ids;
  got.insert(got.end(), rest.ids.begin(), rest.ids.end());
  EXPECT_EQ(std::set<int64_t>(got.begin(), got.end()).size(), got.size()) << "an item came twice";
  if (unordered) std::sort(got.begin(), got.end());
  EXPECT_EQ(got, expected);
  ASSERT_TRUE(rest.has_summary);
  EXPECT_EQ(rest.summary.count(), static_cast<int64_t>(expected.size()));
  EXPECT_FALSE(rest.cursors.back().empty());
  json stats = stack->EmulatorStats();
  EXPECT_EQ(StatIn(stats, "errors", "QUERY_LIMIT_EXCEEDED"), 0);
  EXPECT_EQ(StatIn(stats, "errors", "OPERATION_TIME_LIMIT"), 0);
}

INSTANTIATE_TEST_SUITE_P(
    Strategies, Resume,
    ::testing::Values(std::make_tuple(pb::LIST_STRATEGY_OFFSET, false),
                      std::make_tuple(pb::LIST_STRATEGY_KEYSET, false),
                      std::make_tuple(pb::LIST_STRATEGY_PARALLEL_KEYSET, false),
                      std::make_tuple(pb::LIST_STRATEGY_PARALLEL_KEYSET, true)));

TEST(ResumeCursor, GarbledOrForeignCursorsAreRefused) {
  auto stack = Up();
  ASSERT_TRUE(stack);
  Partial first = Read(*stack, Leads(pb::LIST_STRATEGY_UNSPECIFIED, false), 2);
  ASSERT_EQ(first.cursors.size(), 2u);
  // What the stopped read had under way must not count against what follows.
  ASSERT_TRUE(WaitFor([&] {
    pb::PortalState portal;
    return OnlyPortalState(*stack, &portal) && portal.status().in_flight() == 0 &&
           portal.status().queued() == 0;
  }, 10)) << "the gateway still has requests under way after 10 s";
  stack->ResetEmulator();

  pb::GetAllRequest garbled = Leads(pb::LIST_STRATEGY_UNSPECIFIED, false);
  garbled.set_resume_cursor("not-a-cursor");
  Partial out = Read(*stack, garbled);
  EXPECT_EQ(out.status.error_code(), grpc::StatusCode::INVALID_ARGUMENT);
  EXPECT_NE(out.status.error_message().find("resume_cursor"), std::string::npos);

  pb::GetAllRequest other = Leads(pb::LIST_STRATEGY_UNSPECIFIED, false);
  *other.mutable_params() = S({{"select", {"ID"}}});
  other.set_resume_cursor(first.cursors.back());
  out = Read(*stack, other);
  EXPECT_EQ(out.status.error_code(), grpc::StatusCode::INVALID_ARGUMENT);
  EXPECT_NE(out.status.error_message().find("another request"), std::string::npos);

  pb::GetAllRequest forced = Leads(pb::LIST_STRATEGY_OFFSET, false);
  forced.set_resume_cursor(first.cursors.back());
  out = Read(*stack, forced);
  EXPECT_EQ(out.status.error_code(), grpc::StatusCode::INVALID_ARGUMENT);
  // Nothing half-checked reached the portal.
  EXPECT_EQ(Requests(*stack), 0);
}

TEST(Strategies, KeysetOnAMethodWithoutIdOrderIsRefused) {
  auto stack = Up();
  ASSERT_TRUE(stack);
  pb::GetAllRequest r;
  r.set_method("crm.lead.list");
  *r.mutable_params() = S({{"order", {{"TITLE", "ASC"}}}});
  r.set_strategy(pb::LIST_STRATEGY_PARALLEL_KEYSET);
  Partial out = Read(*stack, r);
  EXPECT_EQ(out.status.error_code(), grpc::StatusCode::INVALID_ARGUMENT);
  EXPECT_NE(out.status.error_message().find("params.order"), std::string::npos);
  // Unforced, the same request reads by offset in the caller's order.
  r.set_strategy(pb::LIST_STRATEGY_UNSPECIFIED);
  out = Read(*stack, r);
  ASSERT_TRUE(out.status.ok()) << out.status.error_message();
  EXPECT_EQ(out.summary.strategy(), "offset");
  EXPECT_EQ(out.ids.size(), 2400u);
}

// A list the first page holds whole is read by the parallel keyset's bounds
// query alone, which counts nothing: its length is the total, for an empty
// list too (`<ID 1`: no request at all).
TEST(Strategies, AListOfOnePageOrNoneReportsItsTotal) {
  auto stack = Up();
  ASSERT_TRUE(stack);
  for (int64_t below : {int64_t{1}, int64_t{12}, int64_t{60}}) {
    json params = {{"select", {"ID", "TITLE"}}, {"filter", {{"<ID", below}}}};
    std::vector<json> direct = RestAll(*stack, "crm.lead.list", params);
    ASSERT_LE(direct.size(), 50u) << below;
    pb::GetAllRequest r;
    r.set_method("crm.lead.list");
    *r.mutable_params() = S(params);
    Partial out = Read(*stack, r);
    ASSERT_TRUE(out.status.ok()) << below << ": " << out.status.error_message();
    EXPECT_EQ(out.summary.strategy(), "parallel_keyset") << below;
    EXPECT_EQ(out.ids.size(), direct.size()) << below;
    ASSERT_TRUE(out.summary.has_total()) << below;
    EXPECT_EQ(out.summary.total(), static_cast<int64_t>(direct.size())) << below;
    EXPECT_TRUE(out.summary.total_matched()) << below;
  }
}

TEST(Strategies, SkipTotalReadsEverythingWithoutCounting) {
  auto stack = Up();
  ASSERT_TRUE(stack);
  pb::GetAllRequest r = Leads(pb::LIST_STRATEGY_UNSPECIFIED, false);
  r.set_skip_total(true);
  Partial out = Read(*stack, r);
  ASSERT_TRUE(out.status.ok()) << out.status.error_message();
  EXPECT_FALSE(out.summary.has_total());
  EXPECT_TRUE(out.summary.total_matched());
  EXPECT_EQ(out.summary.count(), static_cast<int64_t>(out.ids.size()));
  EXPECT_TRUE(std::is_sorted(out.ids.begin(), out.ids.end()));
}

}  // namespace
}  // namespace b24gate::e2e::getall_resume_test
