// Shared by the list strategy tests: a fake portal that answers list methods
// from an in-memory table of ids (plain calls and `batch` with `$result`
// references, as Bitrix24 does), and a consumer that reads a whole list
// through a ListReader, acknowledging pages as it goes.
#ifndef B24GATE_TESTS_ENGINE_LISTS_LIST_TEST_UTIL_H_
#define B24GATE_TESTS_ENGINE_LISTS_LIST_TEST_UTIL_H_

#include <algorithm>
#include <atomic>
#include <deque>
#include <functional>
#include <memory>
#include <optional>
#include <string>
#include <thread>
#include <vector>

#include <gtest/gtest.h>
#include <nlohmann/json.hpp>

#include "absl/strings/match.h"
#include "absl/strings/numbers.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_split.h"
#include "absl/synchronization/mutex.h"
#include "engine/bitrix/query_parser.h"
#include "engine/lists/list_reader.h"
#include "tests/engine/fake_transport.h"

namespace b24gate {

// How the fake portal's method answers.
struct FakeListShape {
  std::string method = "crm.lead.list";
  std::string items_key;       // "" = result is the list
  std::string id_key = "ID";   // key of the id in items
  bool ids_as_strings = true;  // CRM sends "ID": "7"
};

// Answers every request the transport receives, on its own thread, from
// `ids` (ascending). Supports filter >ID >=ID <ID <=ID (any key case), order
// by id ASC/DESC, start=-1 (no total) or an offset (total and next), and
// batch references `$result[key][..][..]` (a missing one becomes "", as on
// the portal). Counts what it was asked.
class FakeListServer {
 public:
  FakeListServer(FakeTransport* transport, std::vector<int64_t> ids, FakeListShape shape = {})
      : transport_(transport), ids_(std::move(ids)), shape_(std::move(shape)) {
    thread_ = std::thread([this] { Loop(); });
  }
  ~FakeListServer() {
    stop_ = true;
    thread_.join();
  }

  // Answers nothing until `n` requests are waiting (then all of them), up to
  // 5 s: shows how many were sent at once.
  void HoldUntil(int n) { hold_until_ = n; }
  // Inserts an id before the next offset page is answered (rows added
  // while a list is read).
  void InsertBeforeNextPage(int64_t id) {
    absl::MutexLock lock(&mu_);
    insert_ = id;
  }

  // Counted pages (the reader's count), alone or with the batch carrying
  // them, wait unanswered until ReleaseCounts().
  void HoldCounts() { hold_counts_ = true; }
  void ReleaseCounts() { hold_counts_ = false; }

  // The `processing` seconds each page reports (default 1 ms): a dear
  // table's pages, without waiting for them.
  void ReportPageProcessing(double seconds) { page_processing_ = seconds; }

  int requests() const { return requests_; }
  // The most pages one batch request carried.
  int max_batch_pages() const { return max_batch_pages_; }
  int counted_pages() const { return counted_pages_; }
  // Counted pages sent alone (seen while counts are held).
  int plain_counts() const { return plain_counts_; }
  int pages() const { return pages_; }
  int max_waiting() const { return max_waiting_; }

 private:
  using json = nlohmann::ordered_json;

  void Loop() {
    while (!stop_) {
      std::vector<FakeTransport::Exchange> batch;
      if (!hold_counts_) {
        for (auto& x : held_) batch.push_back(std::move(x));
        held_.clear();
      }
      auto e = transport_->Next(absl::Milliseconds(20));
      if (e && hold_counts_ && IsCount(e->request)) {
        held_.push_back(std::move(*e));
        continue;
      }
      if (e) batch.push_back(std::move(*e));
      if (batch.empty()) continue;
      int want = hold_until_.exchange(0);
      absl::Time give_up = absl::Now() + absl::Seconds(5);
      while (static_cast<int>(batch.size()) < want && absl::Now() < give_up) {
        auto more = transport_->Next(absl::Milliseconds(50));
        if (more) batch.push_back(std::move(*more));
      }
      max_waiting_ = std::max<int>(max_waiting_, static_cast<int>(batch.size()));
      for (auto& x : batch) {
        requests_++;
        x.done(FakeTransport::Json(200, Answer(x.request).dump()));
      }
    }
  }

  // A counted page alone, or a batch carrying one.
  bool IsCount(const HttpRequest& request) {
    json body = json::parse(request.body);
    if (!absl::EndsWith(request.url, "/batch")) {
      bool counted = body.contains("start") && body["start"].is_number() && body["start"].get<int64_t>() >= 0;
      if (counted) plain_counts_++;
      return counted;
    }
    for (auto& [key, cmd] : body["cmd"].items()) {
      if (absl::StrContains(cmd.get<std::string>(), "start=0")) return true;
    }
    return false;
  }

  json Answer(const HttpRequest& request) {
    std::string method = request.url.substr(request.url.rfind('/') + 1);
    json body = json::parse(request.body);
    if (method != "batch") {
      json reply = List(body);
      return reply;
    }
    json results = json::object(), totals = json::object(), nexts = json::object(),
         times = json::object(), errors = json::object();
    max_batch_pages_ = std::max<int>(max_batch_pages_, static_cast<int>(body["cmd"].size()));
    for (auto& [key, cmd] : body["cmd"].items()) {
      std::string text = cmd.get<std::string>();
      size_t q = text.find('?');
      json params = *ParseQueryString(q == std::string::npos ? "" : text.substr(q + 1));
      Resolve(&params, results);
      json reply = List(params);
      results[key] = reply["result"];
      if (reply.contains("total")) totals[key] = reply["total"];
      if (reply.contains("next")) nexts[key] = reply["next"];
      times[key] = reply["time"];
    }
    return json{{"result",
                 {{"result", results},
                  {"result_error", json::array()},
                  {"result_total", totals},
                  {"result_next", nexts},
                  {"result_time", times}}},
                {"time", {{"processing", 0.01}}}};
  }

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
    std::vector<int64_t> ids;
    {
      absl::MutexLock lock(&mu_);
      int64_t start_probe = 0;
      if (insert_ && params.contains("start") && params["start"].is_number() &&
          params["start"].get<int64_t>() > 0) {
        ids_.insert(std::lower_bound(ids_.begin(), ids_.end(), *insert_), *insert_);
        insert_.reset();
      } else if (insert_ && params.contains("start") && params["start"].is_string() &&
                 absl::SimpleAtoi(params["start"].get<std::string>(), &start_probe) && start_probe > 0) {
        ids_.insert(std::lower_bound(ids_.begin(), ids_.end(), *insert_), *insert_);
        insert_.reset();
      }
      ids = ids_;
    }
    json filter = params.value("filter", json::object());
    std::vector<int64_t> match;
    for (int64_t id : ids) {
      bool ok = true;
      for (auto& [key, value] : filter.items()) {
        std::string k = key;
        for (auto& c : k) c = static_cast<char>(std::toupper(c));
        std::optional<double> v = Number(value);
        // "" compares as text: every id is greater (the portal's behaviour).
        bool empty = value.is_string() && value.get<std::string>().empty();
        if (k == ">ID") ok = ok && (empty || (v && id > *v));
        if (k == ">=ID") ok = ok && (empty || (v && id >= *v));
        if (k == "<ID") ok = ok && !empty && v && id < *v;
        if (k == "<=ID") ok = ok && !empty && v && id <= *v;
      }
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
      items.push_back(item);
    }
    pages_++;
    if (counted) counted_pages_++;
    json reply;
    reply["result"] = shape_.items_key.empty() ? items : json{{shape_.items_key, items}};
    if (counted) {
      reply["total"] = match.size();
      if (from + 50 < match.size()) reply["next"] = from + 50;
    }
    reply["time"] = {{"processing", page_processing_.load()}, {"operating", 0}};
    return reply;
  }

  FakeTransport* const transport_;
  absl::Mutex mu_;
  std::vector<int64_t> ids_ ABSL_GUARDED_BY(mu_);
  std::optional<int64_t> insert_ ABSL_GUARDED_BY(mu_);
  const FakeListShape shape_;
  std::atomic<bool> stop_{false};
  std::atomic<int> hold_until_{0};
  std::atomic<bool> hold_counts_{false};
  std::vector<FakeTransport::Exchange> held_;  // the server thread's
  std::atomic<int> requests_{0};
  std::atomic<int> counted_pages_{0};
  std::atomic<int> plain_counts_{0};
  std::atomic<int> pages_{0};
  std::atomic<int> max_waiting_{0};
  std::atomic<int> max_batch_pages_{0};
  std::atomic<double> page_processing_{0.001};
  std::thread thread_;
};

inline PortalOptions ListPortalOptions() {
  PortalOptions o;
  o.webhook_url = "https://portal.example/rest/1/secret/";
  o.bucket = BucketPolicy{1000, 1000, 0};
  o.linger = absl::Milliseconds(1);
  o.backoff = BackoffPolicy{absl::Milliseconds(1), absl::Milliseconds(5), 2};
  return o;
}

// What a consumer received from one read.
struct ReadOutcome {
  absl::Status status = absl::UnknownError("not finished");
  std::vector<nlohmann::ordered_json> items;
  std::vector<ListPage> pages;  // items moved out; cursors and progress kept
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

// A consumer on the test thread: pages are queued by the reader and taken,
// acknowledged (outside the reader's lock) and recorded here.
class Consumer : public ListSink {
 public:
  void OnPage(ListPage page) override {
    absl::MutexLock lock(&mu_);
    queue_.push_back(std::move(page));
  }
  void OnDone(absl::Status status, ListSummary summary) override {
    absl::MutexLock lock(&mu_);
    status_ = std::move(status);
    summary_ = std::move(summary);
    done_ = true;
  }

  // Reads to the end; after `stop_after_pages` pages (if >= 0) cancels.
  ReadOutcome Read(ListReader* reader, int stop_after_pages = -1) {
    ReadOutcome out;
    int pages = 0;
    bool cancelled = false;
    for (;;) {
      std::optional<ListPage> page;
      {
        absl::MutexLock lock(&mu_);
        auto ready = [this]() ABSL_SHARED_LOCKS_REQUIRED(mu_) { return !queue_.empty() || done_; };
        if (!mu_.AwaitWithTimeout(absl::Condition(&ready), absl::Seconds(10))) {
          ADD_FAILURE() << "the read stalled";
          reader->Cancel();
          cancelled = true;
          continue;
        }
        if (!queue_.empty()) {
          page = std::move(queue_.front());
          queue_.pop_front();
        } else {
          out.status = status_;
          out.summary = summary_;
          return out;
        }
      }
      if (!cancelled) {
        for (auto& item : page->items) out.items.push_back(std::move(item));
        page->items.clear();
        out.pages.push_back(std::move(*page));
        ++pages;
      }
      reader->Ack();
      if (stop_after_pages >= 0 && pages == stop_after_pages && !cancelled) {
        reader->Cancel();
        cancelled = true;
      }
    }
  }

 private:
  absl::Mutex mu_;
  std::deque<ListPage> queue_ ABSL_GUARDED_BY(mu_);
  bool done_ ABSL_GUARDED_BY(mu_) = false;
  absl::Status status_ ABSL_GUARDED_BY(mu_);
  ListSummary summary_ ABSL_GUARDED_BY(mu_);
};

// Reads `request` to the end (or `stop_after_pages` pages) on `portal`.
inline ReadOutcome ReadList(Portal* portal, ListRequest request, int stop_after_pages = -1,
                            int max_unacked_pages = 100) {
  Consumer consumer;
  auto reader = ListReader::Create(portal, std::move(request), &consumer, max_unacked_pages);
  if (!reader.ok()) {
    ReadOutcome out;
    out.status = reader.status();
    return out;
  }
  (*reader)->Run();
  return consumer.Read(reader->get(), stop_after_pages);
}

// Ids 1..n*step with the given step: a list of n rows.
inline std::vector<int64_t> Ids(int64_t n, int64_t step = 1, int64_t first = 1) {
  std::vector<int64_t> out;
  for (int64_t i = 0; i < n; ++i) out.push_back(first + i * step);
  return out;
}

}  // namespace b24gate

#endif  // B24GATE_TESTS_ENGINE_LISTS_LIST_TEST_UTIL_H_
