#include "engine/lists/range_buffer.h"

#include <algorithm>
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
  double bytes = static_cast<double>(EarlyBytes()) + static_cast<double>(items) * MadeItemBytes();
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

OrderedRangeBuffer::EarlyTally OrderedRangeBuffer::Tally() const {
  EarlyTally tally;
  if (early_pieces_ == 0) return tally;
  for (const auto& [after, held] : pieces_) {
    if (!held.early) continue;
    auto unmade = static_cast<double>(held.early->unmade_items());
    tally.made_bytes += static_cast<double>(held.early->made_bytes());
    tally.made_items += static_cast<double>(held.items) - unmade;
    tally.unmade_items += unmade;
  }
  return tally;
}

double OrderedRangeBuffer::MadeItemBytes(const EarlyTally& held) const {
  double items = gone_made_items_ + held.made_items;
  if (items > 0) return (gone_made_bytes_ + held.made_bytes) / items;
  return std::max(kDefaultItemBytes, ItemBytes());
}

double OrderedRangeBuffer::MadeItemBytes() const { return MadeItemBytes(Tally()); }

void OrderedRangeBuffer::LearnMade(const EarlyPages& pages) {
  gone_made_bytes_ += static_cast<double>(pages.made_bytes());
  gone_made_items_ += static_cast<double>(pages.items() - pages.unmade_items());
}

int64_t OrderedRangeBuffer::EarlyBytes() const {
  if (early_pieces_ == 0) return 0;
  EarlyTally held = Tally();
  return static_cast<int64_t>(held.made_bytes + held.unmade_items * MadeItemBytes(held));
}

double OrderedRangeBuffer::ArrivingBytes(double items) const {
  if (!pages_made_ahead_) return items * ItemBytes();
  EarlyTally held = Tally();
  double per_item = MadeItemBytes(held);
  double room = static_cast<double>(kEarlyBytes) - held.made_bytes - held.unmade_items * per_item;
  double made = std::clamp(room / per_item, 0.0, items);
  return made * per_item + (items - made) * ItemBytes();
}

std::optional<OrderedRangeBuffer::Piece> OrderedRangeBuffer::PopNext() {
  auto it = pieces_.find(delivered_upto_);
  if (it == pieces_.end()) return std::nullopt;
  Held& held = it->second;
  Piece piece;
  piece.upto = held.upto;
  if (held.early) {
    // What its pages made hold a row stays learned once they are gone.
    LearnMade(*held.early);
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
