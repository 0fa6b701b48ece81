#include "data/filter.h"

#include <algorithm>
#include <cmath>

#include "absl/strings/ascii.h"
#include "absl/strings/match.h"
#include "absl/strings/str_split.h"
#include "data/params.h"
#include "data/values.h"

namespace b24emu::data {
namespace {

struct Prefix {
  const char* text;
  FilterOp op;
};
// Longest first, so "!@" wins over "!" and ">=" over ">".
constexpr Prefix kPrefixes[] = {
    {"!@", FilterOp::kNotIn}, {"!%", FilterOp::kNotLike}, {"!=", FilterOp::kNe},
    {">=", FilterOp::kGe},    {"<=", FilterOp::kLe},      {"=%", FilterOp::kPattern},
    {"%=", FilterOp::kPattern}, {"><", FilterOp::kBetween}, {"!", FilterOp::kNe},
    {"@", FilterOp::kIn},     {"%", FilterOp::kLike},     {">", FilterOp::kGt},
    {"<", FilterOp::kLt},     {"=", FilterOp::kEq},
};

// Stored-text form of a filter value for a field type; "" for null/empty.
std::string ValueText(const json& v, FieldType type) {
  if (type == FieldType::kChar || type == FieldType::kBoolean) {
    std::optional<std::string> t = NormaliseInput(v, type);
    return t ? *t : "";
  }
  std::optional<std::string> t = ScalarText(v);
  return t ? *t : "";
}

// SQL LIKE with % and _ over lower-cased text.
bool LikeMatch(std::string_view s, std::string_view p) {
  size_t si = 0, pi = 0, star = std::string_view::npos, mark = 0;
  while (si < s.size()) {
    if (pi < p.size() && (p[pi] == '_' || p[pi] == s[si])) {
      ++si;
      ++pi;
    } else if (pi < p.size() && p[pi] == '%') {
      star = pi++;
      mark = si;
    } else if (star != std::string_view::npos) {
      pi = star + 1;
      si = ++mark;
    } else {
      return false;
    }
  }
  while (pi < p.size() && p[pi] == '%') ++pi;
  return pi == p.size();
}

// Three-way comparison of a stored value with value `i` of the condition;
// nullopt when not comparable (unparseable number/date).
std::optional<int> Compare(const Condition& c, const std::string& stored, const std::string& lower, size_t i) {
  switch (c.kind) {
    case CompareKind::kNumeric: {
      std::optional<double> a = ParseNumber(stored);
      if (!a || std::isnan(c.numbers[i])) break;
      return *a < c.numbers[i] ? -1 : (*a > c.numbers[i] ? 1 : 0);
    }
    case CompareKind::kDate: {
      std::optional<int64_t> a = ParseDateTime(stored);
      if (!a || std::isnan(c.numbers[i])) break;
      double b = c.numbers[i];
      return *a < b ? -1 : (*a > b ? 1 : 0);
    }
    case CompareKind::kText:
      break;
  }
  int r = lower.compare(c.texts[i]);
  return r < 0 ? -1 : (r > 0 ? 1 : 0);
}

// The positive form of the condition against one non-empty stored value.
bool MatchOne(const Condition& c, const std::string& stored) {
  std::string lower = absl::AsciiStrToLower(stored);
  auto cmp = [&](size_t i) { return Compare(c, stored, lower, i); };
  switch (c.op) {
    case FilterOp::kEq:
    case FilterOp::kIn:
    case FilterOp::kNe:
    case FilterOp::kNotIn:
      for (size_t i = 0; i < c.texts.size(); ++i) {
        if (c.texts[i].empty()) continue;
        std::optional<int> r = cmp(i);
        if (r && *r == 0) return true;
      }
      return false;
    case FilterOp::kGt: { auto r = cmp(0); return r && *r > 0; }
    case FilterOp::kGe: { auto r = cmp(0); return r && *r >= 0; }
    case FilterOp::kLt: { auto r = cmp(0); return r && *r < 0; }
    case FilterOp::kLe: { auto r = cmp(0); return r && *r <= 0; }
    case FilterOp::kBetween: {
      if (c.texts.size() < 2) return false;
      auto lo = cmp(0), hi = cmp(1);
      return lo && hi && *lo >= 0 && *hi <= 0;
    }
    case FilterOp::kLike:
    case FilterOp::kNotLike:
      for (const std::string& t : c.texts) {
        if (absl::StrContains(lower, t)) return true;
      }
      return false;
    case FilterOp::kPattern:
      for (const std::string& t : c.texts) {
        if (LikeMatch(lower, t)) return true;
      }
      return false;
  }
  return false;
}

bool IsNegative(FilterOp op) {
  return op == FilterOp::kNe || op == FilterOp::kNotIn || op == FilterOp::kNotLike;
}

bool WantsEmpty(const Condition& c) {
  return std::any_of(c.texts.begin(), c.texts.end(), [](const std::string& t) { return t.empty(); });
}

// Stored values of a cell: one text, multi-field VALUEs, linked contact ids,
// or the items of an integer list. Empty for null.
std::vector<std::string> CellValues(const Cell& cell, FieldType type) {
  std::vector<std::string> out;
  if (const std::string* s = AsText(cell)) {
    if (type == FieldType::kIntegerList) {
      for (absl::string_view p : absl::StrSplit(*s, ',', absl::SkipEmpty())) out.emplace_back(p);
    } else if (!s->empty()) {
      out.push_back(*s);
    }
  } else if (const MultiList* m = std::get_if<MultiList>(&cell)) {
    for (const MultiValue& v : *m) out.push_back(v.value);
  } else if (const LinkList* l = std::get_if<LinkList>(&cell)) {
    for (const ContactLink& v : *l) out.push_back(std::to_string(v.contact_id));
  }
  return out;
}

}  // namespace

FilterOp SplitFilterKey(const std::string& key, std::string* field) {
  for (const Prefix& p : kPrefixes) {
    if (absl::StartsWith(key, p.text)) {
      *field = key.substr(std::char_traits<char>::length(p.text));
      return p.op;
    }
  }
  *field = key;
  return FilterOp::kEq;
}

ParsedFilter ParseFilter(const json& filter, const EntityDef& def) {
  ParsedFilter out;
  if (!filter.is_object()) return out;
  for (auto it = filter.begin(); it != filter.end(); ++it) {
    std::string name;
    FilterOp op = SplitFilterKey(it.key(), &name);
    int field = def.Find(name);
    if (field < 0) {
      out.unknown_fields.push_back(it.key());
      continue;
    }
    const FieldDef& f = def.field(field);
    Condition c;
    c.field = field;
    c.kind = CompareKindOf(f.type);
    const json& v = it.value();
    if (v.is_array() || v.is_object()) {
      for (const json* e : ListItems(v)) c.texts.push_back(ValueText(*e, f.type));
      if (op == FilterOp::kEq) op = FilterOp::kIn;
      if (op == FilterOp::kNe) op = FilterOp::kNotIn;
      // An empty IN-list matches nothing (Bitrix builds `IN ()` → false).
    } else {
      c.texts.push_back(ValueText(v, f.type));
    }
    c.op = op;
    for (std::string& t : c.texts) {
      if (c.kind == CompareKind::kNumeric) {
        c.numbers.push_back(ParseNumber(t).value_or(std::nan("")));
      } else if (c.kind == CompareKind::kDate) {
        std::optional<int64_t> ts = ParseDateTime(t);
        c.numbers.push_back(ts ? static_cast<double>(*ts) : std::nan(""));
      } else {
        c.numbers.push_back(0);
      }
      t = absl::AsciiStrToLower(t);
    }
    out.conditions.push_back(std::move(c));
  }
  return out;
}

bool Matches(const Table& table, const Row& row, const Condition& c) {
  if (c.field == 0) {
    // Hot path: ID conditions compare the row id without building a Cell.
    std::string id = std::to_string(row.id);
    bool pos = MatchOne(c, id);
    return IsNegative(c.op) ? !pos : pos;
  }
  const FieldDef& f = table.def().field(c.field);
  std::vector<std::string> values = CellValues(table.Get(row, c.field), f.type);
  if (values.empty()) {
    // NULL: `=""`/`!""` test emptiness; SQL comparisons with NULL fail, so
    // negative operators match (Bitrix emits `F IS NULL OR F <> x`).
    if (IsNegative(c.op)) return !(c.op == FilterOp::kNe && WantsEmpty(c) && c.texts.size() == 1);
    return (c.op == FilterOp::kEq || c.op == FilterOp::kIn) && WantsEmpty(c);
  }
  bool any = std::any_of(values.begin(), values.end(),
                         [&](const std::string& v) { return MatchOne(c, v); });
  if (IsNegative(c.op)) {
    if (c.op == FilterOp::kNe && WantsEmpty(c) && c.texts.size() == 1) return true;  // `!F: ""`: not empty
    return !any;
  }
  return any;
}

bool MatchesAll(const Table& table, const Row& row, const std::vector<Condition>& conditions) {
  for (const Condition& c : conditions) {
    if (!Matches(table, row, c)) return false;
  }
  return true;
}

}  // namespace b24emu::data
