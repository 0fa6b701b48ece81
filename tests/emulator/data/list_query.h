// Paging of list methods (docs/bitrix24-protocol.md, "List methods"): fixed pages of 50 rows,
// `start` offset, `total` and `next` (only when rows remain), and `start=-1`
// (no counting: up to 50 rows, total 0, no next).
//
// The documented keyset read — filter `>ID`, order by ID, start=-1 — is the
// hot path: the ID conditions become a binary-searched range of the id-sorted
// table and the walk stops at the 50th match. Counting walks every candidate
// row (that is what makes counting slow on the real service too), except
// when the filter is only an ID range: then the count is the range's size.
#ifndef B24EMU_DATA_LIST_QUERY_H_
#define B24EMU_DATA_LIST_QUERY_H_

#include <cstdint>
#include <optional>
#include <vector>

#include "data/filter.h"
#include "data/order_select.h"
#include "data/table.h"
#include "method_api.h"

namespace b24emu::data {

inline constexpr int64_t kPageSize = 50;

enum class TotalMode {
  kCount,   // `total` and `next` (most list methods)
  kNextOnly,  // no `total`, but `next` when more rows exist
};

struct ListPage {
  std::vector<const Row*> rows;  // valid while the table is unchanged
  std::optional<int64_t> total;
  std::optional<int64_t> next;
  WorkDone work;
};

// `start`: offset >= 0, or -1 for "no count". Without any ID order key the
// tie-breaker is ID ascending, so paging is stable.
ListPage RunList(const Table& table, const std::vector<Condition>& conditions,
                 const std::vector<OrderKey>& order, int64_t start, TotalMode mode);

// Every matching row, sorted by `order` then id (for unpaged methods).
std::vector<const Row*> AllMatches(const Table& table, const std::vector<Condition>& conditions,
                                   const std::vector<OrderKey>& order);

}  // namespace b24emu::data

#endif  // B24EMU_DATA_LIST_QUERY_H_
