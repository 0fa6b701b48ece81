#include "engine/lists/parallel_keyset_strategy.h"

#include <algorithm>
#include <cmath>

#include "absl/strings/str_cat.h"
#include "engine/lists/keyset_chain_strategy.h"

namespace b24gate {
namespace {

// Items one range is cut for. Every range's last page is part-empty (half a
// page wasted on average, and pages are what the request budget pays for),
// so ranges are as long as the ordered buffer and the last wave allow: about
// three ranges per chain, between 1,000 items and two full batches (5,000).
constexpr double kMinItemsPerRange = 1000;
constexpr double kMaxItemsPerRange = 2 * kMaxPages * kPageSize;
constexpr double kRangesPerChain = 3;
// The share of a range's expected items a batch asks pages for. A page past
// a range's end re-reads the range (its `$result` reference is empty): a
// whole page wasted. A page short costs nothing: the rest of the range is
// read on from its last id in a later batch, to the same number of pages.
// The density is a guess, so asks stay under it.
constexpr double kAskShare = 0.95;
// What a short rest of a range part read is asked for: a little over, so it
// ends in this round.
constexpr double kRestShare = 1.05;
constexpr double kShortRestPages = 10;
// Near the end of the list (this many batches left to read), every range is
// asked to just past its end: a few pages wasted rather than rounds for the
// rests, each of which would take a request and a wait of its own.
constexpr double kNearEndBatches = 2;

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

}  // namespace

absl::StatusOr<std::unique_ptr<ParallelKeysetStrategy>> ParallelKeysetStrategy::Create(
    ListContext* context, const ListShape& shape, const Json& resume, int64_t max_buffered) {
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
  auto strategy = std::unique_ptr<ParallelKeysetStrategy>(new ParallelKeysetStrategy(
      context, std::move(query), std::move(ranges), find_bounds, max_buffered));
  strategy->whole_ = whole;
  return strategy;
}

ParallelKeysetStrategy::ParallelKeysetStrategy(ListContext* context, KeysetQuery query,
                                               std::vector<IdRange> ranges, bool find_bounds,
                                               int64_t max_buffered)
    : context_(context), query_(std::move(query)), max_buffered_(std::max<int64_t>(max_buffered, 1)),
      find_bounds_(find_bounds) {
  for (const IdRange& r : ranges) {
    if (r.empty()) continue;
    auto range = std::make_unique<Range>();
    range->left = r;
    ranges_.push_back(std::move(range));
    hi_ = std::max(hi_, r.before ? *r.before - 1 : r.after);
  }
  if (!ranges_.empty()) delivered_after_ = ranges_.front()->left.after;
}

void ParallelKeysetStrategy::Start() {
  if (ranges_.empty()) {
    done_ = true;
    return;
  }
  if (find_bounds_) QueryBounds();
  Pump();
}

void ParallelKeysetStrategy::QueryBounds() {
  // Both ends in one request: the first page ascending and descending.
  const IdRange& r = ranges_.front()->left;
  std::vector<BatchCommandSpec> commands;
  for (bool ascending : {true, false}) {
    Json p = KeysetPageParams(query_.params, query_.base_filter, query_.shape, r.after, r.before);
    p["select"] = Json::array({query_.shape.keyset_filter_field});
    p["order"] = Json::object({{query_.shape.keyset_order_field, ascending ? "ASC" : "DESC"}});
    commands.push_back({ascending ? "asc" : "desc", query_.method, std::move(p)});
  }
  in_flight_++;
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
  std::vector<int64_t> ends[2];
  for (int side = 0; side < 2; ++side) {
    auto it = result->outcomes.find(side == 0 ? "asc" : "desc");
    if (it == result->outcomes.end()) {
      context_->Fail(absl::UnavailableError("the portal did not answer the id bounds query"));
      return;
    }
    if (!it->second.ok()) {
      context_->Fail(it->second.status());
      return;
    }
    const CallReply& reply = *it->second;
    // A first guess of a batch's cost: this page's, times the pages of a batch.
    if (reply.time.is_object() && reply.time.contains("processing") &&
        reply.time["processing"].is_number()) {
      double page = reply.time["processing"].get<double>();
      cost_.operating_seconds = std::max(cost_.operating_seconds, page * kMaxPages);
      cost_.wall_seconds = page * kMaxPages;
    }
    std::vector<Json> items;
    if (!context_->extractor()->Extract(reply.result, &items)) {
      context_->Fail(absl::InvalidArgumentError(absl::StrCat(
          query_.method, " did not return a list; set items_key to where the items sit in `result`")));
      return;
    }
    for (const Json& item : items) {
      std::optional<int64_t> id = ItemId(item, query_.shape.item_id_field);
      if (!id) {
        context_->Fail(absl::InvalidArgumentError(absl::StrCat(
            "items of ", query_.method, " lack an integer `", query_.shape.item_id_field, "` field")));
        return;
      }
      ends[side].push_back(*id);
    }
  }
  ascending_ids_ = std::move(ends[0]);
  descending_ids_ = std::move(ends[1]);
  context_->ListAnswered();
  SplitBounds();
}

void ParallelKeysetStrategy::SplitBounds() {
  find_bounds_ = false;
  Range& only = *ranges_.front();
  if (ascending_ids_->empty()) {
    only.done = true;  // nothing matches
    return;
  }
  int64_t lo = ascending_ids_->front();
  hi_ = std::max(lo, descending_ids_->empty() ? lo : descending_ids_->front());
  // Density from both ends: n ids spread over their span.
  auto span = [](const std::vector<int64_t>& ids) {
    return ids.empty() ? 0.0 : static_cast<double>(std::llabs(ids.back() - ids.front()) + 1);
  };
  rows_seen_ = static_cast<double>(ascending_ids_->size() + descending_ids_->size());
  ids_spanned_ = span(*ascending_ids_) + span(*descending_ids_);
  if (ascending_ids_->size() < static_cast<size_t>(kPageSize)) {
    // The whole list fits in one page: one range, one short batch.
    only.left.after = lo - 1;
    return;
  }
  double expected = static_cast<double>(hi_ - lo + 1) * density();
  int chains = BatchesAllowed(context_->portal()->Budget(query_.method), cost_);
  double per_range = std::clamp(expected / (kRangesPerChain * chains), kMinItemsPerRange, kMaxItemsPerRange);
  int64_t pieces = static_cast<int64_t>(std::ceil(expected / per_range));
  pieces = (pieces + chains - 1) / chains * chains;  // full waves
  pieces = std::clamp<int64_t>(pieces, 1, std::max<int64_t>(1, (hi_ - lo + 1) / kPageSize));
  std::optional<int64_t> before = only.left.before;
  ranges_.clear();
  const int64_t width = hi_ - lo + 1;
  int64_t after = lo - 1;
  for (int64_t k = 1; k <= pieces; ++k) {
    auto r = std::make_unique<Range>();
    r->left.after = after;
    if (k < pieces) {
      r->left.before = lo + width * k / pieces;
      after = *r->left.before - 1;
    } else {
      r->left.before = before;  // the last range stays open: rows added meanwhile
    }
    ranges_.push_back(std::move(r));
  }
}

int64_t ParallelKeysetStrategy::EffectiveEnd(const Range& r) const {
  return r.left.before ? *r.left.before : std::max(hi_ + 1, r.left.after + 1);
}

double ParallelKeysetStrategy::ExpectedItems(const Range& r) const {
  double d = r.rows_read >= kPageSize ? std::min(1.0, r.rows_read / r.ids_passed) : density();
  return static_cast<double>(EffectiveEnd(r) - r.left.after - 1) * d;
}

int ParallelKeysetStrategy::PagesFor(const Range& r) const {
  // A resumed open range with no bounds looked up: no idea how far it goes.
  if (!r.left.before && hi_ <= r.left.after) return kMaxPages;
  if (near_end_) return PagesToEnd(r);
  double expected = ExpectedItems(r);
  // A short rest of a range part read is asked to just past its expected
  // end: a page wasted now and then rather than another round for most
  // ranges. Longer ones, where a small error in the density is a whole page,
  // stay under (see kAskShare).
  bool short_rest = r.started && expected <= kShortRestPages * kPageSize;
  double pages = short_rest ? std::ceil(expected * kRestShare / kPageSize)
                            : std::floor(expected * kAskShare / kPageSize);
  return static_cast<int>(std::clamp(pages, 1.0, static_cast<double>(kMaxPages)));
}

int ParallelKeysetStrategy::PagesToEnd(const Range& r) const {
  if (!r.left.before && hi_ <= r.left.after) return kMaxPages;
  double pages = std::ceil(ExpectedItems(r) / kAskShare / kPageSize);
  return static_cast<int>(std::clamp(pages, 1.0, static_cast<double>(kMaxPages)));
}

bool ParallelKeysetStrategy::NearTheEnd() const {
  double pages = 0;
  for (size_t i = ordered() ? head_ : 0; i < ranges_.size(); ++i) {
    const Range& r = *ranges_[i];
    if (r.done) continue;
    double left = ExpectedItems(r) / kPageSize;
    pages += r.in_flight ? std::max(0.0, left - r.pages) : left;
    if (pages > kNearEndBatches * kMaxPages) return false;
  }
  return true;
}

bool ParallelKeysetStrategy::BufferHasRoom(const Range& r, bool filling) const {
  // Filling a batch that goes anyway may use twice the room: a request
  // half empty costs more than the items it would have brought. So may the
  // rest of a range already part read (a cautious ask leaves one): its
  // range's items wait in the buffer until it is done, so reading it is what
  // lets the buffer drain.
  int64_t limit = filling || r.started ? 2 * max_buffered_ : max_buffered_;
  return buffered_ + expected_in_flight_ + PagesFor(r) * kPageSize <= limit;
}

int ParallelKeysetStrategy::IdlePages() const {
  int pages = 0;
  for (size_t i = ordered() ? head_ : 0; i < ranges_.size() && pages < kMaxPages; ++i) {
    if (!ranges_[i]->done && !ranges_[i]->in_flight) pages += PagesFor(*ranges_[i]);
  }
  return pages;
}

bool ParallelKeysetStrategy::IsHead(const Range* r) const {
  return head_ < ranges_.size() && ranges_[head_].get() == r;
}

ParallelKeysetStrategy::Range* ParallelKeysetStrategy::NextIdle(bool filling) {
  for (size_t i = ordered() ? head_ : 0; i < ranges_.size(); ++i) {
    Range* r = ranges_[i].get();
    if (r->done || r->in_flight) continue;
    // Ordered: a range past the first waits while the buffer is full.
    if (ordered() && !IsHead(r) && !BufferHasRoom(*r, filling)) return nullptr;
    return r;
  }
  return nullptr;
}

bool ParallelKeysetStrategy::AnyIdle() const {
  return std::any_of(ranges_.begin() + static_cast<std::ptrdiff_t>(ordered() ? head_ : 0), ranges_.end(),
                     [](const auto& r) { return !r->done && !r->in_flight; });
}

ParallelKeysetStrategy::Range* ParallelKeysetStrategy::StealWork() {
  // The range in flight with most left beyond what its batch will reach.
  size_t best = ranges_.size();
  double best_left = 2 * kPageSize;  // not worth a chain below two pages
  int64_t best_split = 0;
  for (size_t i = ordered() ? head_ : 0; i < ranges_.size(); ++i) {
    Range& r = *ranges_[i];
    if (r.done || !r.in_flight) continue;
    double reach = static_cast<double>(r.left.after) + r.pages * kPageSize / std::max(density(), 1e-9);
    double end = static_cast<double>(EffectiveEnd(r));
    double left = (end - reach) * density();
    if (left > best_left) {
      best = i;
      best_left = left;
      best_split = static_cast<int64_t>(reach + (end - reach) / 2);
    }
  }
  if (best == ranges_.size()) return nullptr;
  Range& old = *ranges_[best];
  if (best_split <= old.left.after + 1 || best_split >= EffectiveEnd(old)) return nullptr;
  auto piece = std::make_unique<Range>();
  piece->left.after = best_split - 1;
  piece->left.before = old.left.before;
  old.left.before = best_split;  // the batch in flight drops what it reads past this
  Range* out = piece.get();
  ranges_.insert(ranges_.begin() + static_cast<std::ptrdiff_t>(best) + 1, std::move(piece));
  if (ordered() && !BufferHasRoom(*out, /*filling=*/false)) return nullptr;
  return out;
}

void ParallelKeysetStrategy::Pump() {
  if (done_ || find_bounds_) return;
  if (ordered()) DeliverHead();
  bool all_done = std::all_of(ranges_.begin(), ranges_.end(),
                              [](const auto& r) { return r->done && !r->in_flight; });
  if (all_done && buffered_ == 0 && in_flight_ == 0) {
    done_ = true;
    return;
  }
  PortalBudget budget = context_->portal()->Budget(query_.method);
  int allowed = BatchesAllowed(budget, cost_);
  double free = budget.requests_free_now;
  near_end_ = NearTheEnd();
  while (in_flight_ < allowed && context_->ConsumerHasRoom()) {
    // While the bucket has no request to spare, a batch would wait for it
    // anyway: hold a part-filled one until the batches in flight leave more
    // to put in it, so every scarce request carries 50 pages. Near the end
    // there is no more to wait for, and an idle bucket is time lost.
    bool bucket_bound = free < 1;
    if (bucket_bound && in_flight_ > 0 && !near_end_ && IdlePages() < kMaxPages) break;
    Range* r = NextIdle(/*filling=*/false);
    // Splitting a range in flight helps only when none is waiting (while the
    // ordered buffer is full it would only cut the list into more pieces),
    // and only when connections bind: a piece taken from a batch in flight
    // costs a request of its own.
    if (r == nullptr && !AnyIdle() && !bucket_bound) r = StealWork();
    if (r == nullptr) break;
    StartBatch(r);
    free -= 1;
  }
}

void ParallelKeysetStrategy::StartBatch(Range* first) {
  // `first`'s pages, then the next waiting ranges' first pages until the
  // batch holds 50: each range is its own chain inside the batch.
  std::vector<Segment> segments;
  int total = 0;
  // The count rides here if this batch does not carry the first range.
  bool with_count = context_->CountOffered() && !(ordered() && IsHead(first));
  const int capacity = with_count ? kMaxPages - 1 : kMaxPages;
  Range* r = first;
  while (r != nullptr) {
    Segment seg{r, std::min(PagesFor(*r), capacity - total), absl::StrCat("r", segments.size(), "p")};
    r->in_flight = true;
    total += seg.pages;
    expected_in_flight_ += seg.pages * kPageSize;
    segments.push_back(std::move(seg));
    r = total < capacity ? NextIdle(/*filling=*/true) : nullptr;
  }
  // Or if it has room to spare.
  if (!with_count && total < kMaxPages && context_->CountOffered()) with_count = true;
  const int room_to = with_count ? kMaxPages - 1 : kMaxPages;
  // Nothing else waits to fill the batch (the last ones of the read): its
  // room is free, so each range is asked to its expected end and beyond,
  // sparing a round for what a cautious ask would leave.
  for (Segment& seg : segments) {
    int more = std::min(PagesToEnd(*seg.range) - seg.pages, room_to - total);
    if (more <= 0) continue;
    seg.pages += more;
    total += more;
    expected_in_flight_ += more * kPageSize;
  }
  std::vector<BatchCommandSpec> commands;
  for (Segment& seg : segments) {
    seg.range->pages = seg.pages;
    seg.range->started = true;
    for (auto& c : ChainCommands(query_, context_->extractor()->items_key(), seg.range->left, seg.pages,
                                 seg.prefix)) {
      commands.push_back(std::move(c));
    }
  }
  bool count_carried = false;
  if (with_count) {
    if (std::optional<BatchCommandSpec> count = context_->TakeCountCommand()) {
      commands.push_back(std::move(*count));
      count_carried = true;
    }
  }
  in_flight_++;
  absl::Time sent = context_->Now();
  context_->portal()->Batch(
      std::move(commands), /*halt=*/false, context_->Options(),
      context_->GuardBatch([this, segments, sent, count_carried](absl::StatusOr<BatchResult> result) {
        if (count_carried) AnswerCount(result);
        OnBatch(segments, sent, std::move(result));
      }));
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
  int pages = 0;
  for (const Segment& seg : segments) pages += seg.pages;
  for (const Segment& seg : segments) {
    Range* r = seg.range;
    absl::StatusOr<ChainPages> read =
        ReadChain(query_, *result, seg.pages, r->left, context_->extractor(), seg.prefix);
    if (!read.ok()) {
      context_->Fail(read.status());
      return;
    }
    // What this piece taught about the ids' density and a batch's cost.
    int64_t read_to = read->range_done ? EffectiveEnd(*r) - 1 : read->last_id;
    if (read_to > r->left.after) {
      rows_seen_ += static_cast<double>(read->items.size());
      ids_spanned_ += static_cast<double>(read_to - r->left.after);
      r->rows_read += static_cast<double>(read->items.size());
      r->ids_passed += static_cast<double>(read_to - r->left.after);
    }
    cost_.operating_seconds += read->processing_seconds;
    // Ordered: the first range's items go straight out while the consumer
    // has room and nothing of the range waits before them; the rest through
    // the buffer, in order and only as fast as the consumer takes them
    // (DeliverHead).
    bool straight = !ordered() || (IsHead(r) && r->buffer.empty() && context_->ConsumerHasRoom());
    if (!straight) {
      if (!read->items.empty()) {
        buffered_ += static_cast<int64_t>(read->items.size());
        r->buffer.push_back(Json::to_msgpack(Json(std::move(read->items))));
      }
      r->left.after = read->last_id;
      r->done = read->range_done;
      continue;
    }
    DeliverRange(r, std::move(read->items), read->last_id);
    r->done = read->range_done;
  }
  if (ordered()) DeliverHead();
  if (pages > 0) page_seconds_ = cost_.operating_seconds / pages;
  // The bucket term of BatchesAllowed wants how long the portal works on a
  // batch; the wall time also holds its wait in the gateway's queue for the
  // bucket, and would let the batches queued grow with that very wait (the
  // last ranges then sit in the queue instead of being split).
  if (cost_.operating_seconds > 0) {
    cost_.wall_seconds = std::min(cost_.wall_seconds, 1.1 * cost_.operating_seconds);
  }
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

void ParallelKeysetStrategy::DeliverRange(Range* r, std::vector<Json> items, int64_t last_id) {
  DeliverByPage(context_, std::move(items), query_.shape.item_id_field, last_id,
                [this, r](int64_t after) {
                  r->left.after = std::max(r->left.after, after);
                  if (ordered()) delivered_after_ = std::max(delivered_after_, after);
                  return ResumeState();
                });
}

void ParallelKeysetStrategy::DeliverHead() {
  while (head_ < ranges_.size()) {
    Range* h = ranges_[head_].get();
    while (!h->buffer.empty()) {
      // The consumer's queue holds messages ready to write, each item far
      // bigger than here: items wait in the buffer (which holds the reading
      // back) until the consumer has taken what it was given.
      if (!context_->ConsumerHasRoom()) return;
      Json unpacked = Json::from_msgpack(h->buffer.front());
      h->buffer.pop_front();
      std::vector<Json> items;
      items.reserve(unpacked.size());
      for (Json& item : unpacked) items.push_back(std::move(item));
      buffered_ -= static_cast<int64_t>(items.size());
      int64_t last = ItemId(items.back(), query_.shape.item_id_field).value_or(h->left.after);
      DeliverRange(h, std::move(items), last);
    }
    if (!h->done || h->in_flight) return;
    head_++;
  }
}

Json ParallelKeysetStrategy::ResumeState() const {
  if (ordered()) return Json{{"after", delivered_after_}};
  Json ranges = Json::array();
  for (const auto& r : ranges_) {
    if (r->done && !r->in_flight) continue;
    Json before = r->left.before ? Json(*r->left.before) : Json(nullptr);
    // A range not yet started continues the one before it: one entry.
    if (!ranges.empty() && ranges.back()[1] == Json(r->left.after + 1)) {
      ranges.back()[1] = before;
      continue;
    }
    ranges.push_back(Json::array({r->left.after, before}));
  }
  return Json{{"ranges", ranges}};
}

}  // namespace b24gate
