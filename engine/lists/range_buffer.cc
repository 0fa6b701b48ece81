#include "engine/lists/range_buffer.h"

#include <utility>

namespace b24gate {

void OrderedRangeBuffer::Add(int64_t after, int64_t upto, std::vector<Json> items) {
  if (upto <= after) return;
  Packed packed;
  packed.upto = upto;
  packed.items = static_cast<int64_t>(items.size());
  if (!items.empty()) packed.bytes = Json::to_msgpack(Json(std::move(items)));
  Count(packed.items, static_cast<int64_t>(packed.bytes.size()));
  measured_items_ += static_cast<double>(packed.items);
  measured_bytes_ += static_cast<double>(packed.bytes.size());
  pieces_[after] = std::move(packed);
}

std::optional<OrderedRangeBuffer::Piece> OrderedRangeBuffer::PopNext() {
  auto it = pieces_.find(delivered_upto_);
  if (it == pieces_.end()) return std::nullopt;
  Piece piece;
  piece.upto = it->second.upto;
  if (!it->second.bytes.empty()) {
    Json unpacked = Json::from_msgpack(it->second.bytes);
    piece.items.reserve(unpacked.size());
    for (Json& item : unpacked) piece.items.push_back(std::move(item));
  }
  Count(-it->second.items, -static_cast<int64_t>(it->second.bytes.size()));
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
