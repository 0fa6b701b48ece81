// Parallel keyset reading: the list's id range split into ranges, each read
// by its own keyset chain (keyset_pages.h), several chains at once.
//
//   1. Bounds: the first page of the list ordered by id ascending and the
//      first page descending (`start=-1`: no counting; both as the caller
//      asked for them, the id added) give the lowest and highest id and
//      how dense the ids are. The first page's items are delivered as the
//      list's start; in a short list's one wave, a full descending page's
//      as its end (the last range stops below it instead of reading its top
//      page again: its rest of a page, the read's last answer, is gone);
//      when the two pages meet, they are the whole list.
//   2. Split (range_plan.h): what lies between the two pages is cut. A short
//      list, whose pages and count fit one batch per chain allowed, gets
//      one range per chain, each read to its end in one batch, all sent at
//      once, so they end together; one whose ranges pass their batches
//      leaves each a rest, and its batches are staggered (each asks a page
//      or so less than the next: LagPages) so that their answers come one
//      after another, as fast as the gateway handles them, and each rest
//      goes as soon as its batch is handled; the count rides with the first
//      range (RangePlan::count_range), which then tends to end first, so an
//      ordered read hands the ranges over while the last ones are read. A
//      longer one is cut into about three ranges per chain (1,000 to 5,000
//      expected items each; fewer, longer ranges waste fewer part-empty
//      last pages), their number a multiple of the chains so the last wave
//      is full. The caller's own id bounds are intersected, not
//      overwritten. A longer read's last range stays open, so rows added
//      meanwhile are read; a one wave's ends below the top page (rows
//      added after the bounds query are not read).
//   3. Read: as many chains run as BatchesAllowed gives (connections, bucket,
//      the method's operating time left). A batch asks a range for a little
//      less than it is expected to hold (a page past a range's end re-reads
//      it; a page short only leaves a rest, read on from its last id), the
//      rest of a range to just past its end, and every range to its end near
//      the end of the list (what is left fits one batch per chain). A batch
//      is filled up to 50 pages with the next ranges' chains, so every
//      request carries a full batch, unless each waiting range can have a
//      batch of its own at once (pages of one batch run one after another;
//      not in a read the bucket paces, where a batch costs a place);
//      while the bucket has no request to spare, a part-filled batch waits
//      for more to put in it. When no range is waiting and connections (not
//      the bucket) bind, the range in flight with most left is split again
//      (work stealing), so sparse or uneven ids leave no slot idle. Near
//      the end of a read the connections bind, batches are cut short so
//      that the connections end together (tail_split.h): a full batch of
//      dear pages sent last would run alone for seconds. A long list of
//      cheap pages is paced by the bucket instead (BucketBinds): every
//      request then carries 50 pages, no range is split in flight, ranges
//      are fewer (two per chain), the last three requests ask their ranges to
//      their ends, and the last two share what is left so that they end
//      together (the second goes a drain interval after the first). Near
//      that end a part-filled batch also waits for a batch in flight that
//      carries only part of its range: held back, a request loses no place
//      in the bucket, sent, it leaves that rest one request more.
//
// The count (list_reader.h) rides as the last command of an early batch
// that does not carry the first range (so the first items are not held up
// by it), or of one with room to spare: a request saved. In a short list's
// one wave that batch holds fewer pages, by what counting the list costs the
// portal (RangePlan::count_pages), so it ends with the others.
//
// Items come out exactly once. Ordered (default): ranges are delivered in id
// order; items read out of order wait in the ordered buffer (range_buffer.h)
// until everything before them has gone out and the consumer has room
// (made into the consumer's form meanwhile, ListContext::ReadAhead). New
// ranges start only while the buffer plus the batches in flight stay within
// half the read-ahead budget, in bytes (ListReaderOptions::read_ahead_bytes);
// filling a batch that goes anyway, or reading a range's rest (which is what
// lets the buffer drain), may use all of it. In a read the bucket paces, a
// batch the budget keeps from filling waits for the answers in flight (as
// the first range is read, the buffer drains) rather than go part-filled,
// and the first range's rests are asked to their ends while the buffer is
// past half the budget, so none is left to go alone (AskFor).
// Unordered: each batch's items as they arrive.
//
// The parts: the ranges and their arithmetic (range_plan.h), the ordered
// buffer (range_buffer.h), one batch's contents (batch_builder.h); this
// class sends, reads the answers and delivers.
//
// Resume state: {"after": ID} (ordered: everything up to ID delivered) or
// {"ranges": [[after, before or null], …]} (unordered: what is left).
//
// Thread-safety: see list_strategy.h.
#ifndef B24GATE_ENGINE_LISTS_PARALLEL_KEYSET_STRATEGY_H_
#define B24GATE_ENGINE_LISTS_PARALLEL_KEYSET_STRATEGY_H_

#include <cstdint>
#include <map>
#include <memory>
#include <optional>
#include <string>
#include <vector>

#include "absl/time/time.h"
#include "engine/lists/batch_builder.h"
#include "engine/lists/chain_budget.h"
#include "engine/lists/keyset_pages.h"
#include "engine/lists/list_strategy.h"
#include "engine/lists/range_buffer.h"
#include "engine/lists/range_plan.h"

namespace b24gate {

class ParallelKeysetStrategy : public ListStrategy {
 public:
  // INVALID_ARGUMENT as KeysetChainStrategy::Create, or for a malformed
  // `resume`. REQUIRES: read_ahead_bytes > 0.
  static absl::StatusOr<std::unique_ptr<ParallelKeysetStrategy>> Create(ListContext* context,
                                                                        const ListShape& shape,
                                                                        const Json& resume,
                                                                        int64_t read_ahead_bytes);

  ListStrategyKind kind() const override { return ListStrategyKind::kParallelKeyset; }
  void Start() override;
  void Pump() override;
  bool done() const override { return done_; }
  int in_flight() const override { return in_flight_; }
  bool CarriesCount() const override { return true; }
  // While the bounds query is out: every connection, for the batches its
  // answer starts together.
  int ConnectionsWanted() const override { return find_bounds_ ? connections_wanted_ : 0; }

 private:
  // One range's chain inside a batch.
  struct Segment {
    PlannedRange* range;
    int pages;
    std::string prefix;  // of its commands' keys
  };

  ParallelKeysetStrategy(ListContext* context, KeysetQuery query, const std::vector<IdRange>& ranges,
                         bool find_bounds, bool resumed, int64_t read_ahead_bytes);

  bool ordered() const { return !context_->request().unordered; }
  // Ordered reads skip the ranges already delivered.
  size_t first() const { return ordered() ? head_ : 0; }
  bool IsHead(const PlannedRange* r) const;
  void QueryBounds();
  void OnBounds(absl::StatusOr<BatchResult> result);
  // The items of one side of the bounds query (each with an id), or the
  // error that ends the read.
  absl::StatusOr<std::vector<Json>> BoundItems(const BatchResult& result, const std::string& key);
  // REQUIRES: every item has an id (BoundItems checked).
  std::vector<int64_t> IdsOf(const std::vector<Json>& items) const;
  // Of the descending page, the list's top no range reads
  // (RangePlan::top_after), ascending; empty when the plan took none.
  std::vector<Json> TopItems(std::vector<Json> descending) const;
  // Hands the top over after the first page: unordered or when the bounds
  // hold the whole list, at once; ordered, to the buffer, after the ranges.
  void DeliverTop(std::vector<Json> top);
  // The next range to read, or null. Ordered: a range past the first waits
  // while the read-ahead budget is spent.
  PlannedRange* NextToRead(bool filling);
  // Ordered: may `r`, past the first range, start a batch without the
  // buffer and the batches in flight passing the read-ahead budget?
  bool BudgetHasRoom(const PlannedRange& r, bool filling) const;
  // Ordered: whether the buffer would stay within the budget with `items`
  // in flight in all, `r`'s batch among them.
  bool BudgetAdmits(const PlannedRange& r, double items, bool filling) const;
  // Ordered: whether the buffer and the batches in flight hold more than
  // half the budget (no new range starts).
  bool BudgetTight() const;
  // Ordered: whether the budget keeps a batch starting now, with a range
  // other than the first, from being filled (its waiting ranges hold a full
  // batch, but the budget lets fewer in).
  bool BudgetStopsFill() const;
  // Whether Pump should hold a part-filled batch back (see Pump).
  bool HoldForFuller(double free_requests) const;
  // The pages a batch starting now may carry: fewer near the end of a read
  // the connections bind, so that they end together (tail_split.h).
  int BatchPages(const PortalBudget& budget, int allowed, double free_requests) const;
  // The pages for a batch that starts with `r`, given the tail split's
  // `tail_pages`: in a short list's one wave, `r`'s rest is not cut while a
  // page costs less than a round.
  // (A short list's one wave whose ranges leave rests: each range's batch
  // is asked LagPages fewer.)
  int RestPages(const PlannedRange& r, int tail_pages) const;
  // The pages a one wave's batch for `r` leaves to its rest so that the
  // wave's answers come one handling time apart (PlannedRange::wave_rank).
  int LagPages(const PlannedRange& r) const;
  // A request sent at `sent` was answered now, after `processing` seconds
  // of the portal's work: what a round costs besides it.
  void LearnOverhead(absl::Time sent, double processing);
  // Whether a batch starting with `first` may carry the count: kept room for
  // `from_the_start`, or added in room left after its pages.
  bool CountMayRideWith(const PlannedRange* first, bool from_the_start) const;
  // `spare`: how many more batches may start now besides this one;
  // `max_pages`: what the batch may carry.
  void StartBatch(PlannedRange* first, int spare, int max_pages);
  std::vector<Segment> FillBatch(PlannedRange* first, int spare, BatchBuilder* batch);
  // The pages a batch asks of `r`: PagesFor, but in a read the bucket paces
  // the first range's to its end while the buffer is past half the budget.
  int AskFor(const PlannedRange& r) const;
  void OnBatch(const std::vector<Segment>& segments, absl::Time sent,
               absl::StatusOr<BatchResult> result);
  // One segment of an answered batch: learns from it and delivers or
  // buffers its items (moved out of `result`). False when the read failed.
  bool ReadSegment(const Segment& seg, BatchResult* result);
  // Ordered: keeps the items of (after, upto] in the buffer until their
  // turn; made into the consumer's form ahead (ListContext::ReadAhead),
  // while the buffer's room for such pages lasts, so that a late first
  // range leaves nothing to convert after the read's last answer.
  void Buffer(int64_t after, int64_t upto, std::vector<Json> items);
  // Hands the carried count's answer to the reader.
  void AnswerCount(const absl::StatusOr<BatchResult>& result);
  // Ordered: hands over what the buffer holds in order, while the consumer
  // has room.
  void DeliverHead();
  // Hands `items` (ascending, ending at `last_id`) to the consumer; `r`, if
  // not null, is the range they were read from (it has read up to them).
  void Deliver(PlannedRange* r, std::vector<Json> items, int64_t last_id);
  // Ordered: hands a buffered piece's pages made ahead to the consumer.
  void DeliverEarly(std::shared_ptr<EarlyPages> pages);
  Json ResumeState() const;

  ListContext* const context_;
  const KeysetQuery query_;
  const int64_t read_ahead_bytes_;
  bool find_bounds_;
  // Continues an earlier read: the first page is not the whole list's.
  const bool resumed_;
  int connections_wanted_ = 0;
  RangePlan plan_;
  OrderedRangeBuffer buffer_;
  size_t head_ = 0;              // ordered: the first range not fully delivered
  int64_t delivered_after_ = 0;  // ordered: every id up to this delivered
  int64_t expected_in_flight_ = 0;  // items the batches in flight may bring
  // Unordered: the ids after this (the top, RangePlan::top_after), owed by
  // the cursor until the top is delivered (right after the first page).
  std::optional<int64_t> top_owed_after_;
  bool done_ = false;
  int in_flight_ = 0;
  BatchCost cost_;
  // The batches in flight: when each was sent and its pages (BatchPages).
  struct Flight {
    absl::Time sent;
    int pages = 0;
  };
  std::map<int64_t, Flight> flights_;
  int64_t next_flight_ = 0;
  double page_seconds_ = 0;  // one page's processing, as the portal last reported it
  absl::Time bounds_sent_;
  double bounds_processing_ = 0;  // the bounds query's pages' processing
  // The least a request took beyond the portal's processing (LearnOverhead);
  // < 0 before the first answer.
  double overhead_seconds_ = -1;
};

}  // namespace b24gate

#endif  // B24GATE_ENGINE_LISTS_PARALLEL_KEYSET_STRATEGY_H_
