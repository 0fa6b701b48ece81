#include "engine/lists/keyset_pages.h"

#include <algorithm>
#include <iterator>
#include <utility>

#include "absl/strings/str_cat.h"

namespace b24gate {

std::vector<ItemPage> CutIntoPages(std::vector<Json> items, const std::string& id_field,
                                   int64_t last_id) {
  std::vector<ItemPage> pages;
  for (size_t first = 0; first < items.size(); first += kPageSize) {
    size_t end = std::min(items.size(), first + kPageSize);
    ItemPage page;
    page.items.assign(std::make_move_iterator(items.begin() + first),
                      std::make_move_iterator(items.begin() + end));
    page.last_id =
        end == items.size() ? last_id : ItemId(page.items.back(), id_field).value_or(last_id);
    pages.push_back(std::move(page));
  }
  return pages;
}

std::vector<BatchCommandSpec> ChainCommands(const KeysetQuery& query, const std::string& items_key,
                                            const IdRange& range, int pages,
                                            const std::string& prefix) {
  std::vector<BatchCommandSpec> commands;
  const std::string path = items_key.empty() ? "" : absl::StrCat("[", items_key, "]");
  for (int i = 0; i < pages; ++i) {
    Json after = range.after;
    if (i > 0) {
      after = absl::StrCat("$result[", prefix, i - 1, "]", path, "[", kPageSize - 1, "][",
                           query.shape.item_id_field, "]");
    }
    commands.push_back({absl::StrCat(prefix, i), query.method,
                        KeysetPageParams(query.params, query.base_filter, query.shape, after,
                                         range.before)});
  }
  return commands;
}

absl::StatusOr<ChainPages> ReadChain(const KeysetQuery& query, BatchResult* result, int pages,
                                     const IdRange& range, ItemExtractor* extractor,
                                     const std::string& prefix) {
  ChainPages out;
  out.last_id = range.after;
  // One allocation for the chain's items, not a dozen growing ones: the
  // memory of a read's first answers is new to the process, each page of
  // it a fault.
  out.items.reserve(static_cast<size_t>(pages) * kPageSize);
  for (int i = 0; i < pages && !out.range_done; ++i) {
    auto it = result->outcomes.find(absl::StrCat(prefix, i));
    if (it == result->outcomes.end()) break;
    if (!it->second.ok()) {
      if (it->second.status().code() == absl::StatusCode::kResourceExhausted) break;
      return it->second.status();
    }
    CallReply& reply = *it->second;
    out.pages_read++;
    if (reply.time.is_object() && reply.time.contains("processing") &&
        reply.time["processing"].is_number()) {
      out.processing_seconds += reply.time["processing"].get<double>();
    }
    std::vector<Json> items;
    if (!extractor->Take(&reply.result, &items)) {
      return absl::InvalidArgumentError(
          absl::StrCat(query.method, " did not return a list in a keyset page"));
    }
    if (items.size() < static_cast<size_t>(kPageSize)) out.range_done = true;
    for (auto& item : items) {
      std::optional<int64_t> id = ItemId(item, query.shape.item_id_field);
      if (!id) {
        return absl::InvalidArgumentError(absl::StrCat("items of ", query.method, " lack an integer `",
                                                       query.shape.item_id_field, "` field"));
      }
      if (*id <= out.last_id) continue;
      if (range.before && *id >= *range.before) {
        out.range_done = true;
        break;
      }
      out.last_id = *id;
      out.items.push_back(std::move(item));
    }
    if (range.before && out.last_id + 1 >= *range.before) out.range_done = true;
  }
  return out;
}

}  // namespace b24gate
