// The items of one piece of an ordered read that came ahead of their turn
// (a later range's, waiting for the ranges before it), cut into pages as
// they will be handed over, each made into the consumer's form
// (PagePreparer) by whichever thread comes to it first: the portal's, in
// its idle time while the read waits for the ranges before them
// (ListReader), or the one that hands the page over. Made so, the pages
// that wait for a late first range cost no conversion after the read's
// last answer.
//
// Thread-safety: thread-safe. Prepare and Take may run at once on different
// threads: a page is made once, and a second caller waits for it.
#ifndef B24GATE_ENGINE_LISTS_EARLY_PAGES_H_
#define B24GATE_ENGINE_LISTS_EARLY_PAGES_H_

#include <atomic>
#include <cstdint>
#include <memory>
#include <string>
#include <vector>

#include "absl/synchronization/mutex.h"
#include "engine/lists/list_items.h"
#include "engine/lists/list_request.h"

namespace b24gate {

class EarlyPages {
 public:
  // `items` (ascending ids under `id_field`, at least one) cut into pages as
  // DeliverByPage hands them over (CutIntoPages); the last page ends at
  // `last_id`. REQUIRES: `preparer` is not null.
  EarlyPages(std::vector<Json> items, const std::string& id_field, int64_t last_id,
             std::shared_ptr<const PagePreparer> preparer);

  size_t pages() const { return pages_.size(); }
  int64_t items() const { return items_; }
  int64_t items(size_t page) const { return pages_[page].items; }
  // The id a page ends at: its resume cursor's.
  int64_t last_id(size_t page) const { return pages_[page].last_id; }

  // Makes page `page`, unless done already.
  void Prepare(size_t page);
  // What the pages made hold, and the items of those not made yet.
  int64_t made_bytes() const { return made_bytes_.load(std::memory_order_relaxed); }
  int64_t unmade_items() const { return unmade_items_.load(std::memory_order_relaxed); }
  // Page `page`, made (now, if no one has yet). Once for each page.
  std::unique_ptr<PreparedPage> Take(size_t page);

 private:
  struct Page {
    std::vector<Json> json;
    int64_t items = 0;
    int64_t last_id = 0;
    bool made = false;
    std::unique_ptr<PreparedPage> prepared;
  };
  void PrepareLocked(Page& page) ABSL_EXCLUSIVE_LOCKS_REQUIRED(mu_);

  const std::shared_ptr<const PagePreparer> preparer_;
  int64_t items_ = 0;
  absl::Mutex mu_;
  // The cut is fixed at construction; the pages' contents are under mu_.
  std::vector<Page> pages_;
  std::atomic<int64_t> made_bytes_{0};
  std::atomic<int64_t> unmade_items_{0};
};

}  // namespace b24gate

#endif  // B24GATE_ENGINE_LISTS_EARLY_PAGES_H_
