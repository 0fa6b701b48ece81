#include "engine/lists/list_reader.h"

#include <algorithm>
#include <optional>
#include <utility>

#include "absl/strings/ascii.h"
#include "absl/strings/numbers.h"
#include "absl/strings/str_cat.h"
#include "engine/bitrix/query_encoder.h"
#include "engine/common/errors.h"

namespace b24gate {
namespace {

constexpr int kPageSize = 50;      // fixed by Bitrix24
constexpr int kMaxBatch = 50;      // commands per batch
constexpr int kParallelUnits = 4;  // offset batches in flight per reader

// True when `order` is absent or sorts by the keyset field ascending only.
bool OrderAllowsKeyset(const nlohmann::ordered_json& params, const std::string& field) {
  auto it = params.find("order");
  if (it == params.end() || it->is_null()) return true;
  if (it->is_array() && it->empty()) return true;
  if (!it->is_object()) return false;
  if (it->empty()) return true;
  if (it->size() != 1) return false;
  auto f = it->begin();
  return absl::AsciiStrToLower(f.key()) == absl::AsciiStrToLower(field) && f->is_string() &&
         absl::AsciiStrToUpper(f->get<std::string>()) == "ASC";
}

bool ToInt64(const nlohmann::ordered_json& v, int64_t* out) {
  if (v.is_number_integer()) {
    *out = v.get<int64_t>();
    return true;
  }
  if (v.is_number()) {
    *out = static_cast<int64_t>(v.get<double>());
    return true;
  }
  if (v.is_string()) return absl::SimpleAtoi(v.get<std::string>(), out);
  return false;
}

std::string IdKey(const nlohmann::ordered_json& item) {
  if (!item.is_object()) return "";
  for (const char* key : {"ID", "id"}) {
    auto it = item.find(key);
    if (it != item.end()) return it->is_string() ? it->get<std::string>() : it->dump();
  }
  return "";
}

}  // namespace

absl::StatusOr<std::shared_ptr<ListReader>> ListReader::Create(Portal* portal,
                                                               ListRequest request,
                                                               ListSink* sink,
                                                               int max_unacked_pages) {
  if (!request.params.is_object()) {
    return absl::InvalidArgumentError("params: must be an object for a list method");
  }
  for (const char* key : {"filter", "order"}) {
    auto it = request.params.find(key);
    if (it != request.params.end() && !it->is_object() && !(it->is_array() && it->empty()) &&
        !it->is_null()) {
      return absl::InvalidArgumentError(absl::StrCat("params.", key, ": must be an object"));
    }
  }
  if (request.params.contains("start")) {
    return absl::InvalidArgumentError(
        "params.start: GetAll manages paging itself; remove `start` (use Call for one page)");
  }
  if (std::optional<std::string> at = FindBatchReference(request.params)) {
    // Pages travel in batches, where Bitrix24 would resolve the reference.
    return absl::InvalidArgumentError(absl::StrCat(
        "params.", *at, ": holds \"$result\", which Bitrix24 would replace inside the batches "
        "GetAll sends; read such a list with Call"));
  }
  auto select = request.params.find("select");
  if (select != request.params.end() && !select->is_array()) {
    return absl::InvalidArgumentError("params.select: must be a list of field names");
  }
  std::shared_ptr<ListReader> reader(
      new ListReader(portal, std::move(request), sink, max_unacked_pages));
  return reader;
}

ListReader::ListReader(Portal* portal, ListRequest request, ListSink* sink, int max_unacked_pages)
    : portal_(portal),
      request_(std::move(request)),
      sink_(sink),
      max_unacked_pages_(std::max(max_unacked_pages, 1)),
      cancel_(request_.options.cancel ? request_.options.cancel
                                      : std::make_shared<CancelToken>()) {}

CallOptions ListReader::Options() const {
  CallOptions o = request_.options;
  o.cancel = cancel_;
  return o;
}

void ListReader::Run() { Begin(); }

void ListReader::Begin() {
  nlohmann::ordered_json first;
  {
    absl::MutexLock lock(&mu_);
    std::optional<ListShape> known = KnownListShape(request_.method);
    if (known) shape_ = *known;
    if (!request_.items_key.empty()) shape_.items_key = request_.items_key;
    keyset_ = !shape_.keyset_filter_field.empty() &&
              OrderAllowsKeyset(request_.params, shape_.keyset_order_field);
    if (keyset_) {
      // Respect a caller's own lower bound on the ID.
      auto filter = request_.params.find("filter");
      if (filter != request_.params.end() && filter->is_object()) {
        auto gt = filter->find(">" + shape_.keyset_filter_field);
        if (gt != filter->end() && !ToInt64(*gt, &last_id_)) keyset_ = false;
      }
    }
    summary_.strategy = keyset_ ? "keyset" : "offset";
    first = keyset_ ? KeysetParams(last_id_) : PageParams(0);
    if (keyset_) first["start"] = 0;  // the first page also counts `total`
  }
  auto self = shared_from_this();
  portal_->Call(request_.method, std::move(first), /*as_json=*/false, Options(),
                [self](absl::StatusOr<CallReply> reply) { self->OnFirstPage(std::move(reply)); });
}

nlohmann::ordered_json ListReader::PageParams(int64_t start) const {
  nlohmann::ordered_json p = request_.params;
  p["start"] = start;
  return p;
}

nlohmann::ordered_json ListReader::KeysetParams(const nlohmann::ordered_json& after) const {
  nlohmann::ordered_json p = request_.params;
  const std::string& f = shape_.keyset_filter_field;
  if (!p.contains("filter") || !p["filter"].is_object()) p["filter"] = nlohmann::ordered_json::object();
  p["filter"][">" + f] = after;
  p["order"] = nlohmann::ordered_json::object({{shape_.keyset_order_field, "ASC"}});
  // The next page's reference needs the ID in every row.
  auto select = p.find("select");
  if (select != p.end() && select->is_array() && !select->empty()) {
    bool has = false;
    for (const auto& s : *select) {
      if (s.is_string() && (s.get<std::string>() == "*" ||
                            absl::AsciiStrToLower(s.get<std::string>()) ==
                                absl::AsciiStrToLower(shape_.item_id_field))) {
        has = true;
      }
    }
    if (!has) select->push_back(shape_.keyset_filter_field);
  }
  p["start"] = -1;
  return p;
}

bool ListReader::ExtractItems(const nlohmann::ordered_json& result, std::vector<nlohmann::ordered_json>* items) {
  const nlohmann::ordered_json* list = &result;
  if (!shape_.items_key.empty()) {
    if (!result.is_object() || !result.contains(shape_.items_key)) {
      // An empty wrapped list may come back as `[]` (PHP's empty map).
      if (result.is_array() && result.empty()) return true;
      return false;
    }
    list = &result[shape_.items_key];
  } else if (result.is_object() && result.size() == 1 && result.begin()->is_array()) {
    // Auto-detect a wrapped list the table does not know: {"things": [...]}.
    shape_.items_key = result.begin().key();
    list = &*result.begin();
  }
  if (list->is_object() && list->empty()) return true;  // PHP `[]`/`{}` for none
  if (list->is_object()) {
    // A PHP map with non-sequential keys: its values are the items.
    for (const auto& v : *list) items->push_back(v);
    return true;
  }
  if (!list->is_array()) return false;
  for (const auto& v : *list) items->push_back(v);
  return true;
}

void ListReader::Deliver(std::vector<nlohmann::ordered_json> items) {
  if (!keyset_ && !items.empty()) {
    // Offset pages shift when rows are added or deleted during the read:
    // drop rows already delivered.
    std::vector<nlohmann::ordered_json> fresh;
    for (auto& item : items) {
      std::string id = IdKey(item);
      if (!id.empty() && !seen_ids_.insert(id).second) {
        duplicates_++;
        continue;
      }
      fresh.push_back(std::move(item));
    }
    items = std::move(fresh);
  }
  if (items.empty()) return;
  count_ += static_cast<int64_t>(items.size());
  unacked_pages_++;
  ListPage page;
  page.items = std::move(items);
  page.items_so_far = count_;
  page.total = total_;
  sink_->OnPage(std::move(page));
}

void ListReader::Finish(absl::Status status) {
  if (finished_) return;
  finished_ = true;
  summary_.count = count_;
  summary_.total = total_;
  summary_.total_matched = !total_ || *total_ == count_;
  if (duplicates_ > 0) {
    summary_.warnings.push_back(absl::StrCat(duplicates_,
                                             " rows were seen twice (the list changed while it "
                                             "was read) and were delivered once"));
  }
  if (!summary_.total_matched) {
    summary_.warnings.push_back(absl::StrCat("read ", count_, " items but the portal reported total ",
                                             *total_, " (the list changed while it was read)"));
  }
  sink_->OnDone(std::move(status), summary_);
}

void ListReader::OnFirstPage(absl::StatusOr<CallReply> reply) {
  absl::MutexLock lock(&mu_);
  if (finished_) return;
  if (!reply.ok()) {
    Finish(reply.status());
    return;
  }
  std::vector<nlohmann::ordered_json> items;
  if (!ExtractItems(reply->result, &items)) {
    Finish(absl::InvalidArgumentError(absl::StrCat(
        request_.method,
        " did not return a list; set items_key to where the items sit in `result`")));
    return;
  }
  total_ = reply->total;
  size_t page_rows = items.size();
  if (keyset_) {
    if (!items.empty() && !ToInt64(items.back().value(shape_.item_id_field, nlohmann::ordered_json()),
                                   &last_id_)) {
      Finish(absl::InvalidArgumentError(absl::StrCat("items of ", request_.method, " lack the `",
                                                     shape_.item_id_field, "` field")));
      return;
    }
    end_reached_ = page_rows < kPageSize || !reply->next;
  } else {
    if (reply->next) {
      next_start_ = *reply->next;
      if (!total_) follow_next_ = *reply->next;
    } else {
      end_reached_ = true;
    }
  }
  Deliver(std::move(items));
  FetchMore();
}

void ListReader::Ack() {
  absl::MutexLock lock(&mu_);
  unacked_pages_--;
  FetchMore();
}

void ListReader::Cancel() {
  cancel_->Cancel();
  absl::MutexLock lock(&mu_);
  if (in_flight_units_ == 0) {
    Finish(GatewayError(absl::StatusCode::kCancelled, kReasonCancelled, "the read was cancelled"));
  }
}

void ListReader::FetchMore() {
  if (finished_) return;
  if (cancel_->cancelled()) {
    if (in_flight_units_ == 0) {
      Finish(GatewayError(absl::StatusCode::kCancelled, kReasonCancelled, "the read was cancelled"));
    }
    return;
  }
  if (keyset_) {
    if (in_flight_units_ > 0) return;
    if (end_reached_) {
      Finish(absl::OkStatus());
    } else if (unacked_pages_ < max_unacked_pages_) {
      StartKeysetUnit();
    }
    return;
  }
  // Offset strategy.
  DeliverReadyOffsetUnits();
  if (finished_) return;
  if (follow_next_) {
    if (in_flight_units_ == 0 && unacked_pages_ < max_unacked_pages_) FollowNext(*follow_next_);
    return;
  }
  if (!end_reached_ && total_) {
    while (in_flight_units_ < kParallelUnits && next_start_ < *total_ &&
           unacked_pages_ + (in_flight_units_ + 1) * kMaxBatch <= max_unacked_pages_ + kMaxBatch) {
      StartOffsetUnit();
    }
  }
  if (in_flight_units_ == 0 && ready_units_.empty() && !follow_next_ &&
      (end_reached_ || !total_ || next_start_ >= *total_)) {
    Finish(absl::OkStatus());
  }
}

void ListReader::StartKeysetUnit() {
  int64_t pages = kMaxBatch;
  if (total_) {
    int64_t remaining = std::max<int64_t>(0, *total_ - count_);
    // One page more than the total promises, to notice rows added meanwhile.
    pages = std::min<int64_t>(kMaxBatch, remaining / kPageSize + 1);
  }
  std::vector<BatchCommandSpec> commands;
  for (int64_t i = 0; i < pages; ++i) {
    nlohmann::ordered_json after;
    if (i == 0) {
      after = last_id_;
    } else {
      std::string path = shape_.items_key.empty() ? "" : absl::StrCat("[", shape_.items_key, "]");
      after = absl::StrCat("$result[p", i - 1, "]", path, "[", kPageSize - 1, "][",
                           shape_.item_id_field, "]");
    }
    commands.push_back({absl::StrCat("p", i), request_.method, KeysetParams(after)});
  }
  in_flight_units_++;
  auto self = shared_from_this();
  int n = static_cast<int>(pages);
  portal_->Batch(std::move(commands), /*halt=*/false, Options(),
                 [self, n](absl::StatusOr<BatchResult> result) {
                   self->OnKeysetUnit(n, std::move(result));
                 });
}

void ListReader::OnKeysetUnit(int pages, absl::StatusOr<BatchResult> result) {
  absl::MutexLock lock(&mu_);
  in_flight_units_--;
  if (finished_) return;
  if (!result.ok()) {
    Finish(result.status());
    return;
  }
  for (int i = 0; i < pages && !end_reached_; ++i) {
    auto it = result->outcomes.find(absl::StrCat("p", i));
    if (it == result->outcomes.end()) break;  // resume from last_id_ in the next unit
    if (!it->second.ok()) {
      if (it->second.status().code() == absl::StatusCode::kResourceExhausted) break;
      Finish(it->second.status());
      return;
    }
    std::vector<nlohmann::ordered_json> items;
    if (!ExtractItems(it->second->result, &items)) {
      Finish(absl::InvalidArgumentError(
          absl::StrCat(request_.method, " did not return a list in a keyset page")));
      return;
    }
    size_t page_rows = items.size();
    // Only rows past the last delivered ID: each row exactly once.
    std::vector<nlohmann::ordered_json> fresh;
    for (auto& item : items) {
      int64_t id = 0;
      if (!ToInt64(item.value(shape_.item_id_field, nlohmann::ordered_json()), &id)) {
        Finish(absl::InvalidArgumentError(absl::StrCat("items of ", request_.method, " lack the `",
                                                       shape_.item_id_field, "` field")));
        return;
      }
      if (id <= last_id_) continue;
      last_id_ = id;
      fresh.push_back(std::move(item));
    }
    if (page_rows < kPageSize) end_reached_ = true;
    Deliver(std::move(fresh));
  }
  FetchMore();
}

void ListReader::StartOffsetUnit() {
  std::vector<BatchCommandSpec> commands;
  std::vector<int64_t> starts;
  for (int i = 0; i < kMaxBatch && next_start_ < *total_; ++i) {
    commands.push_back({absl::StrCat("o", i), request_.method, PageParams(next_start_)});
    starts.push_back(next_start_);
    next_start_ += kPageSize;
  }
  int64_t unit = next_unit_++;
  in_flight_units_++;
  auto self = shared_from_this();
  portal_->Batch(std::move(commands), /*halt=*/false, Options(),
                 [self, unit, starts](absl::StatusOr<BatchResult> result) {
                   self->OnOffsetUnit(unit, starts, std::move(result));
                 });
}

void ListReader::OnOffsetUnit(int64_t unit, std::vector<int64_t> starts,
                              absl::StatusOr<BatchResult> result) {
  absl::MutexLock lock(&mu_);
  in_flight_units_--;
  if (finished_) return;
  if (!result.ok()) {
    Finish(result.status());
    return;
  }
  std::vector<std::vector<nlohmann::ordered_json>> pages;
  std::optional<int64_t> last_next;
  for (size_t i = 0; i < starts.size(); ++i) {
    auto it = result->outcomes.find(absl::StrCat("o", i));
    if (it == result->outcomes.end()) {
      Finish(GatewayError(absl::StatusCode::kUnavailable, kReasonBadResponse,
                          absl::StrCat("the portal did not answer the page at start=", starts[i])));
      return;
    }
    if (!it->second.ok()) {
      Finish(it->second.status());
      return;
    }
    std::vector<nlohmann::ordered_json> items;
    if (!ExtractItems(it->second->result, &items)) {
      Finish(absl::InvalidArgumentError(absl::StrCat(request_.method, " did not return a list")));
      return;
    }
    last_next = it->second->next;
    pages.push_back(std::move(items));
  }
  // Rows added while reading push the list past the first `total`.
  if (next_start_ >= *total_ && last_next && *last_next >= next_start_) {
    follow_next_ = *last_next;
  }
  ready_units_[unit] = std::move(pages);
  FetchMore();
}

void ListReader::DeliverReadyOffsetUnits() {
  while (!finished_) {
    auto it = ready_units_.find(deliver_unit_);
    if (it == ready_units_.end()) return;
    for (auto& page : it->second) Deliver(std::move(page));
    ready_units_.erase(it);
    deliver_unit_++;
  }
}

void ListReader::FollowNext(int64_t start) {
  follow_next_.reset();
  in_flight_units_++;
  auto self = shared_from_this();
  portal_->Call(request_.method, PageParams(start), /*as_json=*/false, Options(),
                [self](absl::StatusOr<CallReply> reply) { self->OnNextPage(std::move(reply)); });
}

void ListReader::OnNextPage(absl::StatusOr<CallReply> reply) {
  absl::MutexLock lock(&mu_);
  in_flight_units_--;
  if (finished_) return;
  if (!reply.ok()) {
    Finish(reply.status());
    return;
  }
  std::vector<nlohmann::ordered_json> items;
  if (!ExtractItems(reply->result, &items)) {
    Finish(absl::InvalidArgumentError(absl::StrCat(request_.method, " did not return a list")));
    return;
  }
  if (reply->total) total_ = reply->total;
  if (reply->next) {
    follow_next_ = *reply->next;
  } else {
    end_reached_ = true;
  }
  Deliver(std::move(items));
  FetchMore();
}

}  // namespace b24gate
