#include "data/table.h"

#include <algorithm>
#include <utility>

namespace b24emu::data {

Cell Table::Get(const Row& row, int field) const {
  const FieldDef& f = def_->field(field);
  if (field == 0) return std::to_string(row.id);
  if (f.derive != nullptr) return f.derive(*this, row);
  if (row.cells != nullptr) {
    auto it = row.cells->find(field);
    if (it != row.cells->end()) return it->second;
  }
  if (row.seeded && f.gen != nullptr) return f.gen(row, *ctx_);
  return std::monostate{};
}

void Table::Set(Row& row, int field, Cell value) {
  if (row.cells == nullptr) row.cells = std::make_unique<absl::flat_hash_map<int, Cell>>();
  (*row.cells)[field] = std::move(value);
}

int64_t Table::LowerBound(int64_t id) const {
  auto it = std::lower_bound(rows_.begin(), rows_.end(), id,
                             [](const Row& r, int64_t v) { return r.id < v; });
  return it - rows_.begin();
}

const Row* Table::Find(int64_t id) const {
  int64_t i = LowerBound(id);
  if (i < size() && rows_[i].id == id) return &rows_[i];
  return nullptr;
}

Row* Table::FindMutable(int64_t id) { return const_cast<Row*>(Find(id)); }

Row& Table::AppendSeeded(int64_t id) {
  Row& r = rows_.emplace_back();
  r.id = id;
  r.seeded = true;
  next_id_ = std::max(next_id_, id + 1);
  return r;
}

Row& Table::Insert() {
  Row& r = rows_.emplace_back();
  r.id = next_id_++;
  return r;
}

bool Table::Erase(int64_t id) {
  int64_t i = LowerBound(id);
  if (i >= size() || rows_[i].id != id) return false;
  rows_.erase(rows_.begin() + i);
  return true;
}

}  // namespace b24emu::data
