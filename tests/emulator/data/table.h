// Storage of one entity: rows sorted by id, each a few bytes (id, whether it
// was seeded, and a pointer to the values that differ from the generated
// ones). A seeded row's values are computed on demand from its id by the
// field's Generator, so a million seeded leads cost ~24 MB; rows created by
// `add` keep all their values in `cells`. Ids only grow (new id = largest id
// ever + 1), so inserts append and lookups are binary searches.
//
// Thread-safety: not thread-safe; the Portal serialises access.
#ifndef B24EMU_DATA_TABLE_H_
#define B24EMU_DATA_TABLE_H_

#include <cstdint>
#include <memory>
#include <vector>

#include "absl/container/flat_hash_map.h"
#include "data/cell.h"
#include "data/entity_def.h"
#include "data/seed_context.h"

namespace b24emu::data {

struct Row {
  int64_t id = 0;
  bool seeded = false;
  // Values that override the generator (an explicit monostate is an erased
  // field). Null while a seeded row is untouched.
  std::unique_ptr<absl::flat_hash_map<int, Cell>> cells;
};

class Table {
 public:
  Table(const EntityDef* def, const SeedContext* ctx) : def_(def), ctx_(ctx) {}

  const EntityDef& def() const { return *def_; }
  const std::vector<Row>& rows() const { return rows_; }
  int64_t size() const { return static_cast<int64_t>(rows_.size()); }

  // The current value of `field` in `row`.
  Cell Get(const Row& row, int field) const;
  // Sets a stored value (derived fields are ignored by the caller).
  void Set(Row& row, int field, Cell value);

  // nullptr when absent.
  const Row* Find(int64_t id) const;
  Row* FindMutable(int64_t id);
  // Index of the first row with id >= `id`.
  int64_t LowerBound(int64_t id) const;

  // Appends a seeded row. REQUIRES: id greater than every existing id.
  Row& AppendSeeded(int64_t id);
  // Creates an empty (all-null) row with the next id.
  Row& Insert();
  // False when absent.
  bool Erase(int64_t id);

  int64_t next_id() const { return next_id_; }
  void Reserve(int64_t n) { rows_.reserve(n); }

 private:
  const EntityDef* def_;
  const SeedContext* ctx_;
  std::vector<Row> rows_;
  int64_t next_id_ = 1;
};

}  // namespace b24emu::data

#endif  // B24EMU_DATA_TABLE_H_
