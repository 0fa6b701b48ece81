// REST 3.0 lists through a ListReader, against a fake v3 list method: every
// item exactly once and in the order asked, the end found by the longest page
// seen (the fake cuts `limit` to its own maximum, as tasks.task.list does),
// the caller's filter kept, tail cursors followed, resume cursors exact, and
// refusals naming the field.
#include <algorithm>
#include <set>
#include <string>
#include <vector>

#include <gtest/gtest.h>

#include "engine/lists/v3_list_strategy.h"
#include "tests/engine/lists/list_test_util.h"

namespace b24gate::v3_list_strategy_test {
namespace {

using json = nlohmann::ordered_json;

// A REST 3.0 list method over ids: {"items": [{"id", "title"}]}. Reads
// filter conditions on id (["id", op, n]), `order` by id or title, ASC or
// DESC, `pagination` {limit, offset} and a tail `cursor` {field, value,
// order, limit}; pages hold at most `max_page` items whatever the limit.
class FakeV3List {
 public:
  FakeV3List(std::vector<int64_t> ids, int64_t max_page) : ids_(std::move(ids)), max_page_(max_page) {}

  FakeDispatcher* dispatcher() { return &dispatcher_; }
  Clock* clock() { return &clock_; }
  int requests() const { return dispatcher_.requests(); }
  const std::vector<json>& sent() const { return sent_; }
  // Answers as if the id filter were not there (a portal ignoring it).
  void IgnoreIdFilter() { ignore_filter_ = true; }

  // Pages sent alone, and REST 3.0 batches of them (each page's result
  // under its key, as the portal's batch answers).
  int AnswerWaiting() {
    int answered = 0;
    for (auto& r : dispatcher_.TakeAll()) {
      ++answered;
      EXPECT_EQ(r.options.api, RestApi::kV3);
      if (!r.is_batch) {
        sent_.push_back(r.params);
        CallReply reply;
        reply.result = {{"items", Page(r.params)}};
        r.call_done(std::move(reply));
        continue;
      }
      ++batches_;
      EXPECT_LE(r.commands.size(), 50u);
      BatchResult out;
      for (const BatchCommandSpec& c : r.commands) {
        sent_.push_back(c.params);
        CallReply reply;
        reply.result = {{"items", Page(c.params)}};
        out.outcomes[c.key] = std::move(reply);
      }
      r.batch_done(std::move(out));
    }
    return answered;
  }
  int batches() const { return batches_; }

 private:
  static std::string Title(int64_t id) { return "Task " + std::to_string(10000 - id); }

  bool Passes(int64_t id, const json& params) const {
    const json filter = params.value("filter", json::array());
    for (const json& c : filter) {
      const std::string op = c[1].get<std::string>();
      const int64_t v = c[2].get<int64_t>();
      if (ignore_filter_ && op == ">") continue;
      if ((op == ">" && !(id > v)) || (op == "<=" && !(id <= v))) return false;
    }
    return true;
  }

  json Page(const json& params) const {
    std::vector<int64_t> rows;
    for (int64_t id : ids_) {
      if (Passes(id, params)) rows.push_back(id);
    }
    bool by_title = false, desc = false;
    int64_t limit = 50, offset = 0;
    const json order = params.value("order", json::object());
    for (const auto& [field, dir] : order.items()) {
      by_title = field == "title";
      desc = dir == "DESC";
    }
    if (params.contains("pagination")) {
      limit = params["pagination"].value("limit", int64_t{50});
      offset = params["pagination"].value("offset", int64_t{0});
    }
    if (params.contains("cursor")) {
      const json& c = params["cursor"];
      desc = c.value("order", std::string("ASC")) == "DESC";
      limit = c.value("limit", int64_t{50});
      const int64_t value = c.value("value", int64_t{desc ? INT64_MAX : 0});
      rows.erase(std::remove_if(rows.begin(), rows.end(),
                                [&](int64_t id) { return desc ? id >= value : id <= value; }),
                 rows.end());
    }
    std::stable_sort(rows.begin(), rows.end(), [&](int64_t a, int64_t b) {
      if (by_title) return desc ? Title(a) > Title(b) : Title(a) < Title(b);
      return desc ? a > b : a < b;
    });
    json items = json::array();
    limit = std::min(limit, max_page_);
    for (size_t i = offset; i < rows.size() && static_cast<int64_t>(items.size()) < limit; ++i) {
      items.push_back({{"id", rows[i]}, {"title", Title(rows[i])}});
    }
    return items;
  }

  FakeDispatcher dispatcher_;
  FakeClock clock_;
  std::vector<int64_t> ids_;
  const int64_t max_page_;
  bool ignore_filter_ = false;
  std::vector<json> sent_;
  int batches_ = 0;
};

ListRequest V3Request(json params = json::object(),
                      ListStrategyKind strategy = ListStrategyKind::kDefault) {
  ListRequest r;
  r.method = "tasks.task.list";
  r.params = std::move(params);
  r.options.api = RestApi::kV3;
  r.strategy = strategy;
  return r;
}

std::vector<int64_t> Sorted(std::vector<int64_t> v, bool desc = false) {
  std::sort(v.begin(), v.end());
  if (desc) std::reverse(v.begin(), v.end());
  return v;
}

TEST(V3ListStrategy, KeysetReadsEveryItemOnceAndEndsOnTheFirstShortPage) {
  // Pages are cut to 300 although 1000 are asked for: a reader that ended on
  // a page shorter than its limit would stop after the first.
  FakeV3List server(Ids(2345, 3), /*max_page=*/300);
  ReadOutcome out = ReadList(&server, V3Request(json::object(), ListStrategyKind::kKeysetChain));
  ASSERT_TRUE(out.status.ok()) << out.status;
  EXPECT_EQ(out.Ids("id"), Ids(2345, 3));
  EXPECT_EQ(out.summary.strategy, "v3_keyset");
  EXPECT_EQ(out.summary.count, 2345);
  EXPECT_FALSE(out.summary.total.has_value());
  EXPECT_EQ(server.requests(), 8);  // 7 pages of 300, one of 245
  for (const ListPage& page : out.pages) EXPECT_FALSE(page.total.has_value());
  const json& second = server.sent()[1];
  EXPECT_EQ(second["filter"].back(), json::array({"id", ">", 1 + 299 * 3}));
  EXPECT_EQ(second["pagination"], json({{"limit", kV3PageLimit}}));
  EXPECT_EQ(second["order"], json({{"id", "ASC"}}));
}

TEST(V3ListStrategy, AListOfWholePagesEndsOnAnEmptyPage) {
  FakeV3List server(Ids(600), /*max_page=*/300);
  ReadOutcome out = ReadList(&server, V3Request(json::object(), ListStrategyKind::kKeysetChain));
  ASSERT_TRUE(out.status.ok()) << out.status;
  EXPECT_EQ(out.Ids("id"), Ids(600));
  EXPECT_EQ(server.requests(), 3);
}

TEST(V3ListStrategy, TheCallersFilterAndSelectAreKept) {
  FakeV3List server(Ids(3000), /*max_page=*/1000);
  ReadOutcome out = ReadList(&server, V3Request({{"filter", {{"id", "<=", 1500}}},
                                                 {"select", {"title"}}},
                                                ListStrategyKind::kKeysetChain));
  ASSERT_TRUE(out.status.ok()) << out.status;
  EXPECT_EQ(out.Ids("id"), Ids(1500));
  EXPECT_EQ(server.sent()[0]["filter"],
            json::parse(R"([["id","<=",1500],["id",">",0]])"));
  EXPECT_EQ(server.sent()[0]["select"], json::parse(R"(["title","id"])"));
}

TEST(V3ParallelKeyset, ReadsEveryItemOnceInIdOrderWithPagesInBatches) {
  FakeV3List server(Ids(20000), /*max_page=*/1000);
  ReadOutcome out = ReadList(&server, V3Request({{"select", {"title"}}}));
  ASSERT_TRUE(out.status.ok()) << out.status;
  EXPECT_EQ(out.Ids("id"), Ids(20000));
  EXPECT_EQ(out.summary.strategy, "v3_parallel_keyset");
  EXPECT_FALSE(out.summary.total.has_value());
  // The first page with the highest id; then 21 pieces of 900 ids and the
  // rest, each read in its one page, in 4 batches side by side.
  EXPECT_EQ(server.batches(), 5);
  EXPECT_EQ(server.requests(), 5);
  const json& highest = server.sent()[1];
  EXPECT_EQ(highest["order"], json({{"id", "DESC"}}));
  EXPECT_EQ(highest["pagination"], json({{"limit", 1}}));
  const json& piece = server.sent()[2];
  EXPECT_EQ(piece["filter"], json::parse(R"([["id",">",1000],["id","<=",1900]])"));
  EXPECT_EQ(piece["select"], json::parse(R"(["title","id"])"));
}

TEST(V3ParallelKeyset, PagesCutSilentlyAndUnevenIdsLoseAndRepeatNothing) {
  // 300 a page whatever is asked; ids sparse (every 7th) up to 7000, then
  // every one: pieces cut by the first page's density run on for pages.
  std::vector<int64_t> ids = Ids(1000, 7);
  for (int64_t id = 7001; id <= 12000; ++id) ids.push_back(id);
  FakeV3List server(ids, /*max_page=*/300);
  ReadOutcome out = ReadList(&server, V3Request());
  ASSERT_TRUE(out.status.ok()) << out.status;
  EXPECT_EQ(out.Ids("id"), ids);
  EXPECT_EQ(out.summary.count, static_cast<int64_t>(ids.size()));
  EXPECT_EQ(server.requests(), server.batches());
}

TEST(V3ParallelKeyset, AnEmptyListAndAShortOneEndAfterTheFirstBatch) {
  for (int n : {0, 1, 999}) {
    FakeV3List server(Ids(n), /*max_page=*/1000);
    ReadOutcome out = ReadList(&server, V3Request());
    ASSERT_TRUE(out.status.ok()) << out.status;
    EXPECT_EQ(out.Ids("id"), Ids(n));
    EXPECT_EQ(server.batches(), 1) << n;
  }
}

TEST(V3ParallelKeyset, APageThatDoesNotMoveForwardEndsTheRead) {
  FakeV3List server(Ids(3000), /*max_page=*/1000);
  server.IgnoreIdFilter();
  ReadOutcome out = ReadList(&server, V3Request());
  EXPECT_EQ(out.status.code(), absl::StatusCode::kFailedPrecondition) << out.status;
}

TEST(V3ListStrategy, AnotherOrderIsReadByOffsetInThatOrder) {
  FakeV3List server(Ids(1234), /*max_page=*/500);
  ReadOutcome out = ReadList(&server, V3Request({{"order", {{"title", "ASC"}}}}));
  ASSERT_TRUE(out.status.ok()) << out.status;
  EXPECT_EQ(out.summary.strategy, "v3_offset");
  // Titles count down as ids go up.
  EXPECT_EQ(out.Ids("id"), Sorted(Ids(1234), /*desc=*/true));
  EXPECT_EQ(server.sent()[1]["pagination"], json({{"limit", kV3PageLimit}, {"offset", 500}}));
  EXPECT_EQ(server.requests(), 3);
}

TEST(V3ListStrategy, ATailCursorIsFollowed) {
  FakeV3List server(Ids(777, 2), /*max_page=*/1000);
  ReadOutcome out = ReadList(
      &server, V3Request({{"cursor", {{"field", "id"}, {"order", "DESC"}, {"value", 1000}, {"limit", 100}}}}));
  ASSERT_TRUE(out.status.ok()) << out.status;
  EXPECT_EQ(out.summary.strategy, "v3_tail");
  std::vector<int64_t> want;
  for (int64_t id : Ids(777, 2)) {
    if (id < 1000) want.push_back(id);
  }
  EXPECT_EQ(out.Ids("id"), Sorted(want, /*desc=*/true));
  EXPECT_EQ(server.sent()[1]["cursor"]["value"], 801);
  EXPECT_EQ(server.sent()[1]["cursor"]["limit"], 100);
}

TEST(V3ListStrategy, AResumedReadContinuesExactly) {
  for (const json& params : {json::object(), json({{"order", {{"title", "DESC"}}}}),
                             json({{"cursor", {{"order", "ASC"}}}})}) {
    FakeV3List server(Ids(2100), /*max_page=*/400);
    ReadOutcome first = ReadList(&server, V3Request(params), /*stop_after_pages=*/13);
    ASSERT_EQ(first.items.size(), 13u * 50) << params;
    ListRequest again = V3Request(params);
    again.resume_cursor = first.pages.back().resume_cursor;
    FakeV3List fresh(Ids(2100), /*max_page=*/400);
    ReadOutcome rest = ReadList(&fresh, again);
    ASSERT_TRUE(rest.status.ok()) << rest.status;
    std::vector<int64_t> all = first.Ids("id");
    for (int64_t id : rest.Ids("id")) all.push_back(id);
    EXPECT_EQ(Sorted(all), Ids(2100)) << params;
    EXPECT_EQ(std::set<int64_t>(all.begin(), all.end()).size(), all.size()) << params;
    EXPECT_EQ(rest.summary.count, 2100) << params;
  }
}

TEST(V3ListStrategy, APageThatDoesNotMoveForwardEndsTheRead) {
  FakeV3List server(Ids(100), /*max_page=*/50);
  server.IgnoreIdFilter();
  ReadOutcome out = ReadList(&server, V3Request(json::object(), ListStrategyKind::kKeysetChain));
  EXPECT_EQ(out.status.code(), absl::StatusCode::kFailedPrecondition) << out.status;
  EXPECT_EQ(out.Ids("id"), Ids(50));
  EXPECT_EQ(server.requests(), 2);
}

TEST(V3ListStrategy, RefusalsNameTheField) {
  struct Case {
    json params;
    ListStrategyKind strategy;
    std::string where;
  };
  for (const Case& c : std::vector<Case>{
           {{{"pagination", {{"limit", 10}}}}, ListStrategyKind::kDefault, "params.pagination"},
           {{{"filter", {{">id", 5}}}}, ListStrategyKind::kDefault, "params.filter"},
           {{{"order", {{"title", "ASC"}}}}, ListStrategyKind::kKeysetChain, "params.order"},
           {{{"cursor", {{"field", 5}}}}, ListStrategyKind::kDefault, "params.cursor.field"},
           {{{"cursor", {{"field", "id"}}}}, ListStrategyKind::kOffset, "strategy"},
       }) {
    FakeV3List server(Ids(10), 50);
    ReadOutcome out = ReadList(&server, V3Request(c.params, c.strategy));
    EXPECT_EQ(out.status.code(), absl::StatusCode::kInvalidArgument) << c.params;
    EXPECT_TRUE(absl::StartsWith(out.status.message(), c.where)) << out.status;
    EXPECT_EQ(server.requests(), 0);
  }
}

// The cursor of a classic read of the same method and params is refused,
// not read as a REST 3.0 read's (an offset cursor would otherwise start a
// classic offset read against /rest/api/).
TEST(V3ListStrategy, AClassicCursorDoesNotResumeAV3Read) {
  FakeV3List server(Ids(200), 50);
  ListRequest classic = V3Request(json::object(), ListStrategyKind::kOffset);
  classic.method = "crm.lead.list";
  classic.options.api = RestApi::kClassic;
  FakeListServer classic_server(Ids(200));
  ReadOutcome first = ReadList(&classic_server, classic, /*stop_after_pages=*/1);
  ASSERT_FALSE(first.pages.empty());
  ListRequest v3 = V3Request();
  v3.method = "crm.lead.list";
  v3.resume_cursor = first.pages.back().resume_cursor;
  ReadOutcome out = ReadList(&server, v3);
  EXPECT_EQ(out.status.code(), absl::StatusCode::kInvalidArgument) << out.status;
  EXPECT_EQ(server.requests(), 0);
}

}  // namespace
}  // namespace b24gate::v3_list_strategy_test
