// Shared by the list strategy tests: a fake portal that answers list methods
// from an in-memory table of ids (plain calls and `batch` with `$result`
// references, as Bitrix24 does), and a driver that reads a whole list
// through a ListReader on the test's thread, answering the portal's requests
// and acknowledging pages in turn: no threads, no real time, no waits.
#ifndef B24GATE_TESTS_ENGINE_LISTS_LIST_TEST_UTIL_H_
#define B24GATE_TESTS_ENGINE_LISTS_LIST_TEST_UTIL_H_

#include <algorithm>
#include <deque>
#include <functional>
#include <memory>
#include <optional>
#include <random>
#include <string>
#include <vector>

#include <gtest/gtest.h>
#include <nlohmann/json.hpp>

#include "absl/strings/match.h"
#include "absl/strings/numbers.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_split.h"
#include "engine/common/clock.h"
#include "engine/lists/list_reader.h"
#include "tests/support/fake_dispatcher.h"

namespace b24gate {

// How the fake portal's method answers.
struct FakeListShape {
  std::string method = "crm.lead.list";
  std::string items_key;       // "" = result is the list
  std::string id_key = "ID";   // key of the id in items
  bool ids_as_strings = true;  // CRM sends "ID": "7"
  size_t padding = 0;          // characters of a TEXT field in every row
};

// A fake portal behind a FakeDispatcher that answers list methods from
// `ids` (ascending), when the test's driver (ReadList) says so. Supports
// filter >ID >=ID <ID <=ID (any key case), order by id ASC/DESC, start=-1
// (no total) or an offset (total and next), and batch references
// `$result[key][..][..]` (a missing one becomes "", as on the portal).
// Counts what it was asked. Time is a FakeClock nobody moves.
class FakeListServer {
 public:
  explicit FakeListServer(std::vector<int64_t> ids, FakeListShape shape = {})
      : ids_(std::move(ids)), shape_(std::move(shape)) {}

  FakeDispatcher* dispatcher() { return &dispatcher_; }
  Clock* clock() { return &clock_; }
  FakeClock* fake_clock() { return &clock_; }

  // Inserts an id before the next offset page is answered (rows added
  // while a list is read).
  void InsertBeforeNextPage(int64_t id) { insert_ = id; }

  // Counted pages (the reader's count), alone or with the batch carrying
  // them, wait unanswered until ReleaseCounts().
  void HoldCounts() { hold_counts_ = true; }
  void ReleaseCounts() { hold_counts_ = false; }

  // The `processing` seconds each page reports (default 1 ms): a dear
  // table's pages, without waiting for them.
  void ReportPageProcessing(double seconds) { page_processing_ = seconds; }

  // What a page costs the portal, as the emulator's cost model reckons it
  // (tests/emulator/cost_model.h): each page then reports that as its
  // `processing` instead of the fixed figure above.
  struct PageCosts {
    double base = 0;
    double per_row_returned = 0;
    double per_row_counted = 0;  // every matching row of a counted page
  };
  void ChargePages(const PageCosts& costs) { costs_ = costs; }

  // The answer the portal gives `r` now (a cancelled request: CANCELLED),
  // and the seconds it processes it (its pages' `processing`, one after
  // another), without calling back: a caller that models time answers it
  // later (timed_list_server.h).
  struct Prepared {
    absl::StatusOr<CallReply> call = absl::UnknownError("not a call");
    absl::StatusOr<BatchResult> batch = absl::UnknownError("not a batch");
    double seconds = 0;
    bool counted = false;  // it carries a counted page
    int64_t rows = 0;      // items in its answer (pages re-read included)
  };
  Prepared Prepare(const FakeDispatcher::Request& r) {
    Prepared out;
    out.counted = IsCount(r);
    if (r.cancelled()) {
      out.call = absl::CancelledError("cancelled");
      out.batch = absl::CancelledError("cancelled");
      return out;
    }
    if (!r.is_batch) {
      if (Counted(r.params)) plain_counts_++;
      json answer = List(r.params);
      out.seconds = answer["time"]["processing"].get<double>();
      out.call = Reply(answer);
      return out;
    }
    max_batch_pages_ = std::max<int>(max_batch_pages_, static_cast<int>(r.commands.size()));
    json results = json::object();
    BatchResult batch;
    for (const BatchCommandSpec& c : r.commands) {
      json params = c.params;
      Resolve(&params, results);
      json answer = List(params);
      out.seconds += answer["time"]["processing"].get<double>();
      if (answer["result"].is_array()) out.rows += static_cast<int64_t>(answer["result"].size());
      results[c.key] = answer["result"];
      batch.outcomes[c.key] = Reply(answer);
    }
    out.batch = std::move(batch);
    return out;
  }
  // Calls `r` back with what Prepare gave.
  static void Complete(FakeDispatcher::Request& r, Prepared p) {
    if (r.is_batch) r.batch_done(std::move(p.batch));
    else r.call_done(std::move(p.call));
  }

  // Answers every request waiting (a cancelled one CANCELLED, as the portal
  // drops it), held counts aside; returns how many it answered.
  int AnswerWaiting() {
    std::vector<FakeDispatcher::Request> now = dispatcher_.TakeAll();
    if (!hold_counts_) {
      for (auto& r : held_) now.push_back(std::move(r));
      held_.clear();
    }
    int answered = 0;
    for (auto& r : now) {
      if (hold_counts_ && !r.cancelled() && IsCount(r)) {
        held_.push_back(std::move(r));
        continue;
      }
      Answer(r);
      answered++;
    }
    return answered;
  }

  int requests() const { return dispatcher_.requests(); }
  // The most requests waiting at once.
  int max_waiting() const { return dispatcher_.max_waiting(); }
  // The most pages one batch request carried.
  int max_batch_pages() const { return max_batch_pages_; }
  int counted_pages() const { return counted_pages_; }
  // Counted pages sent alone.
  int plain_counts() const { return plain_counts_; }
  int pages() const { return pages_; }
  // Items in every answer so far.
  int64_t items_served() const { return items_served_; }

 private:
  using json = nlohmann::ordered_json;

  static bool Counted(const json& params) {
    return params.contains("start") && params["start"].is_number() &&
           params["start"].get<int64_t>() >= 0;
  }

  // A counted page alone, or a batch carrying one (its `start=0` page).
  static bool IsCount(const FakeDispatcher::Request& r) {
    if (!r.is_batch) return Counted(r.params);
    return std::any_of(r.commands.begin(), r.commands.end(), [](const BatchCommandSpec& c) {
      return Counted(c.params) && c.params["start"].get<int64_t>() == 0;
    });
  }

  static CallReply Reply(const json& answer) {
    CallReply reply;
    reply.result = answer["result"];
    if (answer.contains("total")) reply.total = answer["total"].get<int64_t>();
    if (answer.contains("next")) reply.next = answer["next"].get<int64_t>();
    reply.time = answer["time"];
    return reply;
  }

  void Answer(FakeDispatcher::Request& r) { Complete(r, Prepare(r)); }

  // `$result[key][a][b]` → the value, or "" when any step is missing.
  static void Resolve(json* v, const json& results) {
    if (v->is_object() || v->is_array()) {
      for (auto& child : *v) Resolve(&child, results);
      return;
    }
    if (!v->is_string() || !absl::StartsWith(v->get<std::string>(), "$result[")) return;
    std::string path = v->get<std::string>().substr(7);
    const json* at = &results;
    for (absl::string_view part : absl::StrSplit(path, '[', absl::SkipEmpty())) {
      std::string step(absl::StripSuffix(part, "]"));
      size_t index = 0;
      if (at->is_array() && absl::SimpleAtoi(step, &index) && index < at->size()) {
        at = &(*at)[index];
      } else if (at->is_object() && at->contains(step)) {
        at = &(*at)[step];
      } else {
        *v = "";
        return;
      }
    }
    *v = *at;
  }

  static std::optional<double> Number(const json& v) {
    double d = 0;
    if (v.is_number()) return v.get<double>();
    if (v.is_string() && absl::SimpleAtod(v.get<std::string>(), &d)) return d;
    return std::nullopt;
  }

  json List(const json& params) {
    if (insert_ && Counted(params) && params["start"].get<int64_t>() > 0) {
      ids_.insert(std::lower_bound(ids_.begin(), ids_.end(), *insert_), *insert_);
      insert_.reset();
    }
    const std::vector<int64_t>& ids = ids_;
    // Each condition once, as a test on the id (a page's filter is read
    // for every row of the table).
    json filter = params.value("filter", json::object());
    std::vector<std::function<bool(int64_t)>> tests;
    for (auto& [key, value] : filter.items()) {
      std::string k = key;
      for (auto& c : k) c = static_cast<char>(std::toupper(c));
      std::optional<double> n = Number(value);
      // "" compares as text: every id is greater (the portal's behaviour).
      bool empty = value.is_string() && value.get<std::string>().empty();
      double v = n.value_or(0);
      bool known = n.has_value();
      if (k == ">ID") tests.push_back([=](int64_t id) { return empty || (known && id > v); });
      if (k == ">=ID") tests.push_back([=](int64_t id) { return empty || (known && id >= v); });
      if (k == "<ID") tests.push_back([=](int64_t id) { return !empty && known && id < v; });
      if (k == "<=ID") tests.push_back([=](int64_t id) { return !empty && known && id <= v; });
    }
    std::vector<int64_t> match;
    for (int64_t id : ids) {
      bool ok = true;
      for (const auto& test : tests) ok = ok && test(id);
      if (ok) match.push_back(id);
    }
    json order = params.value("order", json::object());
    for (auto& [key, dir] : order.items()) {
      if (dir.is_string() && (dir == "DESC" || dir == "desc")) std::reverse(match.begin(), match.end());
    }
    int64_t start = 0;
    if (params.contains("start")) {
      const json& s = params["start"];
      if (s.is_number()) start = s.get<int64_t>();
      if (s.is_string()) absl::SimpleAtoi(s.get<std::string>(), &start);
    }
    bool counted = start >= 0;
    size_t from = counted ? static_cast<size_t>(start) : 0;
    json items = json::array();
    for (size_t i = from; i < match.size() && i < from + 50; ++i) {
      json item = json::object();
      item[shape_.id_key] = shape_.ids_as_strings ? json(std::to_string(match[i])) : json(match[i]);
      item["TITLE"] = absl::StrCat("Lead ", match[i]);
      if (shape_.padding > 0) item["TEXT"] = std::string(shape_.padding, 'x');
      items.push_back(item);
    }
    pages_++;
    items_served_ += static_cast<int64_t>(items.size());
    if (counted) counted_pages_++;
    json reply;
    reply["result"] = shape_.items_key.empty() ? items : json{{shape_.items_key, items}};
    if (counted) {
      reply["total"] = match.size();
      if (from + 50 < match.size()) reply["next"] = from + 50;
    }
    double processing = page_processing_;
    if (costs_) {
      processing = costs_->base + costs_->per_row_returned * static_cast<double>(items.size()) +
                   (counted ? costs_->per_row_counted * static_cast<double>(match.size()) : 0);
    }
    reply["time"] = {{"processing", processing}, {"operating", 0}};
    return reply;
  }

  FakeDispatcher dispatcher_;
  FakeClock clock_;
  std::optional<PageCosts> costs_;
  std::vector<int64_t> ids_;
  std::optional<int64_t> insert_;
  const FakeListShape shape_;
  bool hold_counts_ = false;
  std::vector<FakeDispatcher::Request> held_;
  int counted_pages_ = 0;
  int plain_counts_ = 0;
  int pages_ = 0;
  int64_t items_served_ = 0;
  int max_batch_pages_ = 0;
  double page_processing_ = 0.001;
};

// What a consumer received from one read.
struct ReadOutcome {
  absl::Status status = absl::UnknownError("not finished");
  std::vector<nlohmann::ordered_json> items;
  std::vector<ListPage> pages;  // items moved out; cursors and progress kept
  // When each page (of `pages`) reached the consumer, on the server's clock,
  // and how many items it held.
  std::vector<absl::Time> page_times;
  std::vector<size_t> page_items;
  ListSummary summary;
  std::vector<int64_t> Ids(const std::string& key = "ID") const {
    std::vector<int64_t> out;
    for (const auto& i : items) {
      const auto& v = i.at(key);
      out.push_back(v.is_string() ? std::stoll(v.get<std::string>()) : v.get<int64_t>());
    }
    return out;
  }
};

// A consumer that records what the reader hands it.
class Consumer : public ListSink {
 public:
  void OnPage(ListPage page) override { queue_.push_back(std::move(page)); }
  void OnDone(absl::Status status, ListSummary summary) override {
    status_ = std::move(status);
    summary_ = std::move(summary);
    done_ = true;
  }

  std::optional<ListPage> Pop() {
    if (queue_.empty()) return std::nullopt;
    ListPage page = std::move(queue_.front());
    queue_.pop_front();
    return page;
  }
  bool done() const { return done_; }
  const absl::Status& status() const { return status_; }
  const ListSummary& summary() const { return summary_; }

 private:
  std::deque<ListPage> queue_;
  bool done_ = false;
  absl::Status status_ = absl::UnknownError("not finished");
  ListSummary summary_;
};

// Reads `request` from `server` on this thread, step by step: takes and
// acknowledges every page handed over, else answers every request waiting,
// else (nothing can move) asks `on_stall` whether it changed something, and
// fails the test when it did not. After `stop_after_pages` pages (if >= 0)
// it cancels, and records nothing more.
// `Server` is FakeListServer or another fake with its dispatcher(), clock()
// and AnswerWaiting().
template <typename Server>
ReadOutcome ReadList(Server* server, ListRequest request, int stop_after_pages = -1,
                     ListReaderOptions options = {}, const std::function<bool()>& on_stall = nullptr) {
  Consumer consumer;
  ReadOutcome out;
  auto reader = ListReader::Create(server->dispatcher(), server->clock(), std::move(request),
                                   &consumer, options);
  if (!reader.ok()) {
    out.status = reader.status();
    return out;
  }
  (*reader)->Run();
  bool cancelled = false;
  // A bound on the steps, so a strategy that never ends fails the test.
  for (int steps = 0;; ++steps) {
    if (steps == 10000000) {
      ADD_FAILURE() << "the read did not end";
      break;
    }
    if (std::optional<ListPage> page = consumer.Pop()) {
      if (!cancelled) {
        out.page_times.push_back(server->clock()->Now());
        out.page_items.push_back(page->items.size());
        for (auto& item : page->items) out.items.push_back(std::move(item));
        page->items.clear();
        out.pages.push_back(std::move(*page));
      }
      (*reader)->Ack();
      if (!cancelled && static_cast<int>(out.pages.size()) == stop_after_pages) {
        (*reader)->Cancel();
        cancelled = true;
      }
      continue;
    }
    if (consumer.done()) break;
    if (server->AnswerWaiting() > 0) continue;
    if (on_stall && on_stall()) continue;
    ADD_FAILURE() << "the read stalled";
    break;
  }
  // What is still waiting was sent for a read that has ended.
  for (int rounds = 0; rounds < 100 && server->AnswerWaiting() > 0; ++rounds) {
  }
  out.status = consumer.status();
  out.summary = consumer.summary();
  return out;
}

// Ids 1..n*step with the given step: a list of n rows.
inline std::vector<int64_t> Ids(int64_t n, int64_t step = 1, int64_t first = 1) {
  std::vector<int64_t> out;
  for (int64_t i = 0; i < n; ++i) out.push_back(first + i * step);
  return out;
}

// n ids with random gaps of 1 to max_gap; the same seed, the same ids.
inline std::vector<int64_t> IdsWithGaps(int64_t n, unsigned seed, int64_t max_gap) {
  std::mt19937 rng(seed);
  std::vector<int64_t> out;
  int64_t id = 0;
  for (int64_t i = 0; i < n; ++i) {
    id += 1 + static_cast<int64_t>(rng() % static_cast<uint64_t>(max_gap));
    out.push_back(id);
  }
  return out;
}

// n ids with gaps of 1 to 3, as the emulator seeds them (tests/emulator/
// data/seed.cc: rows deleted here and there).
inline std::vector<int64_t> SeededIds(int64_t n, unsigned seed) { return IdsWithGaps(n, seed, 3); }

}  // namespace b24gate

#endif  // B24GATE_TESTS_ENGINE_LISTS_LIST_TEST_UTIL_H_
