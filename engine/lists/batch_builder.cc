#include "engine/lists/batch_builder.h"

#include <algorithm>

#include "absl/strings/str_cat.h"

namespace b24gate {

int BatchBuilder::Add(int pages, int pages_to_end) {
  int given = std::min(pages, Capacity() - total_);
  pages_.push_back(given);
  to_end_.push_back(pages_to_end);
  total_ += given;
  return given;
}

std::vector<int> BatchBuilder::Finish(bool count_offered) {
  if (!with_count_ && total_ + count_pages_ <= max_pages_ && count_offered) with_count_ = true;
  std::vector<int> added(pages_.size(), 0);
  for (size_t i = 0; i < pages_.size(); ++i) {
    int more = std::min(to_end_[i] - pages_[i], Capacity() - total_);
    if (more <= 0) continue;
    pages_[i] += more;
    added[i] = more;
    total_ += more;
  }
  return added;
}

std::vector<BatchCommandSpec> BatchBuilder::Commands(const KeysetQuery& query,
                                                     const std::string& items_key,
                                                     const std::vector<IdRange>& ranges) const {
  std::vector<BatchCommandSpec> commands;
  for (size_t i = 0; i < ranges.size(); ++i) {
    for (auto& c : ChainCommands(query, items_key, ranges[i], pages_[i], Prefix(i))) {
      commands.push_back(std::move(c));
    }
  }
  return commands;
}

std::string BatchBuilder::Prefix(size_t i) { return absl::StrCat("r", i, "p"); }

}  // namespace b24gate
