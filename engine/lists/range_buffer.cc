#include "engine/lists/range_buffer.h"

#include <utility>

namespace b24gate {

void OrderedRangeBuffer::Add(int64_t after, int64_t upto, std::vector<Json> items) {
  if (upto <= after) return;
  Held held;
  held.upto = upto;
  held.items = static_cast<int64_t>(items.size());
  if (!items.empty()) {
    Json list(std::move(items));
    held.packed = Json::to_msgpack(list);
    held.bytes = static_cast<int64_t>(held.packed.size());
    if (tree_bytes_ + held.bytes <= kTreeBytes) {
      held.trees = std::move(list.get_ref<Json::array_t&>());
      held.packed.clear();
      held.packed.shrink_to_fit();
      tree_bytes_ += held.bytes;
    }
  }
  Count(held.items, held.bytes);
  measured_items_ += static_cast<double>(held.items);
  measured_bytes_ += static_cast<double>(held.bytes);
  pieces_[after] = std::move(held);
}

bool OrderedRangeBuffer::EarlyHasRoom(int64_t items) const {
  double bytes = static_cast<double>(EarlyBytes()) + static_cast<double>(items) * ItemBytes();
  return bytes <= static_cast<double>(kEarlyBytes);
}

void OrderedRangeBuffer::AddEarly(int64_t after, int64_t upto, std::shared_ptr<EarlyPages> pages) {
  if (upto <= after) return;
  Held held;
  held.upto = upto;
  held.items = pages->items();
  held.early = std::move(pages);
  items_ += held.items;
  early_pieces_++;
  pieces_[after] = std::move(held);
}

int64_t OrderedRangeBuffer::EarlyBytes() const {
  if (early_pieces_ == 0) return 0;
  int64_t bytes = 0;
  for (const auto& [after, held] : pieces_) {
    if (!held.early) continue;
    bytes += held.early->made_bytes() +
             static_cast<int64_t>(static_cast<double>(held.early->unmade_items()) * ItemBytes());
  }
  return bytes;
}

std::optional<OrderedRangeBuffer::Piece> OrderedRangeBuffer::PopNext() {
  auto it = pieces_.find(delivered_upto_);
  if (it == pieces_.end()) return std::nullopt;
  Held& held = it->second;
  Piece piece;
  piece.upto = held.upto;
  if (held.early) {
    piece.early = std::move(held.early);
    items_ -= held.items;
    early_pieces_--;
    delivered_upto_ = piece.upto;
    pieces_.erase(it);
    return piece;
  }
  if (!held.packed.empty()) {
    Json unpacked = Json::from_msgpack(held.packed);
    piece.items = std::move(unpacked.get_ref<Json::array_t&>());
  } else {
    piece.items = std::move(held.trees);
    tree_bytes_ -= held.bytes;
  }
  Count(-held.items, -held.bytes);
  delivered_upto_ = piece.upto;
  pieces_.erase(it);
  return piece;
}

void OrderedRangeBuffer::Measure(const std::vector<Json>& items) {
  if (items.empty()) return;
  measured_items_ += static_cast<double>(items.size());
  measured_bytes_ += static_cast<double>(Json::to_msgpack(Json(items)).size());
}

double OrderedRangeBuffer::ItemBytes() const {
  return measured_items_ > 0 ? measured_bytes_ / measured_items_ : kDefaultItemBytes;
}

void OrderedRangeBuffer::Count(int64_t items, int64_t bytes) {
  items_ += items;
  bytes_ += bytes;
}

}  // namespace b24gate
