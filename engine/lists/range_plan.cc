#include "engine/lists/range_plan.h"

#include <algorithm>
#include <cmath>
#include <cstdlib>

#include "engine/lists/keyset_pages.h"

namespace b24gate {
namespace {

// Items one range is cut for. Every range's last page is part-empty (half a
// page wasted on average, and pages are what the request budget pays for),
// so ranges are as long as the ordered buffer and the last wave allow: about
// three ranges per chain, between 1,000 items and two full batches (5,000).
constexpr double kMinItemsPerRange = 1000;
constexpr double kMaxItemsPerRange = 2 * kMaxPages * kPageSize;
constexpr double kRangesPerChain = 3;
// A short list's one wave (CutOneWave): no range under this many pages, as
// long as there is a connection per range. A range costs a request (a
// place in the portal's bucket, shared with every caller) and a round's own
// cost on the stack (about 22 ms, a small page's 15 ms). Simulated
// (short_list_schedule_test), 1,000 leads: 3 pages a range, 7 requests and
// faster than before on both profiles; 5 pages, 4 requests but 20-30% slower.
constexpr double kMinPagesPerRange = 3;
// Steal hands a chain no piece under this many pages: the piece costs a
// request and a round of its own, and its last page is part-empty.
constexpr double kStealPages = 2;
// A read the bucket paces has about two batches in flight once its burst is
// spent, so it needs fewer ranges; each range's last page is part-empty, a
// command a request could have carried. Two per chain, however long: one per
// chain left too few ranges idle near the end to fill the last requests
// (simulated: 91-92% of the ceiling with one, 94% with two, 91-92% with
// three).
constexpr double kBucketRangesPerChain = 2;
// The share of a range's expected items a batch asks pages for. A page past
// a range's end re-reads the range (its `$result` reference is empty): a
// whole page wasted. A page short costs nothing: the rest of the range is
// read on from its last id in a later batch, to the same number of pages.
// The density is a guess, so asks stay under it.
constexpr double kAskShare = 0.95;
// What a short rest of a range part read is asked for: a little over, so it
// ends in this round.
constexpr double kRestShare = 1.05;
// What a short wave's range is asked for, of what it is expected to hold:
// its last page, part-empty, takes the density's error (a margin over that
// read pages past the ends, each re-reading its range: 1.03 took huge 5,000
// leads on uneven ids 1.65 -> 1.75 s simulated).
constexpr double kShortWaveShare = 1.0;
// What the rest of a one wave's range is asked for, of what it is expected
// to hold. The range's own density, learned from the 40-odd pages its batch
// read, guesses its rest of up to ten pages within a few items (ids 1 to 3
// apart: about 5 items in 150, 10 in 500), while 1 / kAskShare (5% over)
// asked a page past the end whenever the rest's last page was more than
// about 19 parts in 20 full: a page (15 ms on small, 97 on huge) on the
// connection that ends the read. Simulated (short_list_schedule_test, 4
// seeds each): 1.01 to 1.03 read small and huge 20,000 as fast or faster,
// the client done 0.847-0.861 s against 0.847-0.862 s and huge
// 5.215-5.286 s against 5.215-5.298 s; 1.0 left a rest of a rest (18
// requests).
constexpr double kWaveRestShare = 1.02;
constexpr double kShortRestPages = 10;
// Near the end of the list (what is left fits one batch per chain allowed,
// give or take kOneWaveSlack, and at least this many batches), every range
// is asked to just past its end: a few pages wasted rather than rounds for the rests, each of which
// would take a request and a wait of its own.
constexpr double kNearEndBatches = 2;
// Paced by the bucket, the end is the last requests, not a wave of the
// chains: the three before the end ask their ranges to their ends, so no
// rest comes back after the last two requests are planned.
constexpr double kBucketNearEndBatches = 3;
// A list whose expected pages are within this factor of one batch per chain
// is read in one wave. The density of two pages is a guess (ids 1 to 3
// apart: about 4% off either way): a list that is one wave and a few pages
// is read faster by one wave whose ranges each leave a short rest, all
// read at once after it, than cut into three waves of ranges.
constexpr double kOneWaveSlack = 1.1;

// A counted row's share of an uncounted page's cost: the docs' table of
// 2,387,743 rows, (49.9 s - 0.097 s) / 2,387,743 per row, 0.097 s a page.
constexpr double kCountedRowPages = (49.9 - 0.097) / 2387743 / 0.097;

// n ids spread over their span.
double Span(const std::vector<int64_t>& ids) {
  return ids.empty() ? 0.0 : static_cast<double>(std::llabs(ids.back() - ids.front()) + 1);
}

}  // namespace

int CountPages(double items) {
  double pages = 1 + std::max(items, 0.0) * kCountedRowPages;
  return static_cast<int>(std::clamp(std::round(pages), 1.0, kMaxPages / 2.0));
}

RangePlan::RangePlan(const std::vector<IdRange>& ranges) {
  for (const IdRange& r : ranges) {
    if (r.empty()) continue;
    auto range = std::make_unique<PlannedRange>();
    range->start = r.after;
    range->left = r;
    ranges_.push_back(std::move(range));
    hi_ = std::max(hi_, r.before ? *r.before - 1 : r.after);
  }
}

double RangePlan::density() const {
  return ids_spanned_ > 0 ? std::min(1.0, rows_seen_ / ids_spanned_) : 1.0;
}

void RangePlan::Split(const std::vector<int64_t>& ascending, const std::vector<int64_t>& descending,
                      int chains, int count_with,
                      const std::function<bool(double pages)>& bucket_binds) {
  PlannedRange& only = *ranges_.front();
  if (ascending.empty()) {
    only.done = true;  // nothing matches
    whole_on_first_page_ = true;
    return;
  }
  const int64_t lo = ascending.front();
  bounds_known_ = true;
  hi_ = std::max(ascending.back(), descending.empty() ? lo : descending.front());
  rows_seen_ = static_cast<double>(ascending.size() + descending.size());
  ids_spanned_ = Span(ascending) + Span(descending);
  only.start = lo - 1;
  only.left.after = ascending.back();  // the first page is read
  // The whole list was on the first page (a short page, or the highest id
  // on it): nothing is left to read.
  if (ascending.size() < static_cast<size_t>(kPageSize) || hi_ <= ascending.back()) {
    only.done = true;
    whole_on_first_page_ = true;
    return;
  }
  // A full descending page is the list's top: its items are delivered as
  // the list's end (top_after()), so what is left to read ends below its
  // lowest id. Meeting the first page, or right after it, the two pages
  // hold the whole list.
  if (descending.size() >= static_cast<size_t>(kPageSize)) {
    const int64_t top_lo = descending.back();
    top_after_ = std::max(ascending.back(), top_lo - 1);
    if (top_lo <= ascending.back() + 1) {
      only.done = true;
      whole_on_first_page_ = true;
      return;
    }
    CutBelowTop(top_lo, chains, count_with, bucket_binds);
    return;
  }
  CutRest(chains, count_with, bucket_binds);
}

void RangePlan::CutBelowTop(int64_t top_lo, int chains, int count_with,
                            const std::function<bool(double pages)>& bucket_binds) {
  PlannedRange& only = *ranges_.front();
  // Cut as if the ranges went on to the highest id, then the last one
  // stops below the top: the other ranges' batches stay as they were,
  // and the last range's is a page shorter (in a short list's one wave,
  // its rest of about a page, the read's last answer, is gone). A last
  // range the top would swallow (a list of a few pages): cut what lies
  // below the top instead.
  CutRest(chains, count_with, bucket_binds);
  // Only a short list's one wave: in a longer read the page saved is not
  // on the read's end, and ranges a page shorter moved the last requests'
  // asks to their ends a request earlier (simulated, small 200,000 dense
  // leads: 350 rows re-read by pages past ranges' ends, 100 of them
  // before the last three requests). Its last range stays open.
  if (!one_wave_) {
    top_after_.reset();
    return;
  }
  PlannedRange& last = *ranges_.back();
  if (last.left.after + 1 < top_lo) {
    last.left.before = top_lo;
    return;
  }
  ranges_.resize(1);
  only.left.before = top_lo;
  only.wave_rank = 0;
  hi_ = top_lo - 1;
  count_range_ = nullptr;
  count_pages_ = 1;
  one_wave_ = short_wave_ = bucket_bound_ = false;
  CutRest(chains, count_with, bucket_binds);
}

void RangePlan::CutRest(int chains, int count_with,
                        const std::function<bool(double pages)>& bucket_binds) {
  PlannedRange& only = *ranges_.front();
  const double expected = static_cast<double>(hi_ - only.left.after) * density();
  const int count = count_with >= 0 ? CountPages(expected) : 0;
  const double slots = std::ceil(expected / kPageSize) + count;
  if (slots <= kOneWaveSlack * chains * kMaxPages) {
    count_pages_ = std::max(count, 1);
    one_wave_ = true;
    CutOneWave(expected, chains, count_with);
  } else {
    // A long read's count takes one command, whatever it weighs in time.
    bucket_bound_ = bucket_binds && bucket_binds(std::ceil(expected / kPageSize) + (count > 0));
    CutWaves(expected, chains, bucket_bound_ ? kBucketRangesPerChain : kRangesPerChain);
  }
}

void RangePlan::CutOneWave(double expected, int chains, int count_with) {
  // As many ranges as the chains allowed and no range under
  // kMinPagesPerRange pages, each read in one batch: the ranges' shares of
  // the items follow the pages their batches have room for, so the batch
  // that carries the count holds the count's pages less. When the pages fit
  // the batches with room to spare (short_wave()), each range's room is its
  // chain's share and it is asked to its end: fewer, longer ranges would end
  // later, and ranges shorter than their chains' shares were cut again in
  // flight for the idle chains (rests of rests, a request each: 2,500 leads
  // took 18 to 21 requests). Otherwise each is cut a little over its batch
  // and leaves a short rest.
  const double pages = std::ceil(expected / kPageSize);
  const int fewest = std::min(chains, static_cast<int>(std::ceil(pages / kMaxPages)));
  const int n =
      std::clamp(static_cast<int>(pages / kMinPagesPerRange), std::max(fewest, 1), chains);
  const int64_t count = count_with >= 0 ? count_pages_ : 0;
  short_wave_ = pages + static_cast<double>(count) <= kAskShare * n * kMaxPages;
  const int64_t each = short_wave_
      ? static_cast<int64_t>(std::ceil((pages + static_cast<double>(count)) / n))
      : kMaxPages;
  std::vector<int64_t> room(static_cast<size_t>(n), each);
  // See count_range().
  const size_t carrier = short_wave_ ? static_cast<size_t>(std::min(count_with, n - 1)) : 0;
  if (count_with >= 0) room[carrier] -= count;
  int64_t all = 0;
  for (int64_t r : room) all += r;
  std::vector<int64_t> ends;
  int64_t share = 0;
  for (int k = 0; k + 1 < n; ++k) {
    share += room[static_cast<size_t>(k)];
    ends.push_back(CutPoint(share, all));
  }
  Cut(ends);
  if (count_with >= 0) count_range_ = ranges_[carrier].get();
  if (short_wave_) return;
  for (size_t k = 0; k < ranges_.size(); ++k) {
    ranges_[k]->wave_rank = static_cast<int>(ranges_.size() - 1 - k);
  }
}

void RangePlan::CutWaves(double expected, int chains, double ranges_per_chain) {
  // Paced by the bucket, a piece may be as long as it likes: after the
  // first waves only about two batches are in flight at a time.
  double longest = bucket_bound_ ? std::max(expected, kMaxItemsPerRange) : kMaxItemsPerRange;
  double per_range =
      std::clamp(expected / (ranges_per_chain * chains), kMinItemsPerRange, longest);
  const int64_t width = hi_ - ranges_.front()->left.after;
  int64_t pieces = static_cast<int64_t>(std::ceil(expected / per_range));
  pieces = (pieces + chains - 1) / chains * chains;  // full waves
  pieces = std::clamp<int64_t>(pieces, 1, std::max<int64_t>(1, width / kPageSize));
  std::vector<int64_t> ends;
  for (int64_t k = 1; k < pieces; ++k) {
    ends.push_back(CutPoint(k, pieces));
  }
  Cut(ends);
}

int64_t RangePlan::CutPoint(int64_t part, int64_t whole) const {
  const int64_t after = ranges_.front()->left.after;
  return after + 1 + (hi_ - after) * part / whole;
}

void RangePlan::Cut(const std::vector<int64_t>& ends) {
  // The first range keeps its start and what was read of it; the last one
  // keeps its bound (none: open, so rows added meanwhile are read).
  PlannedRange& first = *ranges_.front();
  const std::optional<int64_t> before = first.left.before;
  int64_t after = first.left.after;
  for (size_t k = 0; k <= ends.size(); ++k) {
    PlannedRange* r = &first;
    if (k > 0) {
      ranges_.push_back(std::make_unique<PlannedRange>());
      r = ranges_.back().get();
      r->start = r->left.after = after;
    }
    r->left.before = k < ends.size() ? std::optional<int64_t>(ends[k]) : before;
    if (k < ends.size()) after = ends[k] - 1;
  }
}

bool RangePlan::Unbounded(const PlannedRange& r) const {
  // A resumed open range with no bounds looked up: no idea how far it goes.
  // Once the highest id is known, an open range past it is expected to
  // hold nothing (a page past a range's end re-reads it: one page only).
  return !bounds_known_ && !r.left.before && hi_ <= r.left.after;
}

int64_t RangePlan::EffectiveEnd(const PlannedRange& r) const {
  return r.left.before ? *r.left.before : std::max(hi_ + 1, r.left.after + 1);
}

double RangePlan::ExpectedItems(const PlannedRange& r) const {
  double d = r.rows_read >= kPageSize ? std::min(1.0, r.rows_read / r.ids_passed) : density();
  return static_cast<double>(EffectiveEnd(r) - r.left.after - 1) * d;
}

int RangePlan::PagesFor(const PlannedRange& r) const {
  if (Unbounded(r)) return kMaxPages;
  if (near_end_ || (short_wave_ && !r.started)) return PagesToEnd(r);
  double expected = ExpectedItems(r);
  // A short rest of a range part read is asked to just past its expected
  // end: a page wasted now and then rather than another round for most
  // ranges. Longer ones, where a small error in the density is a whole page,
  // stay under (see kAskShare).
  bool short_rest = r.started && expected <= kShortRestPages * kPageSize;
  double pages = short_rest ? std::ceil(expected * kRestShare / kPageSize)
                            : std::floor(expected * kAskShare / kPageSize);
  // Paced by the bucket, a rest costs no round of its own (it rides in a
  // batch that goes anyway), while a page past the end is a command the
  // read's end pays for: asks stay at the pages the range is expected to
  // fill. Near the end (above) a rest would cost a request more.
  if (bucket_bound_) pages = std::floor(expected / kPageSize);
  return static_cast<int>(std::clamp(pages, 1.0, static_cast<double>(kMaxPages)));
}

int RangePlan::PagesToEnd(const PlannedRange& r) const {
  if (Unbounded(r)) return kMaxPages;
  // A short wave's range, not yet started: to its end, give or take the
  // density's error (see short_wave()). A one wave's rest: see
  // kWaveRestShare.
  double share = 1 / kAskShare;
  if (short_wave_ && !r.started) share = kShortWaveShare;
  if (one_wave_ && !short_wave_ && r.started) share = kWaveRestShare;
  double pages = std::ceil(ExpectedItems(r) * share / kPageSize);
  return static_cast<int>(std::clamp(pages, 1.0, static_cast<double>(kMaxPages)));
}

void RangePlan::UpdateNearEnd(size_t first, int chains) {
  // Paced by the bucket, the last requests are what matters, not a wave.
  const double batches =
      bucket_bound_ ? kBucketNearEndBatches : std::max(kNearEndBatches, kOneWaveSlack * chains);
  const double wave = batches * kMaxPages;
  near_end_ = PagesLeft(first) <= wave;
}

double RangePlan::PagesLeft(size_t first) const {
  double pages = 0;
  for (size_t i = first; i < ranges_.size(); ++i) {
    const PlannedRange& r = *ranges_[i];
    if (r.done) continue;
    double left = ExpectedItems(r) / kPageSize;
    pages += r.in_flight ? std::max(0.0, left - r.pages) : left;
  }
  return pages;
}

double RangePlan::PagesAfterFlights(size_t first) const {
  double pages = 0;
  for (size_t i = first; i < ranges_.size(); ++i) {
    const PlannedRange& r = *ranges_[i];
    if (!r.done && r.in_flight) pages += std::max(0.0, ExpectedItems(r) / kPageSize - r.pages);
  }
  return pages;
}

int RangePlan::IdlePages(size_t first) const {
  int pages = 0;
  for (size_t i = first; i < ranges_.size() && pages < kMaxPages; ++i) {
    if (!ranges_[i]->done && !ranges_[i]->in_flight) pages += PagesFor(*ranges_[i]);
  }
  return pages;
}

int RangePlan::IdleRanges(size_t first) const {
  int idle = 0;
  for (size_t i = first; i < ranges_.size(); ++i) {
    idle += !ranges_[i]->done && !ranges_[i]->in_flight;
  }
  return idle;
}

PlannedRange* RangePlan::NextIdle(size_t first) {
  for (size_t i = first; i < ranges_.size(); ++i) {
    if (!ranges_[i]->done && !ranges_[i]->in_flight) return ranges_[i].get();
  }
  return nullptr;
}

PlannedRange* RangePlan::Steal(size_t first) {
  size_t best = ranges_.size();
  double best_left = kStealPages * kPageSize;
  int64_t best_split = 0;
  for (size_t i = first; i < ranges_.size(); ++i) {
    const PlannedRange& r = *ranges_[i];
    if (r.done || !r.in_flight) continue;
    double reach = 0;
    double left = LeftBeyond(r, r.pages, &reach);
    if (left > best_left) {
      best = i;
      best_left = left;
      best_split = static_cast<int64_t>(reach + (static_cast<double>(EffectiveEnd(r)) - reach) / 2);
    }
  }
  if (best == ranges_.size()) return nullptr;
  PlannedRange& old = *ranges_[best];
  if (best_split <= old.left.after + 1 || best_split >= EffectiveEnd(old)) return nullptr;
  auto piece = std::make_unique<PlannedRange>();
  piece->start = piece->left.after = best_split - 1;
  piece->left.before = old.left.before;
  old.left.before = best_split;  // the batch in flight drops what it reads past this
  PlannedRange* out = piece.get();
  ranges_.insert(ranges_.begin() + static_cast<std::ptrdiff_t>(best) + 1, std::move(piece));
  return out;
}

double RangePlan::LeftBeyond(const PlannedRange& r, int pages, double* reach) const {
  *reach = static_cast<double>(r.left.after) + pages * kPageSize / std::max(density(), 1e-9);
  return (static_cast<double>(EffectiveEnd(r)) - *reach) * density();
}

bool RangePlan::Stealable(const PlannedRange& r, int pages) const {
  double reach = 0;
  return LeftBeyond(r, pages, &reach) > kStealPages * kPageSize;
}

PlannedRange* RangePlan::CutAfter(PlannedRange* r, int pages) {
  if (r->in_flight || r->done || Unbounded(*r)) return nullptr;
  // PagesToEnd stops at a batch; what is expected beyond the pages is what
  // counts here.
  if (ExpectedItems(*r) <= pages * kPageSize * kAskShare) return nullptr;
  double d = r->rows_read >= kPageSize ? std::min(1.0, r->rows_read / r->ids_passed) : density();
  // PagesToEnd asks a little over what is expected: the cut leaves `pages`
  // pages that margin, so the piece ends in its batch.
  double items = pages * kPageSize * kAskShare;
  int64_t cut = r->left.after + 1 + static_cast<int64_t>(items / std::max(d, 1e-9));
  if (cut <= r->left.after + 1 || cut >= EffectiveEnd(*r)) return nullptr;
  auto piece = std::make_unique<PlannedRange>();
  piece->start = piece->left.after = cut - 1;
  piece->left.before = r->left.before;
  piece->rows_read = r->rows_read;  // the same density
  piece->ids_passed = r->ids_passed;
  r->left.before = cut;
  PlannedRange* out = piece.get();
  auto at =
      std::find_if(ranges_.begin(), ranges_.end(), [r](const auto& p) { return p.get() == r; });
  ranges_.insert(at + 1, std::move(piece));
  return out;
}

void RangePlan::Learn(PlannedRange* r, double rows, int64_t read_to) {
  if (read_to <= r->left.after) return;
  double ids = static_cast<double>(read_to - r->left.after);
  rows_seen_ += rows;
  ids_spanned_ += ids;
  r->rows_read += rows;
  r->ids_passed += ids;
}

}  // namespace b24gate
