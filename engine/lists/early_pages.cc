#include "engine/lists/early_pages.h"

#include <algorithm>
#include <iterator>
#include <utility>

#include "engine/lists/keyset_pages.h"

namespace b24gate {

EarlyPages::EarlyPages(std::vector<Json> items, const std::string& id_field, int64_t last_id,
                       std::shared_ptr<const PagePreparer> preparer)
    : preparer_(std::move(preparer)), items_(static_cast<int64_t>(items.size())) {
  for (size_t first = 0; first < items.size(); first += kPageSize) {
    size_t end = std::min(items.size(), first + kPageSize);
    Page page;
    page.json.assign(std::make_move_iterator(items.begin() + first),
                     std::make_move_iterator(items.begin() + end));
    page.items = static_cast<int64_t>(page.json.size());
    page.last_id =
        end == items.size() ? last_id : ItemId(page.json.back(), id_field).value_or(last_id);
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
