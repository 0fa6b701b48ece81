#include "data/list_query.h"

#include <algorithm>
#include <cmath>
#include <limits>
#include <string>

#include "absl/container/inlined_vector.h"
#include "absl/strings/ascii.h"
#include "data/values.h"

namespace b24emu::data {
namespace {

// The id interval [lo, hi] implied by the ID conditions; `exact` is set when
// every condition is such a bound (so the interval is the match set).
struct IdRange {
  int64_t lo = std::numeric_limits<int64_t>::min();
  int64_t hi = std::numeric_limits<int64_t>::max();
  bool exact = true;
};

IdRange IdRangeOf(const std::vector<Condition>& conditions) {
  IdRange r;
  for (const Condition& c : conditions) {
    bool bound = c.field == 0 && c.numbers.size() == 1 && !std::isnan(c.numbers[0]);
    if (!bound) {
      r.exact = false;
      continue;
    }
    double v = c.numbers[0];
    switch (c.op) {
      case FilterOp::kGt: r.lo = std::max(r.lo, static_cast<int64_t>(std::floor(v)) + 1); break;
      case FilterOp::kGe: r.lo = std::max(r.lo, static_cast<int64_t>(std::ceil(v))); break;
      case FilterOp::kLt: r.hi = std::min(r.hi, static_cast<int64_t>(std::ceil(v)) - 1); break;
      case FilterOp::kLe: r.hi = std::min(r.hi, static_cast<int64_t>(std::floor(v))); break;
      case FilterOp::kEq:
      case FilterOp::kIn:
        if (std::floor(v) != v) {
          r.lo = 1;
          r.hi = 0;  // no integer id equals a fraction
        } else {
          r.lo = std::max(r.lo, static_cast<int64_t>(v));
          r.hi = std::min(r.hi, static_cast<int64_t>(v));
        }
        break;
      default:
        r.exact = false;
    }
  }
  return r;
}

// One sort value of a row for one order key.
struct SortValue {
  bool null = true;
  double number = 0;
  std::string text;
};

SortValue SortValueOf(const Table& table, const Row& row, int field) {
  SortValue v;
  if (field == 0) {
    v.null = false;
    v.number = static_cast<double>(row.id);
    return v;
  }
  Cell cell = table.Get(row, field);
  const std::string* s = AsText(cell);
  if (s == nullptr) return v;
  v.null = false;
  switch (CompareKindOf(table.def().field(field).type)) {
    case CompareKind::kNumeric:
      v.number = ParseNumber(*s).value_or(0);
      break;
    case CompareKind::kDate:
      v.number = static_cast<double>(ParseDateTime(*s).value_or(0));
      break;
    case CompareKind::kText:
      v.text = absl::AsciiStrToLower(*s);
      break;
  }
  return v;
}

// NULLs first when ascending, as MySQL orders them.
int CompareValues(const SortValue& a, const SortValue& b) {
  if (a.null || b.null) return a.null == b.null ? 0 : (a.null ? -1 : 1);
  if (a.number != b.number) return a.number < b.number ? -1 : 1;
  int c = a.text.compare(b.text);
  return c < 0 ? -1 : (c > 0 ? 1 : 0);
}

void FinishCounted(ListPage& page, int64_t start, int64_t total) {
  page.total = total;
  page.work.rows_counted = total;
  page.work.rows_skipped = std::min(start, total);
  if (start + kPageSize < total) page.next = start + kPageSize;
}

// Matching rows of [begin, end) sorted by `order`, ties by id ascending.
// Only the first `limit` rows need to be in order (a partial sort: a page
// near the start of a big table does not pay for sorting all of it).
std::vector<const Row*> SortedMatches(const Table& table, const std::vector<Condition>& conditions,
                                      const std::vector<OrderKey>& order, int64_t begin, int64_t end,
                                      int64_t limit) {
  struct Keyed {
    const Row* row;
    absl::InlinedVector<SortValue, 2> keys;
  };
  std::vector<Keyed> matches;
  for (int64_t k = begin; k < end; ++k) {
    const Row& row = table.rows()[k];
    if (!MatchesAll(table, row, conditions)) continue;
    Keyed m{&row, {}};
    m.keys.reserve(order.size());
    for (const OrderKey& o : order) m.keys.push_back(SortValueOf(table, row, o.field));
    matches.push_back(std::move(m));
  }
  auto less = [&](const Keyed& a, const Keyed& b) {
    for (size_t i = 0; i < order.size(); ++i) {
      int c = CompareValues(a.keys[i], b.keys[i]);
      if (c != 0) return order[i].desc ? c > 0 : c < 0;
    }
    return a.row->id < b.row->id;
  };
  if (limit < static_cast<int64_t>(matches.size())) {
    std::partial_sort(matches.begin(), matches.begin() + limit, matches.end(), less);
  } else {
    std::sort(matches.begin(), matches.end(), less);
  }
  std::vector<const Row*> out;
  out.reserve(matches.size());
  for (const Keyed& m : matches) out.push_back(m.row);
  return out;
}

}  // namespace

std::vector<const Row*> AllMatches(const Table& table, const std::vector<Condition>& conditions,
                                   const std::vector<OrderKey>& order) {
  return SortedMatches(table, conditions, order, 0, table.size(), table.size());
}

ListPage RunList(const Table& table, const std::vector<Condition>& conditions,
                 const std::vector<OrderKey>& order, int64_t start, TotalMode mode) {
  ListPage page;
  const bool no_count = start < 0;
  const int64_t offset = no_count ? 0 : start;
  const IdRange range = IdRangeOf(conditions);
  const std::vector<Row>& rows = table.rows();
  const int64_t begin = range.lo > range.hi ? 0 : table.LowerBound(range.lo);
  const int64_t end = range.lo > range.hi ? 0
                      : range.hi == std::numeric_limits<int64_t>::max() ? table.size()
                                                                         : table.LowerBound(range.hi + 1);
  const bool id_order = order.empty() || (order.size() == 1 && order[0].field == 0);
  const bool desc = !order.empty() && order[0].desc;

  if (id_order) {
    // Walk the id range in the requested direction.
    auto at = [&](int64_t k) -> const Row& { return desc ? rows[end - 1 - k] : rows[begin + k]; };
    const int64_t span = std::max<int64_t>(0, end - begin);
    if (!no_count && mode == TotalMode::kCount && range.exact) {
      for (int64_t k = offset; k < span && k < offset + kPageSize; ++k) page.rows.push_back(&at(k));
      FinishCounted(page, offset, span);
    } else if (!no_count && mode == TotalMode::kCount) {
      int64_t matched = 0;
      for (int64_t k = 0; k < span; ++k) {
        const Row& row = at(k);
        if (!MatchesAll(table, row, conditions)) continue;
        if (matched >= offset && matched < offset + kPageSize) page.rows.push_back(&row);
        ++matched;
      }
      FinishCounted(page, offset, matched);
    } else {
      // start=-1, or a method without total: stop as soon as the page (plus
      // one row to know whether `next` exists) is filled.
      const int64_t want = no_count ? kPageSize : kPageSize + 1;
      int64_t matched = 0;
      for (int64_t k = 0; k < span && static_cast<int64_t>(page.rows.size()) < want; ++k) {
        const Row& row = at(k);
        if (!MatchesAll(table, row, conditions)) continue;
        if (matched++ >= offset) page.rows.push_back(&row);
      }
      page.work.rows_skipped = std::min(matched, offset);
      if (static_cast<int64_t>(page.rows.size()) > kPageSize) {
        page.rows.pop_back();
        page.next = offset + kPageSize;
      }
      if (mode == TotalMode::kCount) page.total = 0;
    }
    page.work.rows_returned = static_cast<int64_t>(page.rows.size());
    return page;
  }

  // Any other order: collect every match in the id range, sorted.
  std::vector<const Row*> matches = SortedMatches(table, conditions, order, begin, end, offset + kPageSize);
  const int64_t total = static_cast<int64_t>(matches.size());
  for (int64_t k = offset; k < total && k < offset + kPageSize; ++k) page.rows.push_back(matches[k]);
  if (no_count) {
    if (mode == TotalMode::kCount) page.total = 0;
  } else if (mode == TotalMode::kCount) {
    FinishCounted(page, offset, total);
  } else {
    page.work.rows_skipped = std::min(offset, total);
    if (offset + kPageSize < total) page.next = offset + kPageSize;
  }
  page.work.rows_returned = static_cast<int64_t>(page.rows.size());
  return page;
}

}  // namespace b24emu::data
