#include "engine/lists/parallel_keyset_strategy.h"

#include <algorithm>
#include <cmath>

#include "absl/strings/str_cat.h"
#include "engine/lists/keyset_chain_strategy.h"
#include "engine/lists/tail_split.h"

namespace b24gate {
namespace {

// What handling a batch's answer of 2,500 items takes the gateway: traced on
// the real stack, 11 to 24 ms on a pool thread when this was set, 2 to 6 ms
// since answers are read without copying (answer_json.h); a small profile's
// page is 15 ms. Simulated (short_list_schedule_test, 10 ms a round, answers
// handled one at a time at 3.5 us an item), small 20,000 leads: 0.836-0.852 s
// with 15 ms, 0.842-0.858 s with 9 ms, 0.883-0.888 s without staggering. On
// the real stack with the faster handling (load 1, 4 runs each in turn):
// 0.85 s with 15 ms, 0.85-0.86 s with 7.5 ms, 0.87-0.89 s without: the
// stagger still pays, as the rests' pages still take a round.
constexpr double kAnswerHandlingSeconds = 0.015;

// A resume state's range list, clipped to the caller's range.
absl::StatusOr<std::vector<IdRange>> ResumeRanges(const Json& resume, const IdRange& whole) {
  std::vector<IdRange> out;
  if (resume.is_object() && resume.contains("after")) {
    absl::StatusOr<int64_t> after = KeysetResumeAfter(resume);
    if (!after.ok()) return after.status();
    out.push_back({std::max(whole.after, *after), whole.before});
    return out;
  }
  if (!resume.is_object() || !resume.contains("ranges") || !resume["ranges"].is_array()) {
    return absl::InvalidArgumentError("resume_cursor: not a cursor of a parallel keyset read");
  }
  for (const Json& r : resume["ranges"]) {
    IdRange range;
    int64_t before = 0;
    if (!r.is_array() || r.size() != 2 || !ToInt64(r[0], &range.after) ||
        !(r[1].is_null() || ToInt64(r[1], &before))) {
      return absl::InvalidArgumentError("resume_cursor: not a cursor of a parallel keyset read");
    }
    if (!r[1].is_null()) range.before = before;
    range.after = std::max(range.after, whole.after);
    if (whole.before) range.before = range.before ? std::min(*range.before, *whole.before) : *whole.before;
    if (!range.empty()) out.push_back(range);
  }
  return out;
}

// How many items of each range delivered straight are measured for the
// buffer's reckoning of what an item costs: a sample, not all of them.
constexpr size_t kMeasuredItems = 8;

}  // namespace

absl::StatusOr<std::unique_ptr<ParallelKeysetStrategy>> ParallelKeysetStrategy::Create(
    ListContext* context, const ListShape& shape, const Json& resume, int64_t read_ahead_bytes) {
  KeysetQuery query;
  IdRange whole;
  if (absl::Status s = PrepareKeyset(context->request(), shape, &query, &whole); !s.ok()) return s;
  std::vector<IdRange> ranges = {whole};
  if (!resume.is_null()) {
    absl::StatusOr<std::vector<IdRange>> resumed = ResumeRanges(resume, whole);
    if (!resumed.ok()) return resumed.status();
    ranges = std::move(*resumed);
  }
  // One range is looked at first (bounds, then split); several come from an
  // unordered read's cursor and are read as they are.
  bool find_bounds = ranges.size() == 1;
  return std::unique_ptr<ParallelKeysetStrategy>(new ParallelKeysetStrategy(
      context, std::move(query), ranges, find_bounds, !resume.is_null(), read_ahead_bytes));
}

ParallelKeysetStrategy::ParallelKeysetStrategy(ListContext* context, KeysetQuery query,
                                               const std::vector<IdRange>& ranges, bool find_bounds,
                                               bool resumed, int64_t read_ahead_bytes)
    : context_(context),
      query_(std::move(query)),
      read_ahead_bytes_(std::max<int64_t>(read_ahead_bytes, 1)),
      find_bounds_(find_bounds),
      resumed_(resumed),
      plan_(ranges) {
  if (plan_.size() > 0) {
    delivered_after_ = plan_.at(0).left.after;
    buffer_.Restart(delivered_after_);
  }
}

void ParallelKeysetStrategy::Start() {
  if (plan_.size() == 0) {
    // The caller's id bounds hold no id: an empty list, known unasked.
    if (!resumed_) context_->ReportTotal(0);
    done_ = true;
    return;
  }
  if (find_bounds_) {
    connections_wanted_ = context_->portal()->Budget(query_.method).max_in_flight;
    QueryBounds();
  }
  Pump();
}

bool ParallelKeysetStrategy::IsHead(const PlannedRange* r) const {
  return head_ < plan_.size() && &plan_.at(head_) == r;
}

bool ParallelKeysetStrategy::CountMayRideWith(const PlannedRange* first,
                                              bool from_the_start) const {
  if (!context_->CountOffered()) return false;
  // The plan's carrier, until its batch has gone (without the count, when
  // it was not offered yet): then as below.
  const PlannedRange* carrier = plan_.count_range();
  if (carrier != nullptr && !carrier->started) return first == carrier;
  if (!ordered() || !IsHead(first)) return true;
  // Not with the head's range while another range can take it: the head's
  // items are delivered first, and a part-filled head batch (a short wave's)
  // would take the count's time. A list left with the head's range alone
  // has no other batch: the count rides in its room, or the read would end
  // without a total.
  return !from_the_start && plan_.size() == 1;
}

void ParallelKeysetStrategy::QueryBounds() {
  // Both ends in one request, each as the caller asked for it (select and
  // filter; the id added): the first page ascending (delivered: the first
  // range goes on after it) and the first page descending (the list's top,
  // delivered as its end: the last range stops below it, a page less on
  // the connection that ends the read).
  const IdRange& r = plan_.at(0).left;
  std::vector<BatchCommandSpec> commands;
  for (bool ascending : {true, false}) {
    Json p = KeysetPageParams(query_.params, query_.base_filter, query_.shape, r.after, r.before);
    if (!ascending) p["order"] = Json::object({{query_.shape.keyset_order_field, "DESC"}});
    commands.push_back({ascending ? "asc" : "desc", query_.method, std::move(p)});
  }
  in_flight_++;
  bounds_sent_ = context_->Now();
  context_->portal()->Batch(std::move(commands), /*halt=*/false, context_->Options(),
                            context_->GuardBatch([this](absl::StatusOr<BatchResult> result) {
                              OnBounds(std::move(result));
                            }));
}

void ParallelKeysetStrategy::OnBounds(absl::StatusOr<BatchResult> result) {
  in_flight_--;
  if (!result.ok()) {
    context_->Fail(result.status());
    return;
  }
  absl::StatusOr<std::vector<Json>> first_page = BoundItems(*result, "asc");
  if (!first_page.ok()) {
    context_->Fail(first_page.status());
    return;
  }
  absl::StatusOr<std::vector<Json>> descending = BoundItems(*result, "desc");
  if (!descending.ok()) {
    context_->Fail(descending.status());
    return;
  }
  context_->ListAnswered();
  LearnOverhead(bounds_sent_, bounds_processing_);
  find_bounds_ = false;
  // The count rides with the first batch that does not carry the first
  // range (StartBatch): the second range's, or an unordered read's first;
  // in a short list's one wave, with the range the plan says
  // (RangePlan::count_range).
  int count_with = context_->CountOffered() ? (ordered() ? 1 : 0) : -1;
  PortalBudget budget = context_->portal()->Budget(query_.method);
  plan_.Split(IdsOf(*first_page), IdsOf(*descending), BatchesAllowed(budget, cost_), count_with,
              [&](double pages) { return BucketBinds(budget, pages, page_seconds_); });
  std::vector<Json> top = TopItems(std::move(*descending));
  // Unordered: the first page's cursor still owes the top, delivered next.
  if (!top.empty()) top_owed_after_ = plan_.top_after();
  // A list the bounds hold whole is read by this query alone, which counts
  // nothing (start=-1): its length is the total, known for free.
  if (plan_.whole_on_first_page() && !resumed_) {
    context_->ReportTotal(static_cast<int64_t>(first_page->size() + top.size()));
  }
  // Nothing lies before the lowest id: delivery starts there, with the
  // first page.
  PlannedRange& head = plan_.at(0);
  buffer_.Restart(head.start);
  if (first_page->empty()) return;
  size_t n = std::min(first_page->size(), kMeasuredItems);
  buffer_.Measure(std::vector<Json>(first_page->begin(), first_page->begin() + n));
  buffer_.Delivered(head.left.after);
  Deliver(&head, std::move(*first_page), head.left.after);
  DeliverTop(std::move(top));
}

std::vector<Json> ParallelKeysetStrategy::TopItems(std::vector<Json> descending) const {
  std::vector<Json> top;
  std::optional<int64_t> after = plan_.top_after();
  if (!after) return top;
  // Ascending, without those the first page holds (the two pages meet in a
  // list of under 100 items).
  for (auto it = descending.rbegin(); it != descending.rend(); ++it) {
    if (*ItemId(*it, query_.shape.item_id_field) > *after) top.push_back(std::move(*it));
  }
  return top;
}

void ParallelKeysetStrategy::DeliverTop(std::vector<Json> top) {
  std::optional<int64_t> after = plan_.top_after();
  if (!after || top.empty()) return;
  int64_t last = *ItemId(top.back(), query_.shape.item_id_field);
  // Ordered: the list's end waits for the ranges below it, unless nothing
  // is left to read (the two pages met).
  if (ordered() && !buffer_.IsNext(*after)) {
    Buffer(*after, last, std::move(top));
    return;
  }
  if (ordered()) buffer_.Delivered(last);
  top_owed_after_.reset();
  Deliver(nullptr, std::move(top), last);
}

std::vector<int64_t> ParallelKeysetStrategy::IdsOf(const std::vector<Json>& items) const {
  std::vector<int64_t> ids;
  for (const Json& item : items) ids.push_back(*ItemId(item, query_.shape.item_id_field));
  return ids;
}

absl::StatusOr<std::vector<Json>> ParallelKeysetStrategy::BoundItems(const BatchResult& result,
                                                                     const std::string& key) {
  auto it = result.outcomes.find(key);
  if (it == result.outcomes.end()) {
    return absl::UnavailableError("the portal did not answer the id bounds query");
  }
  if (!it->second.ok()) return it->second.status();
  const CallReply& reply = *it->second;
  // A first guess of a batch's cost: this page's, times the pages of a batch.
  if (reply.time.is_object() && reply.time.contains("processing") &&
      reply.time["processing"].is_number()) {
    double page = reply.time["processing"].get<double>();
    bounds_processing_ += page;
    page_seconds_ = std::max(page_seconds_, page);
    cost_.operating_seconds = std::max(cost_.operating_seconds, page * kMaxPages);
    cost_.wall_seconds = page * kMaxPages;
  }
  std::vector<Json> items;
  if (!context_->extractor()->Extract(reply.result, &items)) {
    return absl::InvalidArgumentError(absl::StrCat(
        query_.method, " did not return a list; set items_key to where the items sit in `result`"));
  }
  for (const Json& item : items) {
    if (!ItemId(item, query_.shape.item_id_field)) {
      return absl::InvalidArgumentError(absl::StrCat(
          "items of ", query_.method, " lack an integer `", query_.shape.item_id_field, "` field"));
    }
  }
  return items;
}

bool ParallelKeysetStrategy::BudgetHasRoom(const PlannedRange& r, bool filling) const {
  return BudgetAdmits(r, static_cast<double>(expected_in_flight_ + plan_.PagesFor(r) * kPageSize),
                      filling);
}

bool ParallelKeysetStrategy::BudgetAdmits(const PlannedRange& r, double items, bool filling) const {
  // Filling a batch that goes anyway may use the whole budget: a request
  // half empty costs more than the items it would have brought. So may the
  // rest of a range already part read (a cautious ask leaves one): its
  // items wait in the buffer until it is done, so reading it is what lets
  // the buffer drain. A new range starts within half of it.
  int64_t limit = filling || r.started ? read_ahead_bytes_ : read_ahead_bytes_ / 2;
  return static_cast<double>(buffer_.bytes()) + items * buffer_.ItemBytes() <=
         static_cast<double>(limit);
}

bool ParallelKeysetStrategy::BudgetTight() const {
  double items = static_cast<double>(expected_in_flight_);
  return ordered() && static_cast<double>(buffer_.bytes()) + items * buffer_.ItemBytes() >
                          static_cast<double>(read_ahead_bytes_ / 2);
}

bool ParallelKeysetStrategy::BudgetStopsFill() const {
  // The waiting ranges in the order FillBatch takes them, as far as the
  // budget lets them in.
  if (!ordered()) return false;
  int pages = 0;
  double items = static_cast<double>(expected_in_flight_);
  for (size_t i = first(); i < plan_.size() && pages < kMaxPages; ++i) {
    const PlannedRange& r = plan_.at(i);
    if (r.done || r.in_flight) continue;
    // The first range's batch is what lets the buffer drain: it goes.
    if (IsHead(&r)) return false;
    int p = plan_.PagesFor(r);
    items += p * kPageSize;
    if (!BudgetAdmits(r, items, /*filling=*/pages > 0)) break;
    pages += p;
  }
  return pages < kMaxPages;
}

PlannedRange* ParallelKeysetStrategy::NextToRead(bool filling) {
  PlannedRange* r = plan_.NextIdle(first());
  if (r != nullptr && ordered() && !IsHead(r) && !BudgetHasRoom(*r, filling)) return nullptr;
  return r;
}

bool ParallelKeysetStrategy::HoldForFuller(double free_requests) const {
  // While the bucket has no request to spare, a batch would wait for it
  // anyway: hold a part-filled one until the batches in flight leave more
  // to put in it, so every scarce request carries 50 pages. Near the end
  // there is no more to wait for, and an idle bucket is time lost.
  // Paced by the bucket, a request to spare now is one the end lacks: hold
  // then too.
  bool scarce = free_requests < 1 || plan_.bucket_bound();
  if (!scarce || in_flight_ == 0) return false;
  // Pages enough wait, but the read-ahead budget may let only part of them
  // in (an ordered read whose first range lags, its buffer full): paced by
  // the bucket, such a batch waits as well, for the answers in flight to
  // drain the buffer. Sent, it took a request of its own for a page or two
  // (simulated at a budget the buffer fills: 84-86 requests of small
  // 200,000 leads, not 82).
  if (plan_.IdlePages(first()) >= kMaxPages) return plan_.bucket_bound() && BudgetStopsFill();
  if (!plan_.near_end()) return true;
  // Near the end of a bucket-paced read, a batch in flight that leaves a
  // range's rest (it carried only part of it) is worth waiting for too: a
  // request held back loses no place in the bucket (the next still goes on
  // its turn), while one sent part-filled pushes the rest into one more
  // request, half a second later. On the real stack, where an answer comes
  // 50-100 ms after its pages, that turn came before the answer and the read
  // took 83 requests (17.24-17.31 s) where 82 would do.
  return plan_.bucket_bound() && plan_.PagesAfterFlights(first()) >= 1;
}

void ParallelKeysetStrategy::Pump() {
  if (done_ || find_bounds_) return;
  if (ordered()) DeliverHead();
  bool all_done = true;
  for (size_t i = 0; i < plan_.size() && all_done; ++i) {
    all_done = plan_.at(i).done && !plan_.at(i).in_flight;
  }
  if (all_done && buffer_.items() == 0 && in_flight_ == 0) {
    done_ = true;
    return;
  }
  PortalBudget budget = context_->portal()->Budget(query_.method);
  int allowed = BatchesAllowed(budget, cost_);
  double free = budget.requests_free_now;
  plan_.UpdateNearEnd(first(), allowed);
  while (in_flight_ < allowed && context_->ConsumerHasRoom() && !HoldForFuller(free)) {
    PlannedRange* r = NextToRead(/*filling=*/false);
    // Splitting a range in flight helps only when none is waiting (while the
    // ordered buffer is full it would only cut the list into more pieces),
    // and only when connections bind: a piece taken from a batch in flight
    // costs a request of its own (so never in a read the bucket paces).
    if (r == nullptr && plan_.NextIdle(first()) == nullptr && free >= 1 && !plan_.bucket_bound()) {
      r = plan_.Steal(first());
      if (r != nullptr && ordered() && !BudgetHasRoom(*r, /*filling=*/false)) r = nullptr;
    }
    if (r == nullptr) break;
    StartBatch(r, std::min(allowed - in_flight_ - 1, static_cast<int>(std::floor(free - 1))),
               RestPages(*r, BatchPages(budget, allowed, free)));
    free -= 1;
  }
}

int ParallelKeysetStrategy::BatchPages(const PortalBudget& budget, int allowed,
                                       double free_requests) const {
  // While the bucket binds, requests are what the read pays for: every one
  // carries all it can, but for the last two of a read the bucket paces:
  // the next goes a drain interval after this one, so this one takes the
  // pages that make both end together. While the connections bind, time on
  // them is: the last batches are cut so that they end together.
  if (plan_.bucket_bound() && free_requests < 1 && page_seconds_ > 0 &&
      budget.drain_per_second > 0) {
    double left = plan_.PagesLeft(first());
    int pages = TailPages({1 / budget.drain_per_second}, left, page_seconds_, 2);
    // One request takes all that is left: asked to their ends, with the
    // margin of PagesToEnd, not cut at the bare expectation.
    return pages >= std::ceil(left) ? kMaxPages : pages;
  }
  if (free_requests < 1 || allowed < budget.max_in_flight || page_seconds_ <= 0) return kMaxPages;
  absl::Time now = context_->Now();
  std::vector<double> busy;
  for (const auto& [id, f] : flights_) {
    busy.push_back(std::max(0.0, f.pages * page_seconds_ - absl::ToDoubleSeconds(now - f.sent)));
  }
  if (static_cast<int>(busy.size()) >= allowed) return kMaxPages;
  return TailPages(std::move(busy), plan_.PagesLeft(first()), page_seconds_, allowed);
}

int ParallelKeysetStrategy::RestPages(const PlannedRange& r, int tail_pages) const {
  // A short wave's ranges were cut for their connections' shares (they end
  // together as cut): the tail split would only leave each one a rest.
  if (plan_.short_wave() && !r.started) return kMaxPages;
  // In a short list's one wave, a rest cut short by the tail split leaves a
  // remainder that takes a round of its own, with its own part-empty last
  // page. One too short for a free connection to take (not Stealable) waits
  // for this batch's answer: the range then ends a whole round later than
  // if asked to its end (the small profile's head range took a second rest
  // for 13 items, answered 23 ms after the first). One that a free
  // connection takes at once is worth it only while a page takes the portal
  // longer than a round's own cost (HTTP, the gateway's queue and parsing:
  // the least seen on the real stack 1 to 5 ms, under a small page's 15 ms,
  // far under a huge page's 97 ms).
  if (!plan_.one_wave()) return tail_pages;
  // The wave's own batches, staggered; a piece stolen from a range in
  // flight (its answer late) goes as a rest does.
  if (!r.started && LagPages(r) > 0) return std::min(tail_pages, kMaxPages - LagPages(r));
  const int to_end = std::max(tail_pages, plan_.PagesToEnd(r));
  if (!plan_.Stealable(r, tail_pages)) return to_end;
  if (overhead_seconds_ < 0 || page_seconds_ > overhead_seconds_) return tail_pages;
  return to_end;
}

int ParallelKeysetStrategy::LagPages(const PlannedRange& r) const {
  // A wave's answers all come back at once, and the gateway handles them
  // (parse, items to the buffer) two at a time: the last one's rest went
  // out some 70 ms after the first's on the real stack. Each range's batch
  // is asked a handling time's worth of pages less than the next one's, so
  // the answers come one after another and each range's rest goes as soon
  // as its batch ends; the pages not asked go with the rest, a round that
  // is taken anyway. At most a page apart: pages cheaper than a handling
  // would only make the rests long.
  if (page_seconds_ <= 0) return 0;
  double lag = std::min(1.0, kAnswerHandlingSeconds / page_seconds_);
  return static_cast<int>(std::round(r.wave_rank * lag));
}

void ParallelKeysetStrategy::LearnOverhead(absl::Time sent, double processing) {
  // The least seen: a request that waited in a queue says more about the
  // queue than about a round.
  double seconds = std::max(0.0, absl::ToDoubleSeconds(context_->Now() - sent) - processing);
  overhead_seconds_ = overhead_seconds_ < 0 ? seconds : std::min(overhead_seconds_, seconds);
}

void ParallelKeysetStrategy::StartBatch(PlannedRange* first, int spare, int max_pages) {
  // The count rides here if this batch does not carry the first range.
  BatchBuilder batch(CountMayRideWith(first, /*from_the_start=*/true), plan_.count_pages(),
                     max_pages);
  std::vector<Segment> segments = FillBatch(first, spare, &batch);
  std::vector<IdRange> ranges;
  for (Segment& seg : segments) {
    seg.range->pages = seg.pages;
    seg.range->started = true;
    ranges.push_back(seg.range->left);
  }
  std::vector<BatchCommandSpec> commands =
      batch.Commands(query_, context_->extractor()->items_key(), ranges);
  bool count_carried = false;
  if (batch.with_count()) {
    if (std::optional<BatchCommandSpec> count = context_->TakeCountCommand()) {
      commands.push_back(std::move(*count));
      count_carried = true;
    }
  }
  in_flight_++;
  absl::Time sent = context_->Now();
  int64_t flight = next_flight_++;
  flights_[flight] = {sent, batch.total()};
  context_->portal()->Batch(
      std::move(commands), /*halt=*/false, context_->Options(),
      context_->GuardBatch(
          [this, segments, sent, count_carried, flight](absl::StatusOr<BatchResult> result) {
            flights_.erase(flight);
            if (count_carried) AnswerCount(result);
            OnBatch(segments, sent, std::move(result));
          }));
}

int ParallelKeysetStrategy::AskFor(const PlannedRange& r) const {
  // Paced by the bucket, a range's rest rides in a batch that goes anyway,
  // so asks stay at the pages a range is expected to fill (PagesFor): its
  // rest, often under a page, is read later. Not the first range's while
  // the buffer holds more than half the read-ahead budget: its items are
  // what the buffer waits for, and a later rest of it may find nothing the
  // budget lets ride with it and go alone, a request for a page (on the
  // real stack, small 200,000 leads: 83 requests in 2 reads of 23, the
  // first range's second one-page rest sent alone at 5.4 s with the buffer
  // at 33 MB of its 32 MiB). Asked to its end, it takes no second rest.
  if (plan_.bucket_bound() && IsHead(&r) && BudgetTight()) return plan_.PagesToEnd(r);
  return plan_.PagesFor(r);
}

std::vector<ParallelKeysetStrategy::Segment> ParallelKeysetStrategy::FillBatch(
    PlannedRange* first, int spare, BatchBuilder* batch) {
  // `first`'s pages, then the next waiting ranges' pages while there is
  // room: each range is its own chain inside the batch. Not while every
  // waiting range could have a batch of its own now: a batch's pages are
  // processed one after another, so two ranges in one take twice as long.
  std::vector<Segment> segments;
  for (PlannedRange* r = first; r != nullptr;) {
    int pages = batch->Add(AskFor(*r), plan_.PagesToEnd(*r));
    // The last requests of a bucket-paced read: what this batch has no room
    // for becomes a piece of its own, for the next request to take at once.
    if (plan_.bucket_bound() && plan_.near_end() && !batch->HasRoom()) plan_.CutAfter(r, pages);
    r->in_flight = true;
    expected_in_flight_ += pages * kPageSize;
    segments.push_back({r, pages, BatchBuilder::Prefix(segments.size())});
    // Paced by the bucket, two batches cost two places where one would do
    // (near the end, requests held back leave more than one to spare).
    bool fill = batch->HasRoom() &&
                (plan_.bucket_bound() || plan_.IdleRanges(this->first()) > spare);
    r = fill ? NextToRead(/*filling=*/true) : nullptr;
  }
  std::vector<int> added = batch->Finish(CountMayRideWith(first, /*from_the_start=*/false));
  for (size_t i = 0; i < segments.size(); ++i) {
    segments[i].pages += added[i];
    expected_in_flight_ += added[i] * kPageSize;
  }
  return segments;
}

void ParallelKeysetStrategy::OnBatch(const std::vector<Segment>& segments, absl::Time sent,
                                     absl::StatusOr<BatchResult> result) {
  in_flight_--;
  for (const Segment& seg : segments) {
    expected_in_flight_ -= seg.pages * kPageSize;
    seg.range->in_flight = false;
  }
  if (!result.ok()) {
    context_->Fail(result.status());
    return;
  }
  cost_.wall_seconds = absl::ToDoubleSeconds(context_->Now() - sent);
  cost_.operating_seconds = 0;
  for (const Segment& seg : segments) {
    if (!ReadSegment(seg, &*result)) return;
  }
  LearnOverhead(sent, cost_.operating_seconds);
  if (ordered()) DeliverHead();
  // The bucket term of BatchesAllowed wants how long the portal works on a
  // batch; the wall time also holds its wait in the gateway's queue for the
  // bucket, and would let the batches queued grow with that very wait (the
  // last ranges then sit in the queue instead of being split).
  if (cost_.operating_seconds > 0) {
    cost_.wall_seconds = std::min(cost_.wall_seconds, 1.1 * cost_.operating_seconds);
  }
}

bool ParallelKeysetStrategy::ReadSegment(const Segment& seg, BatchResult* result) {
  PlannedRange* r = seg.range;
  absl::StatusOr<ChainPages> read =
      ReadChain(query_, result, seg.pages, r->left, context_->extractor(), seg.prefix);
  if (!read.ok()) {
    context_->Fail(read.status());
    return false;
  }
  // What this piece taught about the ids' density and a batch's cost.
  int64_t read_to = read->range_done ? plan_.EffectiveEnd(*r) - 1 : read->last_id;
  plan_.Learn(r, static_cast<double>(read->items.size()), read_to);
  cost_.operating_seconds += read->processing_seconds;
  if (read->pages_read > 0) page_seconds_ = read->processing_seconds / read->pages_read;
  // Ordered: items that continue right where delivery stands go straight
  // out while the consumer has room; the rest through the buffer, in order
  // and only as fast as the consumer takes them (DeliverHead).
  if (ordered() && !(buffer_.IsNext(r->left.after) && context_->ConsumerHasRoom())) {
    Buffer(r->left.after, read_to, std::move(read->items));
    r->left.after = read->last_id;
  } else {
    if (ordered()) {
      size_t n = std::min(read->items.size(), kMeasuredItems);
      buffer_.Measure(std::vector<Json>(read->items.begin(), read->items.begin() + n));
      buffer_.Delivered(read_to);
    }
    Deliver(r, std::move(read->items), read->last_id);
  }
  r->done = read->range_done;
  return true;
}

void ParallelKeysetStrategy::Buffer(int64_t after, int64_t upto, std::vector<Json> items) {
  if (!items.empty() && buffer_.EarlyHasRoom(static_cast<int64_t>(items.size()))) {
    size_t n = std::min(items.size(), kMeasuredItems);
    std::vector<Json> sample(items.begin(), items.begin() + n);
    int64_t last = ItemId(items.back(), query_.shape.item_id_field).value_or(upto);
    if (std::shared_ptr<EarlyPages> pages = context_->ReadAhead(&items, last)) {
      buffer_.Measure(sample);
      buffer_.AddEarly(after, upto, std::move(pages));
      return;
    }
  }
  buffer_.Add(after, upto, std::move(items));
}

void ParallelKeysetStrategy::AnswerCount(const absl::StatusOr<BatchResult>& result) {
  if (!result.ok()) {
    context_->CountAnswered(result.status());
    return;
  }
  auto it = result->outcomes.find("count");
  // Not run (the batch halted before it, or the method's time ran out).
  if (it == result->outcomes.end()) {
    context_->CountAnswered(absl::UnavailableError("the portal did not run the count"));
    return;
  }
  if (!it->second.ok() && it->second.status().code() == absl::StatusCode::kResourceExhausted) {
    context_->CountAnswered(absl::UnavailableError("the method's operating time ran out"));
    return;
  }
  context_->CountAnswered(it->second);
}

void ParallelKeysetStrategy::Deliver(PlannedRange* r, std::vector<Json> items, int64_t last_id) {
  DeliverByPage(context_, std::move(items), query_.shape.item_id_field, last_id,
                [this, r](int64_t after) {
                  if (r != nullptr) r->left.after = std::max(r->left.after, after);
                  if (ordered()) delivered_after_ = std::max(delivered_after_, after);
                  return ResumeState();
                });
}

void ParallelKeysetStrategy::DeliverHead() {
  for (;;) {
    // Past the ranges delivered to their end; across a gap between ranges
    // (a resumed read's) there is nothing to wait for.
    while (head_ < plan_.size()) {
      const PlannedRange& h = plan_.at(head_);
      if (!h.done || h.in_flight || buffer_.delivered_upto() < plan_.EffectiveEnd(h) - 1) break;
      if (++head_ < plan_.size()) {
        buffer_.Delivered(std::max(buffer_.delivered_upto(), plan_.at(head_).start));
      }
    }
    // The consumer's queue holds messages ready to write, each item far
    // bigger than here: items wait in the buffer (which holds the reading
    // back) until the consumer has taken what it was given.
    if (!context_->ConsumerHasRoom()) return;
    std::optional<OrderedRangeBuffer::Piece> piece = buffer_.PopNext();
    if (!piece) return;
    if (piece->early) {
      DeliverEarly(std::move(piece->early));
      continue;
    }
    if (piece->items.empty()) continue;
    int64_t last = ItemId(piece->items.back(), query_.shape.item_id_field).value_or(piece->upto);
    Deliver(nullptr, std::move(piece->items), last);
  }
}

void ParallelKeysetStrategy::DeliverEarly(std::shared_ptr<EarlyPages> pages) {
  for (size_t i = 0; i < pages->pages(); ++i) {
    delivered_after_ = std::max(delivered_after_, pages->last_id(i));
    context_->Deliver(pages, i, ResumeState());
  }
}

Json ParallelKeysetStrategy::ResumeState() const {
  if (ordered()) return Json{{"after", delivered_after_}};
  Json ranges = Json::array();
  for (size_t i = 0; i < plan_.size(); ++i) {
    const PlannedRange& r = plan_.at(i);
    if (r.done && !r.in_flight) continue;
    Json before = r.left.before ? Json(*r.left.before) : Json(nullptr);
    // A range not yet started continues the one before it: one entry.
    if (!ranges.empty() && ranges.back()[1] == Json(r.left.after + 1)) {
      ranges.back()[1] = before;
      continue;
    }
    ranges.push_back(Json::array({r.left.after, before}));
  }
  // Open: a resumed read clips it to the caller's bounds (ResumeRanges).
  if (top_owed_after_) {
    if (!ranges.empty() && ranges.back()[1] == Json(*top_owed_after_ + 1)) {
      ranges.back()[1] = nullptr;
    } else {
      ranges.push_back(Json::array({*top_owed_after_, nullptr}));
    }
  }
  return Json{{"ranges", ranges}};
}

}  // namespace b24gate
