// Parallel keyset reading: the list's id range split into ranges, each read
// by its own keyset chain (keyset_pages.h), several chains at once.
//
//   1. Bounds: the first page of the list ordered by id ascending and the
//      first ordered descending (`start=-1`, ids only: no counting) give the
//      lowest and highest id and how dense the ids are.
//   2. Split: the range is cut into about three ranges per chain allowed
//      (1,000 to 5,000 expected items each; fewer, longer ranges waste fewer
//      part-empty last pages), their number a multiple of the chains so the
//      last wave is full. The caller's own id bounds are intersected, not
//      overwritten; the last range stays open so rows added meanwhile are read.
//   3. Read: as many chains run as BatchesAllowed gives (connections, bucket,
//      the method's operating time left). A batch asks a range for a little
//      less than it is expected to hold (a page past a range's end re-reads
//      it; a page short only leaves a rest, read on from its last id), the
//      rest of a range to just past its end, and every range to its end near
//      the end of the list. A batch is filled up to 50 pages with the next
//      ranges' chains, so every request carries a full batch; while the
//      bucket has no request to spare, a part-filled batch waits for more to
//      put in it. When no range is waiting and connections (not the bucket)
//      bind, the range in flight with most left is split again (work
//      stealing), so sparse or uneven ids leave no slot idle.
//
// The count (list_reader.h) rides as the last command of an early batch
// that does not carry the first range (so the first items are not held up
// by it), or of one with room to spare: a request saved.
//
// Items come out exactly once. Ordered (default): ranges are delivered in id
// order; items read wait in a buffer (as MessagePack) until their range is
// the first and the consumer has room. New ranges start only while the
// buffer plus the batches in flight stay within `max_buffered` items (twice
// that to fill a batch that goes anyway or to read a range's rest, which is
// what lets the buffer drain). Unordered: each batch's items as they arrive.
//
// Resume state: {"after": ID} (ordered: everything up to ID delivered) or
// {"ranges": [[after, before or null], …]} (unordered: what is left).
//
// Thread-safety: see list_strategy.h.
#ifndef B24GATE_ENGINE_LISTS_PARALLEL_KEYSET_STRATEGY_H_
#define B24GATE_ENGINE_LISTS_PARALLEL_KEYSET_STRATEGY_H_

#include <cstdint>
#include <deque>
#include <memory>
#include <optional>
#include <string>
#include <vector>

#include "absl/time/time.h"
#include "engine/lists/chain_budget.h"
#include "engine/lists/keyset_pages.h"
#include "engine/lists/list_strategy.h"

namespace b24gate {

class ParallelKeysetStrategy : public ListStrategy {
 public:
  static constexpr int64_t kDefaultMaxBuffered = 50000;

  // INVALID_ARGUMENT as KeysetChainStrategy::Create, or for a malformed
  // `resume`.
  static absl::StatusOr<std::unique_ptr<ParallelKeysetStrategy>> Create(
      ListContext* context, const ListShape& shape, const Json& resume,
      int64_t max_buffered = kDefaultMaxBuffered);

  ListStrategyKind kind() const override { return ListStrategyKind::kParallelKeyset; }
  void Start() override;
  void Pump() override;
  bool done() const override { return done_; }
  int in_flight() const override { return in_flight_; }
  bool CarriesCount() const override { return true; }

 private:
  struct Range {
    IdRange left;       // still to read: ids in (left.after, left.before)
    bool in_flight = false;
    int pages = 0;      // of the batch in flight
    bool done = false;  // read to its end
    bool started = false;  // a batch has read part of it
    // Items read and ids passed so far: the range's own density, which
    // guesses its rest better than the list's (ids thin out unevenly).
    double rows_read = 0;
    double ids_passed = 0;
    // Ordered: pieces read, waiting for earlier ranges (or for the consumer
    // to take what it has), each as MessagePack: a tenth of the memory of
    // the items' trees, so the buffer's bound costs little.
    std::deque<std::vector<uint8_t>> buffer;
  };

  // One range's chain inside a batch.
  struct Segment {
    Range* range;
    int pages;
    std::string prefix;  // of its commands' keys
  };

  ParallelKeysetStrategy(ListContext* context, KeysetQuery query, std::vector<IdRange> ranges,
                         bool find_bounds, int64_t max_buffered);

  bool ordered() const { return !context_->request().unordered; }
  void QueryBounds();
  void OnBounds(absl::StatusOr<BatchResult> result);
  void SplitBounds();
  int64_t EffectiveEnd(const Range& r) const;  // exclusive
  // Pages a batch asks of `r`: under what it is expected to hold, or (when
  // the batch has room to spare) a little over, to its end.
  int PagesFor(const Range& r) const;
  int PagesToEnd(const Range& r) const;
  // Items `r` is expected to hold still.
  double ExpectedItems(const Range& r) const;
  // Whether no more than kNearEndBatches batches are left to read.
  bool NearTheEnd() const;
  // The first range waiting to be read; `filling` a batch already going.
  Range* NextIdle(bool filling);
  bool AnyIdle() const;
  Range* StealWork();
  void StartBatch(Range* r);
  void OnBatch(const std::vector<Segment>& segments, absl::Time sent,
               absl::StatusOr<BatchResult> result);
  // Hands the carried count's answer to the reader.
  void AnswerCount(const absl::StatusOr<BatchResult>& result);
  void DeliverHead();
  void DeliverRange(Range* r, std::vector<Json> items, int64_t last_id);
  Json ResumeState() const;
  bool IsHead(const Range* r) const;
  // Ordered: may a range past the first start a batch without the buffer
  // (items waiting plus batches in flight) passing max_buffered?
  bool BufferHasRoom(const Range& r, bool filling) const;

  ListContext* const context_;
  const KeysetQuery query_;
  const int64_t max_buffered_;
  bool find_bounds_;
  // The caller's range, to which bounds and ranges are clipped.
  IdRange whole_;
  std::vector<std::unique_ptr<Range>> ranges_;  // ascending, disjoint
  size_t head_ = 0;        // ordered: the first range not fully delivered
  int64_t delivered_after_ = 0;  // ordered: every id up to this delivered
  int64_t buffered_ = 0;   // items in range buffers
  int64_t expected_in_flight_ = 0;  // items the batches in flight may bring
  bool done_ = false;
  int in_flight_ = 0;
  // Bounds phase.
  std::optional<std::vector<int64_t>> ascending_ids_, descending_ids_;
  int64_t hi_ = 0;  // highest id seen by the bounds query
  // Ids per unit of id range (<= 1), from the bounds and every batch read.
  double rows_seen_ = 0;
  double ids_spanned_ = 0;
  double density() const { return ids_spanned_ > 0 ? std::min(1.0, rows_seen_ / ids_spanned_) : 1.0; }
  BatchCost cost_;
  double page_seconds_ = 0;  // operating seconds of one page, last seen
  bool near_end_ = false;    // see kNearEndBatches
  // Pages the waiting ranges would fill a batch with (at most 50).
  int IdlePages() const;
};

}  // namespace b24gate

#endif  // B24GATE_ENGINE_LISTS_PARALLEL_KEYSET_STRATEGY_H_
