// List filters (docs/bitrix24-protocol.md, "List methods"): a `filter` map whose keys carry an
// operator prefix — `=` (default), `!`/`!=`, `>`, `>=`, `<`, `<=`, `@`, `!@`,
// `%` (substring), `=%`/`%=` (LIKE pattern with % and _), `!%`, `><`
// (between) — parsed once per call into Conditions and evaluated per row.
// Values compare numerically for numeric fields, as instants for dates and
// case-insensitively as text otherwise (MySQL's *_ci collations).
#ifndef B24EMU_DATA_FILTER_H_
#define B24EMU_DATA_FILTER_H_

#include <string>
#include <vector>

#include <nlohmann/json.hpp>

#include "data/entity_def.h"
#include "data/table.h"

namespace b24emu::data {

enum class FilterOp { kEq, kNe, kGt, kGe, kLt, kLe, kIn, kNotIn, kLike, kPattern, kNotLike, kBetween };

struct Condition {
  int field = 0;
  FilterOp op = FilterOp::kEq;
  CompareKind kind = CompareKind::kText;
  // Values as text (lower-cased for text fields), and parsed for numeric
  // (number) and date (unix seconds) fields. "" stands for "empty/NULL".
  std::vector<std::string> texts;
  std::vector<double> numbers;
};

struct ParsedFilter {
  std::vector<Condition> conditions;
  std::vector<std::string> unknown_fields;  // keys naming no field
};

// Parses a filter map (an empty/absent/non-object filter matches all rows).
ParsedFilter ParseFilter(const nlohmann::json& filter, const EntityDef& def);

// Splits a filter key into its operator and field name ("!@STATUS_ID").
FilterOp SplitFilterKey(const std::string& key, std::string* field);

bool Matches(const Table& table, const Row& row, const Condition& c);
bool MatchesAll(const Table& table, const Row& row, const std::vector<Condition>& conditions);

}  // namespace b24emu::data

#endif  // B24EMU_DATA_FILTER_H_
