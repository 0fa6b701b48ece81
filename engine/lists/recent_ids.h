// The ids of the last N items delivered, to drop a row that an offset read
// meets twice because rows were added while it read (a row pushed from the
// end of one page to the start of the next). Bounded: memory does not grow
// with the list; a row shifted by more than N items is not caught (the
// summary's count check still reports the change).
//
// Thread-safety: not thread-safe.
#ifndef B24GATE_ENGINE_LISTS_RECENT_IDS_H_
#define B24GATE_ENGINE_LISTS_RECENT_IDS_H_

#include <cstddef>
#include <cstdint>
#include <deque>
#include <string>
#include <unordered_set>

namespace b24gate {

class RecentIds {
 public:
  explicit RecentIds(size_t capacity) : capacity_(capacity) {}
  // True when `id` is new among the last `capacity` ids (and remembers it).
  bool Insert(uint64_t id);
  // Integer ids as themselves, others by a 64-bit hash of their text.
  static uint64_t Key(const std::string& id);
  size_t size() const { return order_.size(); }

 private:
  const size_t capacity_;
  std::deque<uint64_t> order_;
  std::unordered_set<uint64_t> set_;
};

}  // namespace b24gate

#endif  // B24GATE_ENGINE_LISTS_RECENT_IDS_H_
