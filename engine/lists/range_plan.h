// The parallel keyset reader's ranges and the arithmetic on them: how the
// list's id range is cut, how many pages a batch asks of a range, which range
// is read next, which one is split when a chain would stay idle, and what the
// ranges read so far say about how dense the ids are. Numbers in, numbers out:
// no requests, no items, no consumer (parallel_keyset_strategy.h drives it).
//
// Ranges are kept ascending and disjoint; a range's `left` is what is still
// to be read. "From `first`" below means the ranges at index `first` and
// after (an ordered read skips those already delivered).
//
// Thread-safety: not thread-safe; the strategy uses it under the reader's
// lock.
#ifndef B24GATE_ENGINE_LISTS_RANGE_PLAN_H_
#define B24GATE_ENGINE_LISTS_RANGE_PLAN_H_

#include <cstddef>
#include <cstdint>
#include <functional>
#include <memory>
#include <optional>
#include <vector>

#include "engine/lists/list_items.h"

namespace b24gate {

// What a counted page costs the portal, in pages of 50 rows read with
// `start=-1`: the page itself plus counting every matching row, about 1/4,600
// of a page each (Bitrix24's docs: 49.9 s for a counted page of a
// 2,387,743-row table, 0.097 s uncounted). At least 1.
int CountPages(double items);

struct PlannedRange {
  int64_t start = 0;     // the range is the ids after this (and before left.before)
  IdRange left;          // still to read: ids in (left.after, left.before)
  bool in_flight = false;
  int pages = 0;         // of the batch in flight
  bool done = false;     // read to its end
  bool started = false;  // a batch has read part of it
  // Items read and ids passed so far: the range's own density, which
  // guesses its rest better than the list's (ids thin out unevenly).
  double rows_read = 0;
  double ids_passed = 0;
  // A short list's one wave whose ranges leave rests (RangePlan::Split):
  // how many of the wave's batches should answer after this range's, so
  // that the gateway handles their answers one after another instead of
  // all at once (the reader asks this range's batch that many handling
  // times' worth of pages less, and reads them with its rest).
  int wave_rank = 0;
};

class RangePlan {
 public:
  // `ranges` are read as they are (empty ones dropped); a single one is
  // usually cut first (Split).
  explicit RangePlan(const std::vector<IdRange>& ranges);

  // Cuts the only range, once its bounds are known from the first page of
  // the list ascending and the first page of ids descending (both within
  // the range). The first page is read: the first range continues after it.
  // What is left is cut
  //   - when it fits one batch per chain (with the count, when `count_with`
  //     >= 0): into one range per chain (at least 3 pages each), each
  //     read in one batch, sized by what its batch has room for: the
  //     count_range()'s batch carries the count, so it is given
  //     count_pages() pages less (the batches' pages run one after another:
  //     so it ends with the others). When the pages fit with room to spare
  //     (short_wave()), a batch's room is its chain's share, each range is
  //     asked to its end, and the count rides with the `count_with`-th
  //     range (or the last, if there are fewer); when the pages and the
  //     count pass the batches' room, every range leaves a short rest, read
  //     in one more round of small batches side by side, and the count
  //     rides with the first range (see count_range());
  //   - else into about three pieces per chain (1,000 to 5,000 expected
  //     items each), their number a multiple of `chains` so the last wave is
  //     full; or, when `bucket_binds(pages left)` says the bucket sets the
  //     pace (bucket_bound()), into two pieces per chain however long:
  //     every piece's last page is part-empty, a command a request could
  //     have carried.
  // In a one wave, the last piece ends below a full descending page's
  // lowest id (those ids are the list's top, already read: top_after());
  // otherwise it stays open. `ascending` empty or short, ending at the highest id, or
  // meeting a full `descending` (the whole list): the range is done.
  // REQUIRES: size() == 1, chains >= 1.
  void Split(const std::vector<int64_t>& ascending, const std::vector<int64_t>& descending,
             int chains, int count_with,
             const std::function<bool(double pages)>& bucket_binds = nullptr);
  // Split found a long list whose read the bucket paces (see Split).
  bool bucket_bound() const { return bucket_bound_; }
  // Split cut a short list for one wave: each range has a connection of
  // its own, so what a batch leaves of its range is read after it, in a
  // round of its own.
  bool one_wave() const { return one_wave_; }
  // A one wave whose ranges each fit their batch with room to spare: each is
  // cut for its connection's share of the pages and asked to its end in
  // one batch (PagesToEnd), not cut again to end with the others.
  bool short_wave() const { return short_wave_; }
  // Split found the whole list on the first page (none, a short page, or
  // the highest id on it), or on the two pages of the bounds (they meet):
  // its length is the list's, no count needed.
  bool whole_on_first_page() const { return whole_on_first_page_; }
  // A short list's one wave (or a list the two pages hold) whose
  // descending page was full: its items with ids after this are the list's
  // top, delivered as its end; no range reads them (the last one ends below
  // them, so rows added after the bounds query are not read). Nullopt when
  // Split took no top (a longer read: its last range stays open).
  std::optional<int64_t> top_after() const { return top_after_; }

  // The pages' worth of a batch's time the count takes in it: a short
  // list's one wave (see Split) weighs it (CountPages); otherwise it takes
  // one command's slot, and every request should carry 50 commands.
  int count_pages() const { return count_pages_; }
  // The range whose batch carries the count in a short list's one wave
  // (Split), or null (none, or not one wave: the strategy's own rule). In a
  // one wave whose ranges leave rests, the first range: the count is
  // weighed by the docs' figures (CountPages), and on a portal where
  // counting costs less than that its batch, with its range, ends early;
  // the first range ending early lets an ordered read hand every range
  // over as it ends instead of all of them after the first.
  const PlannedRange* count_range() const { return count_range_; }

  size_t size() const { return ranges_.size(); }
  PlannedRange& at(size_t i) { return *ranges_[i]; }
  const PlannedRange& at(size_t i) const { return *ranges_[i]; }
  // Ids per unit of id range (<= 1), from the bounds and every batch read.
  double density() const;

  // Where `r` ends (exclusive): its bound, or past the highest id known.
  int64_t EffectiveEnd(const PlannedRange& r) const;
  // Items `r` is expected to hold still.
  double ExpectedItems(const PlannedRange& r) const;
  // Pages a batch asks of `r`: a little under what it is expected to hold,
  // a short rest of a started range (and near the end, every range) to just
  // past its end; in a read the bucket paces, before the end, the full pages
  // it is expected to fill (no page past its end). Between 1 and kMaxPages.
  int PagesFor(const PlannedRange& r) const;
  int PagesToEnd(const PlannedRange& r) const;
  // Recomputes whether what is left to read from `first` on fits one batch
  // per chain allowed (and at least two batches; when bucket_bound(), three
  // batches: the last requests): then every range is asked to its end
  // (PagesFor), and the last ranges end in the same round.
  void UpdateNearEnd(size_t first, int chains);
  // Pages still to read from `first` on besides what the batches in flight
  // are expected to bring.
  double PagesLeft(size_t first) const;
  // Of PagesLeft(first), what the ranges in flight are expected to leave
  // after their batches: work that becomes idle only once they answer.
  double PagesAfterFlights(size_t first) const;
  bool near_end() const { return near_end_; }
  // Pages the waiting ranges from `first` would fill a batch with (at most
  // kMaxPages).
  int IdlePages(size_t first) const;
  // How many ranges from `first` are neither done nor in flight.
  int IdleRanges(size_t first) const;
  // The first range from `first` that is neither done nor in flight, or
  // null.
  PlannedRange* NextIdle(size_t first);
  // Splits the range in flight from `first` on with most left beyond what
  // its batch will reach (more than two pages' worth: Stealable) in two;
  // the second half, a new range right after it, is returned. Null when
  // none is worth it.
  PlannedRange* Steal(size_t first);
  // Whether a batch of `pages` pages would leave enough of `r` beyond its
  // reach for Steal to hand to another chain. What it leaves otherwise is
  // read only after that batch, in a round of its own.
  bool Stealable(const PlannedRange& r, int pages) const;
  // Cuts idle `r` where `pages` pages asked to its end (PagesToEnd) are
  // expected to end; the rest, a new idle range right after it, is
  // returned. Null when `r` is in flight, done, unbounded, or expected to
  // end within `pages` anyway. A bucket-paced read's last requests
  // take independent pieces this way: a range's continuation could not go
  // before its batch came back.
  PlannedRange* CutAfter(PlannedRange* r, int pages);
  // A batch read `rows` items of `r`, passing ids up to `read_to`.
  void Learn(PlannedRange* r, double rows, int64_t read_to);

 private:
  // Whether `r` is open with no idea how far it goes (a resumed read's).
  bool Unbounded(const PlannedRange& r) const;
  // Items of `r` beyond what `pages` pages read from where it stands reach,
  // at the list's density (Steal's measure), and the id that reach ends at.
  double LeftBeyond(const PlannedRange& r, int pages, double* reach) const;
  // Split's cut when a full descending page (from `top_lo` up) is the
  // list's top, already read (see top_after()).
  void CutBelowTop(int64_t top_lo, int chains, int count_with,
                   const std::function<bool(double pages)>& bucket_binds);
  // Split's cut of what follows the first page up to hi_ (see Split).
  void CutRest(int chains, int count_with, const std::function<bool(double pages)>& bucket_binds);
  // Split's two ways of cutting `expected` items after the first page.
  void CutOneWave(double expected, int chains, int count_with);
  void CutWaves(double expected, int chains, double ranges_per_chain);
  // The id where `part` / `whole` of the ids after the first page up to the
  // highest ends.
  int64_t CutPoint(int64_t part, int64_t whole) const;
  // Replaces the only range by ranges ending (exclusive) at `ends`, then
  // one up to its bound.
  void Cut(const std::vector<int64_t>& ends);

  std::vector<std::unique_ptr<PlannedRange>> ranges_;
  int64_t hi_ = 0;  // the highest id known
  bool bounds_known_ = false;  // Split saw the list's highest id
  double rows_seen_ = 0;
  double ids_spanned_ = 0;
  bool near_end_ = false;
  int count_pages_ = 1;
  const PlannedRange* count_range_ = nullptr;
  bool bucket_bound_ = false;
  bool one_wave_ = false;
  bool short_wave_ = false;
  bool whole_on_first_page_ = false;
  std::optional<int64_t> top_after_;
};

}  // namespace b24gate

#endif  // B24GATE_ENGINE_LISTS_RANGE_PLAN_H_
