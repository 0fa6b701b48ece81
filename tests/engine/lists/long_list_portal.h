// A simulated portal that times a long list read deterministically: the
// requests the reader hands its FakeDispatcher are sent as the gateway's dispatcher
// sends them (at most `connections` at once, each only when the modelled
// leaky bucket has room for it, the bucket draining as simulated time
// passes), each processed for the profile's server time (a batch's commands
// one after another, a counted page also counting every matching row), and
// answered when that time has passed on a FakeClock. The reader's Budget()
// follows the model: the bucket's level and free requests now.
//
// It answers `crm.lead.list`-shaped keyset reads only (filter >ID / <ID,
// order by ID, start=-1 or a counted start=0, `$result[key][49][ID]`
// references), by binary search, so a list of 200,000 ids is read in a
// second or two of real time. It checks that the bucket never overflows
// (the portal's QUERY_LIMIT_EXCEEDED) and records what a timeline needs:
// requests, commands, when the last one ended, and what each request's pages
// brought (where commands were lost).
//
// Thread-safety: not thread-safe; one test thread drives it (Read).
#ifndef B24GATE_TESTS_ENGINE_LISTS_LONG_LIST_PORTAL_H_
#define B24GATE_TESTS_ENGINE_LISTS_LONG_LIST_PORTAL_H_

#include <algorithm>
#include <cmath>
#include <deque>
#include <map>
#include <set>
#include <string>
#include <vector>

#include <gtest/gtest.h>
#include <nlohmann/json.hpp>

#include "absl/strings/numbers.h"
#include "absl/strings/str_split.h"
#include "absl/strings/strip.h"
#include "engine/common/clock.h"
#include "engine/lists/list_reader.h"
#include "tests/engine/lists/list_test_util.h"
#include "tests/support/fake_dispatcher.h"

namespace b24gate {

// The emulator's cost profiles and the standard plan's bucket.
struct SimProfile {
  double page_seconds = 0.015;        // a start=-1 page of 50 rows
  double counted_row_seconds = 2e-6;  // counting, per matching row
  double latency_seconds = 0.002;     // the round trip added to each request
  double burst = 50;                  // the portal's bucket
  double headroom = 1;                // the gateway keeps unused
  double drain_per_second = 2;
  int connections = 8;

  // small: 10 ms + 50 x 100 us a page, 2 us a counted row.
  static SimProfile Small() { return SimProfile{}; }
  // huge: 77 ms + 50 x 400 us a page, 20.858 us a counted row.
  static SimProfile Huge() {
    SimProfile p;
    p.page_seconds = 0.097;
    p.counted_row_seconds = 20.858e-6;
    return p;
  }
};

// One request of a simulated read: when it was sent and answered, what it
// carried.
struct SimRequest {
  double sent = 0;
  double answered = 0;
  int commands = 0;
  bool counted = false;
  // What its list pages (not the count) returned: items, pages of fewer
  // than 50 (a range's last page, or an empty one), and items an earlier
  // page had returned already (a page asked past its range's end re-reads
  // the range: a command lost).
  int rows = 0;
  int short_pages = 0;
  int repeated_rows = 0;
};

// What one simulated read did.
struct SimRead {
  ReadOutcome outcome;
  int requests = 0;
  int commands = 0;
  double seconds = 0;     // simulated, from the first request to the last answer
  double peak_level = 0;  // the bucket's highest level at a request's arrival
  std::vector<SimRequest> log;  // every request, in the order sent
  // The policy ceiling (tests/bench/getall_bench.cc): the slowest of the
  // bucket (fewest requests, the burst at once, the rest at the drain rate,
  // plus one batch) and the connections (every page's time over them).
  double ceiling_seconds = 0;
  double share() const { return seconds > 0 ? ceiling_seconds / seconds : 0; }
};

class LongListPortal {
 public:
  LongListPortal(std::vector<int64_t> ids, SimProfile profile)
      : ids_(std::move(ids)), profile_(profile), start_(clock_.Now()) {
    UpdateBudget();
  }

  FakeDispatcher* dispatcher() { return &dispatcher_; }
  Clock* clock() { return &clock_; }

  // Reads `request` to its end on simulated time.
  SimRead Read(ListRequest request, ListReaderOptions options = {}) {
    SimRead out;
    auto reader =
        ListReader::Create(&dispatcher_, &clock_, std::move(request), &consumer_, options);
    if (!reader.ok()) {
      out.outcome.status = reader.status();
      return out;
    }
    (*reader)->Run();
    for (int steps = 0; steps < 10000000; ++steps) {
      if (std::optional<ListPage> page = consumer_.Pop()) {
        for (auto& item : page->items) out.outcome.items.push_back(std::move(item));
        page->items.clear();
        out.outcome.pages.push_back(std::move(*page));
        (*reader)->Ack();
        continue;
      }
      if (consumer_.done()) break;
      if (!Step()) {
        ADD_FAILURE() << "the read stalled";
        break;
      }
    }
    out.outcome.status = consumer_.status();
    out.outcome.summary = consumer_.summary();
    out.requests = requests_;
    out.commands = commands_;
    out.seconds = absl::ToDoubleSeconds(last_answer_ - start_);
    out.peak_level = peak_level_;
    out.log = log_;
    out.ceiling_seconds = Ceiling();
    return out;
  }

 private:
  using json = nlohmann::ordered_json;
  struct Sending {
    absl::Time done;
    FakeDispatcher::Request request;
    size_t log_index = 0;
  };

  double Level() const {
    double drained = absl::ToDoubleSeconds(clock_.Now() - level_at_) * profile_.drain_per_second;
    return std::max(0.0, level_ - drained);
  }
  double Usable() const { return profile_.burst - profile_.headroom; }

  void UpdateBudget() {
    PortalBudget b = FakeDispatcher::RoomyBudget();
    b.bucket_level = Level();
    b.bucket_usable = Usable();
    b.drain_per_second = profile_.drain_per_second;
    b.requests_free_now = std::max(0.0, Usable() - b.bucket_level);
    b.max_in_flight = profile_.connections;
    dispatcher_.set_budget(b);
  }

  // Sends what the bucket and the connections allow; then moves time to the
  // next event (an answer, or the bucket's room for a waiting request) and
  // answers what is due. False when nothing can ever move.
  bool Step() {
    for (auto& r : dispatcher_.TakeAll()) waiting_.push_back(std::move(r));
    while (!waiting_.empty() && static_cast<int>(sending_.size()) < profile_.connections &&
           Level() + 1 <= Usable() + 1e-9) {
      Send(std::move(waiting_.front()));
      waiting_.pop_front();
    }
    absl::Time next = absl::InfiniteFuture();
    for (const Sending& s : sending_) next = std::min(next, s.done);
    if (!waiting_.empty() && static_cast<int>(sending_.size()) < profile_.connections) {
      double wait = (Level() + 1 - Usable()) / profile_.drain_per_second;
      next = std::min(next, clock_.Now() + absl::Seconds(std::max(wait, 1e-6)));
    }
    if (next == absl::InfiniteFuture()) return false;
    if (next > clock_.Now()) clock_.Set(next);
    for (size_t i = 0; i < sending_.size();) {
      if (sending_[i].done > clock_.Now()) {
        ++i;
        continue;
      }
      FakeDispatcher::Request r = std::move(sending_[i].request);
      answering_ = sending_[i].log_index;
      sending_.erase(sending_.begin() + static_cast<std::ptrdiff_t>(i));
      last_answer_ = clock_.Now();
      UpdateBudget();
      Answer(r);
      i = 0;
    }
    UpdateBudget();
    return true;
  }

  void Send(FakeDispatcher::Request r) {
    double level = Level();
    peak_level_ = std::max(peak_level_, level + 1);
    EXPECT_LE(level, profile_.burst) << "QUERY_LIMIT_EXCEEDED";
    level_ = level + 1;
    level_at_ = clock_.Now();
    requests_++;
    double work = 0;
    for (const BatchCommandSpec& c : r.commands) {
      work += profile_.page_seconds;
      if (Counted(c.params))
        work += profile_.counted_row_seconds * static_cast<double>(ids_.size());
    }
    commands_ += static_cast<int>(r.commands.size());
    absl::Time done = clock_.Now() + absl::Seconds(work + profile_.latency_seconds);
    bool counted = std::any_of(r.commands.begin(), r.commands.end(),
                               [](const BatchCommandSpec& c) { return Counted(c.params); });
    log_.push_back({absl::ToDoubleSeconds(clock_.Now() - start_),
                    absl::ToDoubleSeconds(done - start_), static_cast<int>(r.commands.size()),
                    counted});
    sending_.push_back({done, std::move(r), log_.size() - 1});
    UpdateBudget();
  }

  static bool Counted(const json& params) {
    return params.contains("start") && params["start"].is_number() &&
           params["start"].get<int64_t>() >= 0;
  }

  void Answer(FakeDispatcher::Request& r) {
    if (r.cancelled()) {
      r.batch_done(absl::CancelledError("cancelled"));
      return;
    }
    ASSERT_TRUE(r.is_batch) << "the simulated portal answers batches only";
    std::map<std::string, std::vector<int64_t>> pages;
    BatchResult out;
    for (const BatchCommandSpec& c : r.commands) {
      std::vector<int64_t> page = Page(c.params, pages);
      CallReply reply;
      reply.result = json::array();
      for (int64_t id : page) {
        reply.result.push_back(json{{"ID", std::to_string(id)}, {"TITLE", "Lead"}});
      }
      if (Counted(c.params)) reply.total = static_cast<int64_t>(ids_.size());
      reply.time = {{"processing", profile_.page_seconds}, {"operating", 0}};
      SimRequest& logged = log_[answering_];
      if (!Counted(c.params)) {
        logged.rows += static_cast<int>(page.size());
        logged.short_pages += page.size() < 50;
        bool ascending =
            !(c.params.contains("order") && c.params["order"].value("ID", "") == "DESC");
        for (int64_t id : page) {
          if (ascending && !returned_.insert(id).second) logged.repeated_rows++;
        }
      }
      pages[c.key] = std::move(page);
      out.outcomes[c.key] = std::move(reply);
    }
    r.batch_done(std::move(out));
  }

  // A filter bound: a number, or `$result[key][49][ID]` (empty when that
  // page had no 50th row: every id passes, as on the portal).
  static std::optional<int64_t> Bound(const json& v,
                                      const std::map<std::string, std::vector<int64_t>>& pages) {
    int64_t n = 0;
    if (v.is_number()) return v.get<int64_t>();
    std::string text = v.is_string() ? v.get<std::string>() : "";
    absl::string_view s = text;
    if (absl::SimpleAtoi(s, &n)) return n;
    if (!absl::ConsumePrefix(&s, "$result[")) return std::nullopt;
    std::string key(s.substr(0, s.find(']')));
    auto it = pages.find(key);
    if (it == pages.end() || it->second.size() < 50) return std::nullopt;
    return it->second[49];
  }

  std::vector<int64_t> Page(const json& params,
                            const std::map<std::string, std::vector<int64_t>>& pages) const {
    json filter = params.value("filter", json::object());
    auto lo = ids_.begin();
    auto hi = ids_.end();
    if (filter.contains(">ID")) {
      if (std::optional<int64_t> after = Bound(filter[">ID"], pages)) {
        lo = std::upper_bound(ids_.begin(), ids_.end(), *after);
      }
    }
    if (filter.contains("<ID")) {
      std::optional<int64_t> before = Bound(filter["<ID"], pages);
      hi = before ? std::lower_bound(ids_.begin(), ids_.end(), *before) : ids_.begin();
    }
    std::vector<int64_t> page;
    if (lo >= hi) return page;
    bool descending = params.contains("order") && params["order"].value("ID", "") == "DESC";
    for (int i = 0; i < 50 && lo < hi; ++i) page.push_back(descending ? *--hi : *lo++);
    return page;
  }

  double Ceiling() const {
    double pages = std::ceil(static_cast<double>(ids_.size()) / 50);
    double requests = std::ceil(pages / 50);
    double batch = std::min(pages, 50.0) * profile_.page_seconds;
    double bucket = std::max(0.0, requests - profile_.burst) / profile_.drain_per_second + batch;
    double connections = pages * profile_.page_seconds / profile_.connections;
    return std::max(bucket, connections);
  }

  const std::vector<int64_t> ids_;
  const SimProfile profile_;
  FakeDispatcher dispatcher_;
  FakeClock clock_;
  const absl::Time start_;
  Consumer consumer_;
  std::deque<FakeDispatcher::Request> waiting_;
  std::vector<Sending> sending_;
  double level_ = 0;
  absl::Time level_at_ = start_;
  double peak_level_ = 0;
  int requests_ = 0;
  int commands_ = 0;
  std::vector<SimRequest> log_;
  size_t answering_ = 0;        // the log entry of the request being answered
  std::set<int64_t> returned_;  // ids an ascending page returned
  absl::Time last_answer_ = start_;
};

}  // namespace b24gate

#endif  // B24GATE_TESTS_ENGINE_LISTS_LONG_LIST_PORTAL_H_
