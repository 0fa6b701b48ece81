#include "engine/lists/early_pages.h"

#include <utility>

#include "engine/lists/keyset_pages.h"

namespace b24gate {

EarlyPages::EarlyPages(std::vector<Json> items, const std::string& id_field, int64_t last_id,
                       std::shared_ptr<const PagePreparer> preparer)
    : preparer_(std::move(preparer)), items_(static_cast<int64_t>(items.size())) {
  for (ItemPage& cut : CutIntoPages(std::move(items), id_field, last_id)) {
    Page page;
    page.items = static_cast<int64_t>(cut.items.size());
    page.last_id = cut.last_id;
    page.json = std::move(cut.items);
    pages_.push_back(std::move(page));
  }
  unmade_items_.store(items_, std::memory_order_relaxed);
}

void EarlyPages::Prepare(size_t page) {
  absl::MutexLock lock(&mu_);
  PrepareLocked(pages_[page]);
}

void EarlyPages::PrepareLocked(Page& page) {
  if (page.made) return;
  page.made = true;
  page.prepared = preparer_->Prepare(std::move(page.json));
  page.json = {};
  if (page.prepared) made_bytes_.fetch_add(page.prepared->bytes(), std::memory_order_relaxed);
  unmade_items_.fetch_sub(page.items, std::memory_order_relaxed);
}

std::unique_ptr<PreparedPage> EarlyPages::Take(size_t page) {
  absl::MutexLock lock(&mu_);
  PrepareLocked(pages_[page]);
  return std::move(pages_[page].prepared);
}

}  // namespace b24gate
