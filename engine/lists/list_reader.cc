#include "engine/lists/list_reader.h"

#include <algorithm>
#include <optional>
#include <utility>

#include "absl/strings/str_cat.h"
#include "engine/bitrix/query_encoder.h"
#include "engine/common/errors.h"
#include "engine/lists/v3_list_strategy.h"

namespace b24gate {
namespace {

absl::Status ValidateParams(const ListRequest& request) {
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
  return absl::OkStatus();
}

// Parallel keyset where the method has an id order the caller's `order`
// and filter allow, else offset.
ListStrategyKind DefaultStrategy(const ListRequest& request, const ListShape& shape) {
  if (shape.keyset_filter_field.empty() ||
      !OrderAllowsKeyset(request.params, shape.keyset_order_field) ||
      !SplitIdFilter(request.params, shape.keyset_filter_field).ok()) {
    return ListStrategyKind::kOffset;
  }
  return ListStrategyKind::kParallelKeyset;
}

// The strategy and resume state a read starts with: the resume cursor's, or
// the one asked for (kDefault: chosen from the request).
absl::StatusOr<ListCursor> StartingPoint(const ListRequest& request, const ListShape& shape,
                                         uint64_t hash) {
  const bool v3 = request.options.api == RestApi::kV3;
  absl::StatusOr<ListStrategyKind> wanted =
      v3 ? ChooseV3Strategy(request.strategy, request.params)
         : absl::StatusOr<ListStrategyKind>(request.strategy == ListStrategyKind::kDefault
                                                ? DefaultStrategy(request, shape)
                                                : request.strategy);
  if (!wanted.ok()) return wanted.status();
  if (request.resume_cursor.empty()) return ListCursor{*wanted, 0, Json()};
  absl::StatusOr<ListCursor> decoded = DecodeListCursor(request.resume_cursor, hash);
  if (!decoded.ok()) return decoded.status();
  if (request.strategy != ListStrategyKind::kDefault && *wanted != decoded->strategy) {
    return absl::InvalidArgumentError(absl::StrCat(
        "strategy: the resume_cursor was made by a ", ListStrategyName(decoded->strategy),
        " read; resume with that strategy or leave it unspecified"));
  }
  return decoded;
}

}  // namespace

absl::StatusOr<std::shared_ptr<ListReader>> ListReader::Create(Dispatcher* portal, Clock* clock,
                                                               ListRequest request, ListSink* sink,
                                                               ListReaderOptions options) {
  const bool v3 = request.options.api == RestApi::kV3;
  if (absl::Status s = v3 ? ValidateV3ListParams(request.params) : ValidateParams(request);
      !s.ok()) {
    return s;
  }
  // REST 3.0 lists keep their items under result.items; the classic table
  // (tasks.task.list: "tasks") does not apply to them.
  ListShape shape = v3 ? ListShape{"items", "", "", ""}
                       : KnownListShape(request.method).value_or(ListShape{});
  if (!request.items_key.empty()) shape.items_key = request.items_key;
  // The API is part of what a cursor belongs to.
  uint64_t hash = ListRequestHash(v3 ? "v3:" + request.method : request.method, request.params,
                                  request.items_key);
  absl::StatusOr<ListCursor> resume = StartingPoint(request, shape, hash);
  if (!resume.ok()) return resume.status();
  std::shared_ptr<ListReader> reader(
      new ListReader(portal, clock, std::move(request), sink, options, shape, *resume, hash));
  absl::MutexLock lock(&reader->mu_);
  absl::StatusOr<std::unique_ptr<ListStrategy>> strategy =
      MakeListStrategy(resume->strategy, reader.get(), shape, resume->state);
  if (!strategy.ok()) return strategy.status();
  reader->strategy_ = std::move(*strategy);
  return reader;
}

ListReader::ListReader(Dispatcher* portal, Clock* clock, ListRequest request, ListSink* sink,
                       ListReaderOptions options, ListShape shape, ListCursor resume,
                       uint64_t request_hash)
    : portal_(portal),
      clock_(clock),
      request_(std::move(request)),
      sink_(sink),
      options_(options),
      shape_(std::move(shape)),
      request_hash_(request_hash),
      preparer_(sink->Preparer()),
      cancel_(request_.options.cancel ? request_.options.cancel : std::make_shared<CancelToken>()),
      extractor_(shape_.items_key),
      count_(resume.delivered),
      resume_state_(std::move(resume.state)) {}

ListReader::~ListReader() = default;

CallOptions ListReader::Options() const {
  CallOptions o = request_.options;
  o.cancel = cancel_;
  // Any answer, however small, may let Drain hand on every page that waited
  // for it: never on the transport's thread.
  o.heavy_callback = true;
  return o;
}

void ListReader::Run() {
  int warm = 0;
  AfterLock after;
  {
    absl::MutexLock lock(&mu_);
    strategy_->Start();
    Pump();
    warm = finished_ ? 0 : strategy_->ConnectionsWanted();
    after = EndLocked();
  }
  // Outside the lock: it wakes the transport's loop. Before the drain,
  // which may take a while.
  if (warm > 1) portal_->Warm(warm);
  Finally(std::move(after));
}

void ListReader::Ack() {
  AfterLock after;
  {
    absl::MutexLock lock(&mu_);
    unacked_pages_--;
    Pump();
    after = EndLocked();
  }
  Finally(std::move(after));
}

void ListReader::Cancel() {
  cancel_->Cancel();
  AfterLock after;
  {
    absl::MutexLock lock(&mu_);
    Pump();
    after = EndLocked();
  }
  Finally(std::move(after));
}

// One wrapper for both callback kinds: the answer is handled under the lock
// unless the read has finished, the strategy goes on, and what that queued
// reaches the sink once the lock is released.
template <typename Result>
std::function<void(Result)> ListReader::Guarded(std::function<void(Result)> fn) {
  auto self = shared_from_this();
  return [self, fn = std::move(fn)](Result result) {
    AfterLock after;
    {
      absl::MutexLock lock(&self->mu_);
      if (self->finished_) return;
      fn(std::move(result));
      self->Pump();
      after = self->EndLocked();
    }
    self->Finally(std::move(after));
  };
}

CallCallback ListReader::Guard(std::function<void(absl::StatusOr<CallReply>)> fn) {
  return Guarded(std::move(fn));
}

BatchCallback ListReader::GuardBatch(std::function<void(absl::StatusOr<BatchResult>)> fn) {
  return Guarded(std::move(fn));
}

ListReader::AfterLock ListReader::EndLocked() {
  AfterLock after;
  after.prepare = std::move(to_prepare_);
  to_prepare_.clear();
  if (!draining_ && !sink_calls_.empty()) {
    draining_ = true;
    after.drain = true;
  }
  return after;
}

void ListReader::Finally(AfterLock work) {
  // One page a job, on the portal's threads when they have nothing else to
  // do: a job holds up no answer longer than one page takes (0.1-0.2 ms).
  // A page handed over before it was made is made by the thread that hands
  // it over (or waits for the making under way); pages the read no longer
  // holds (handed over, or the read ended) are left alone.
  for (const auto& pages : work.prepare) {
    std::weak_ptr<EarlyPages> weak = pages;
    for (size_t i = 0; i < pages->pages(); ++i) {
      portal_->Background([weak, i] {
        if (std::shared_ptr<EarlyPages> held = weak.lock()) held->Prepare(i);
      });
    }
  }
  if (work.drain) Drain();
}

void ListReader::Drain() {
  // Callers hold the reader (shared_from_this, or the consumer's pointer),
  // so it outlives this loop. Nothing follows the end: after OnDone the sink
  // may be gone, and draining_ stays set.
  for (;;) {
    SinkCall call;
    {
      absl::MutexLock lock(&mu_);
      if (sink_calls_.empty()) {
        draining_ = false;
        return;
      }
      call = std::move(sink_calls_.front());
      sink_calls_.pop_front();
    }
    if (!call.page) {
      sink_->OnDone(std::move(call.status), std::move(call.summary));
      return;
    }
    if (call.early) call.page->prepared = call.early->Take(call.early_page);
    sink_->OnPage(std::move(*call.page));
  }
}

void ListReader::ListAnswered() {
  // Offset pages count anyway; keyset pages never do.
  if (count_started_ || request_.skip_total || strategy_->kind() == ListStrategyKind::kOffset) return;
  count_started_ = true;
  if (strategy_->CarriesCount()) {
    count_offered_ = true;
    return;
  }
  StartCount();
}

Json ListReader::CountParams() const {
  // One counted page, ids only.
  Json p = request_.params;
  if (!shape_.keyset_filter_field.empty()) p["select"] = Json::array({shape_.keyset_filter_field});
  p.erase("order");
  p["start"] = 0;
  return p;
}

std::optional<BatchCommandSpec> ListReader::TakeCountCommand() {
  if (!count_offered_) return std::nullopt;
  count_offered_ = false;
  count_in_flight_ = true;
  return BatchCommandSpec{"count", request_.method, CountParams()};
}

void ListReader::CountAnswered(absl::StatusOr<CallReply> reply) { OnCount(std::move(reply)); }

void ListReader::StartCount() {
  // Alone in its request: a counted page of a big table takes long and must
  // not hold up the chains' batches.
  count_in_flight_ = true;
  portal_->Call(request_.method, CountParams(), /*as_json=*/true, Options(),
                Guard([this](absl::StatusOr<CallReply> reply) ABSL_NO_THREAD_SAFETY_ANALYSIS {
                  OnCount(std::move(reply));
                }));
}

void ListReader::OnCount(absl::StatusOr<CallReply> reply) {
  count_in_flight_ = false;
  if (!reply.ok()) {
    if (cancel_->cancelled()) return;
    // The count asks the same list the chains read: a refusal by the portal
    // (overload, access, bad filter) would fail them too, so it is not
    // hidden in a warning. A count that only timed out or could not be
    // sent leaves the read going without a total.
    if (IsB24Error(reply.status())) {
      Fail(reply.status());
      return;
    }
    warnings_.push_back(absl::StrCat("the total could not be counted: ", reply.status().message()));
    return;
  }
  if (!reply->total) return;
  ReportTotal(*reply->total);
  // Progress with the total, at once rather than with the next page.
  if (!total_sent_ && ConsumerHasRoom()) Deliver({}, resume_state_);
}

void ListReader::Deliver(std::vector<Json> items, Json resume) {
  SinkCall call;
  auto n = static_cast<int64_t>(items.size());
  call.page.emplace().items = std::move(items);
  QueuePage(n, std::move(resume), std::move(call));
}

std::shared_ptr<EarlyPages> ListReader::ReadAhead(std::vector<Json>* items, int64_t last_id) {
  if (preparer_ == nullptr || items->empty()) return nullptr;
  auto pages = std::make_shared<EarlyPages>(std::move(*items), shape_.item_id_field, last_id,
                                            preparer_);
  items->clear();
  to_prepare_.push_back(pages);
  return pages;
}

void ListReader::Deliver(std::shared_ptr<EarlyPages> pages, size_t page, Json resume) {
  SinkCall call;
  int64_t n = pages->items(page);
  call.page.emplace();
  call.early = std::move(pages);
  call.early_page = page;
  QueuePage(n, std::move(resume), std::move(call));
}

void ListReader::QueuePage(int64_t items, Json resume, SinkCall call) {
  if (finished_) return;  // a batch that also carried the count may have failed the read
  resume_state_ = std::move(resume);
  bool total_news = total_ && !total_sent_;
  if (items == 0 && !total_news) return;  // the cursor moves with the next message
  count_ += items;
  delivered_here_ += items;
  unacked_pages_++;
  ListPage& page = *call.page;
  page.items_so_far = count_;
  page.total = total_;
  total_sent_ = total_.has_value();
  page.resume_cursor = Cursor();
  sink_calls_.push_back(std::move(call));
}

bool ListReader::ConsumerHasRoom() const { return unacked_pages_ < std::max(options_.max_unacked_pages, 1); }

void ListReader::ReportTotal(int64_t total) {
  if (request_.skip_total) return;
  if (total_ && *total_ == total) return;
  total_ = total;
  total_sent_ = false;
}

std::optional<int64_t> ListReader::total() const {
  // The total counts the whole list; a resumed read has part of it already.
  if (!total_) return std::nullopt;
  return *total_ - (count_ - delivered_here_);
}

int64_t ListReader::delivered() const { return delivered_here_; }

void ListReader::Warn(std::string warning) { warnings_.push_back(std::move(warning)); }

void ListReader::Fail(absl::Status status) {
  if (cancel_->cancelled()) {
    status = GatewayError(absl::StatusCode::kCancelled, kReasonCancelled, "the read was cancelled");
  }
  Finish(std::move(status));
}

void ListReader::Pump() {
  if (finished_) return;
  if (cancel_->cancelled()) {
    if (strategy_->in_flight() == 0 && !count_in_flight_) {
      Finish(GatewayError(absl::StatusCode::kCancelled, kReasonCancelled, "the read was cancelled"));
    }
    return;
  }
  strategy_->Pump();
  if (!finished_ && strategy_->done() && !count_in_flight_) Finish(absl::OkStatus());
}

std::string ListReader::Cursor() const {
  return EncodeListCursor({strategy_->kind(), count_, resume_state_}, request_hash_);
}

void ListReader::Finish(absl::Status status) {
  if (finished_) return;
  finished_ = true;
  ListSummary summary;
  summary.count = count_;
  summary.total = total_;
  summary.total_matched = !total_ || *total_ == count_;
  summary.strategy = ListStrategyName(strategy_->kind());
  summary.warnings = std::move(warnings_);
  if (!summary.total_matched) {
    summary.warnings.push_back(absl::StrCat("read ", count_, " items but the portal reported total ",
                                            *total_, " (the list changed while it was read)"));
  }
  summary.resume_cursor = Cursor();
  sink_calls_.push_back({std::nullopt, std::move(status), std::move(summary)});
}

}  // namespace b24gate
