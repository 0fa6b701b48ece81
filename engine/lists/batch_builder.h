// Fills one `batch` request of a parallel keyset read with the chains of one
// or more ranges (keyset_pages.h), up to kMaxPages pages in all.
//
// The first range asks its pages, then the next waiting ranges theirs, while
// there is room. The reader's count (list_reader.h) may take the last
// command: asked for up front (the batch does not carry the list's first
// range, so the first items are not held up by it), or once the ranges are
// in, when they left room. Room still left after that is free: each range
// is then asked on to its expected end, sparing a round for what a cautious
// ask would leave.
//
// Thread-safety: not thread-safe (one batch being built).
#ifndef B24GATE_ENGINE_LISTS_BATCH_BUILDER_H_
#define B24GATE_ENGINE_LISTS_BATCH_BUILDER_H_

#include <algorithm>
#include <string>
#include <vector>

#include "engine/lists/keyset_pages.h"

namespace b24gate {

class BatchBuilder {
 public:
  // `count_first`: keep room for the count from the start. `count_pages`:
  // the pages' worth of the batch's time the count takes (RangePlan::
  // count_pages), so a batch carrying it ends with the others; at least 1
  // (its command). `max_pages`: the pages' worth the batch may carry (at
  // most kMaxPages, and at least one page besides a count kept from the
  // start).
  explicit BatchBuilder(bool count_first, int count_pages = 1, int max_pages = kMaxPages)
      : with_count_(count_first),
        count_pages_(std::max(count_pages, 1)),
        max_pages_(std::clamp(max_pages, count_first ? count_pages_ + 1 : 1, kMaxPages)) {}

  // Room for another range's pages.
  bool HasRoom() const { return total_ < Capacity(); }
  // Adds a range that asks `pages` and would end within `pages_to_end`;
  // returns the pages it gets (what fits). REQUIRES: HasRoom().
  int Add(int pages, int pages_to_end);
  // After the last Add: the count rides too when `count_offered` and there
  // is room; the room left goes to the ranges, in order, up to their ends.
  // Returns the pages added to each range (in Add order).
  std::vector<int> Finish(bool count_offered);

  // Pages per range, in Add order.
  const std::vector<int>& pages() const { return pages_; }
  int total() const { return total_; }
  bool with_count() const { return with_count_; }

  // The commands of the ranges' chains: range i's keyed `r{i}p{page}`.
  // REQUIRES: ranges.size() == pages().size().
  std::vector<BatchCommandSpec> Commands(const KeysetQuery& query, const std::string& items_key,
                                         const std::vector<IdRange>& ranges) const;
  // The key prefix of range i's commands.
  static std::string Prefix(size_t i);

 private:
  int Capacity() const { return with_count_ ? max_pages_ - count_pages_ : max_pages_; }

  bool with_count_;
  const int count_pages_;
  const int max_pages_;
  std::vector<int> pages_;
  std::vector<int> to_end_;
  int total_ = 0;
};

}  // namespace b24gate

#endif  // B24GATE_ENGINE_LISTS_BATCH_BUILDER_H_
