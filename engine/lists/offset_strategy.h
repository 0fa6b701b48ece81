// Offset reading: start=0 gives the list's total; the remaining offsets are
// read as batches of up to 50 page requests, several batches in flight (as
// many as BatchesAllowed gives), delivered in list order. A method that
// reports no total is followed page by page through `next`. No `order` is
// added, so methods that refuse one still work.
//
// Rows added or deleted while the list is read shift the pages: a row met
// twice within the last RecentIds window is delivered once (and counted in a
// warning); the count check in the summary reports the rest.
//
// Resume state: {"start": S}, the offset of the first page not delivered.
//
// Thread-safety: see list_strategy.h.
#ifndef B24GATE_ENGINE_LISTS_OFFSET_STRATEGY_H_
#define B24GATE_ENGINE_LISTS_OFFSET_STRATEGY_H_

#include <cstdint>
#include <map>
#include <optional>
#include <vector>

#include "engine/lists/chain_budget.h"
#include "engine/lists/list_strategy.h"
#include "engine/lists/recent_ids.h"

namespace b24gate {

class OffsetStrategy : public ListStrategy {
 public:
  // `resume` is null or {"start": S} with S a non-negative multiple of 50.
  static absl::StatusOr<std::unique_ptr<OffsetStrategy>> Create(ListContext* context,
                                                                const Json& resume);

  ListStrategyKind kind() const override { return ListStrategyKind::kOffset; }
  void Start() override;
  void Pump() override;
  bool done() const override { return done_; }
  int in_flight() const override { return in_flight_; }

 private:
  struct Page {
    int64_t start = 0;
    std::vector<Json> items;
  };
  OffsetStrategy(ListContext* context, int64_t first_start);

  Json PageParams(int64_t start) const;
  void OnFirstPage(absl::StatusOr<CallReply> reply);
  // Pages of one batch in flight, kept until all have come back.
  struct Unit {
    int64_t first_start = 0;
    std::vector<std::optional<Page>> pages;
    size_t received = 0;
  };
  int PagesPerUnit() const;
  void StartUnit();
  void SendUnit(int64_t unit, std::vector<int64_t> starts);
  void OnUnit(int64_t unit, std::vector<int64_t> starts, absl::Time sent,
              absl::StatusOr<BatchResult> result);
  void FollowNext();
  void OnNextPage(int64_t start, absl::StatusOr<CallReply> reply);
  void DeliverPage(Page page);
  void DeliverReadyUnits();

  ListContext* const context_;
  const int64_t first_start_;
  bool done_ = false;
  int in_flight_ = 0;
  // Where the offsets end (the total), once known; unset while pages are
  // followed through `next`.
  std::optional<int64_t> end_;
  int64_t next_start_ = 0;  // next offset to request
  int64_t next_unit_ = 0;
  int64_t deliver_unit_ = 0;
  std::map<int64_t, Unit> units_;  // in flight
  std::map<int64_t, std::vector<Page>> ready_units_;
  std::optional<int64_t> last_next_;  // `next` of the furthest page read
  double page_seconds_ = 0;           // operating seconds of one page
  double in_flight_operating_ = 0;
  std::optional<int64_t> follow_next_;
  RecentIds recent_;
  int64_t duplicates_ = 0;
  BatchCost cost_;
};

}  // namespace b24gate

#endif  // B24GATE_ENGINE_LISTS_OFFSET_STRATEGY_H_
