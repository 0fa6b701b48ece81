// Parallel keyset reading: the list's id range split into ranges, each read
// by its own keyset chain (keyset_pages.h), several chains at once.
//
//   1. Bounds: the first page of the list ordered by id ascending and the
//      first ordered descending (`start=-1`, ids only: no counting) give the
//      lowest and highest id and how dense the ids are.
//   2. Split: the range is cut into pieces of about 2,000 expected items (one
//      batch each), their number a multiple of the chains allowed so the last
//      wave is full. The caller's own id bounds are intersected, not
//      overwritten; the last range stays open so rows added meanwhile are read.
//   3. Read: as many chains run as BatchesAllowed gives (connections, bucket,
//      the method's operating time left). A batch asks for as many pages as
//      its range is expected to hold (pages past a range's end would re-read
//      it). A range that ends early frees its slot for the next; when none is
//      waiting, the range with most left is split again (work stealing), so
//      sparse or uneven ids leave no slot idle.
//
// Items come out exactly once. Ordered (default): ranges are delivered in id
// order; items of later ranges wait in a buffer of at most `max_buffered`
// items (chains beyond the first range stop while it is full). Unordered:
// each batch's items as they arrive.
//
// Resume state: {"after": ID} (ordered: everything up to ID delivered) or
// {"ranges": [[after, before or null], …]} (unordered: what is left).
//
// Thread-safety: see list_strategy.h.
#ifndef B24GATE_ENGINE_LISTS_PARALLEL_KEYSET_STRATEGY_H_
#define B24GATE_ENGINE_LISTS_PARALLEL_KEYSET_STRATEGY_H_

#include <memory>
#include <optional>
#include <vector>

#include "absl/time/time.h"
#include "engine/lists/chain_budget.h"
#include "engine/lists/keyset_pages.h"
#include "engine/lists/list_strategy.h"

namespace b24gate {

class ParallelKeysetStrategy : public ListStrategy {
 public:
  static constexpr int64_t kDefaultMaxBuffered = 40000;

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

 private:
  struct Range {
    IdRange left;       // still to read: ids in (left.after, left.before)
    bool in_flight = false;
    int pages = 0;      // of the batch in flight
    bool done = false;  // read to its end
    std::vector<Json> buffer;  // ordered: read, waiting for earlier ranges
  };

  ParallelKeysetStrategy(ListContext* context, KeysetQuery query, std::vector<IdRange> ranges,
                         bool find_bounds, int64_t max_buffered);

  bool ordered() const { return !context_->request().unordered; }
  void QueryBounds();
  void OnBounds(absl::StatusOr<BatchResult> result);
  void SplitBounds();
  int64_t EffectiveEnd(const Range& r) const;  // exclusive
  int PagesFor(const Range& r) const;
  Range* NextIdle();
  Range* StealWork();
  void StartBatch(Range* r);
  void OnBatch(Range* r, int pages, absl::Time sent, absl::StatusOr<BatchResult> result);
  void DeliverHead();
  void DeliverRange(Range* r, std::vector<Json> items, int64_t last_id);
  Json ResumeState() const;
  bool IsHead(const Range* r) const;
  // Ordered: may a range past the first start a batch without the buffer
  // (items waiting plus batches in flight) passing max_buffered?
  bool BufferHasRoom(const Range& r) const;

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
};

}  // namespace b24gate

#endif  // B24GATE_ENGINE_LISTS_PARALLEL_KEYSET_STRATEGY_H_
