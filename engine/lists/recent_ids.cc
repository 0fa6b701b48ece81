#include "engine/lists/recent_ids.h"

#include "absl/strings/numbers.h"

namespace b24gate {

bool RecentIds::Insert(uint64_t id) {
  if (!set_.insert(id).second) return false;
  order_.push_back(id);
  if (order_.size() > capacity_) {
    set_.erase(order_.front());
    order_.pop_front();
  }
  return true;
}

uint64_t RecentIds::Key(const std::string& id) {
  uint64_t v = 0;
  if (absl::SimpleAtoi(id, &v)) return v;
  // FNV-1a, with the top bit set so it cannot equal a small integer id.
  uint64_t h = 14695981039346656037ull;
  for (unsigned char c : id) {
    h ^= c;
    h *= 1099511628211ull;
  }
  return h | (1ull << 63);
}

}  // namespace b24gate
