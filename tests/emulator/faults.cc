#include "tests/emulator/faults.h"

#include <utility>

#include "absl/strings/numbers.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_join.h"
#include "absl/strings/str_split.h"
#include "absl/strings/strip.h"

namespace b24emu {
namespace {

struct KindName {
  FaultKind kind;
  const char* name;
};
constexpr KindName kKinds[] = {
    {FaultKind::k500, "500"},       {FaultKind::k502, "502"},
    {FaultKind::k504, "504"},       {FaultKind::kReset, "reset"},
    {FaultKind::kDelay, "delay"},   {FaultKind::kRedirect, "redirect"},
    {FaultKind::kOverload, "overload"}, {FaultKind::kCut, "cut"},
};

}  // namespace

const char* FaultName(FaultKind kind) {
  for (const KindName& k : kKinds) {
    if (k.kind == kind) return k.name;
  }
  return "none";
}

bool FaultPreventsExecution(FaultKind kind) {
  return kind == FaultKind::k502 || kind == FaultKind::kRedirect || kind == FaultKind::kOverload ||
         kind == FaultKind::kCut;
}

absl::StatusOr<FaultSpec> ParseFaultSpec(absl::string_view text) {
  FaultSpec spec;
  text = absl::StripAsciiWhitespace(text);
  if (text.empty() || text == "none") return spec;
  for (absl::string_view item : absl::StrSplit(text, ',', absl::SkipWhitespace())) {
    item = absl::StripAsciiWhitespace(item);
    const size_t eq = item.find('=');
    if (eq == absl::string_view::npos) {
      return absl::InvalidArgumentError(absl::StrCat("fault item without '=': ", item));
    }
    const absl::string_view name = absl::StripAsciiWhitespace(item.substr(0, eq));
    absl::string_view value = absl::StripAsciiWhitespace(item.substr(eq + 1));
    if (name == "method") {
      spec.method = std::string(value);
      continue;
    }
    FaultSpec::Entry entry;
    for (const KindName& k : kKinds) {
      if (name == k.name) entry.kind = k.kind;
    }
    if (entry.kind == FaultKind::kNone) {
      return absl::InvalidArgumentError(absl::StrCat("unknown fault kind: ", name));
    }
    if (absl::ConsumePrefix(&value, "@")) {
      if (!absl::SimpleAtoi(value, &entry.remaining) || entry.remaining < 0) {
        return absl::InvalidArgumentError(absl::StrCat("bad fault count: ", item));
      }
    } else if (!absl::SimpleAtod(value, &entry.probability) || entry.probability < 0 ||
               entry.probability > 1) {
      return absl::InvalidArgumentError(absl::StrCat("bad fault probability: ", item));
    }
    spec.entries.push_back(entry);
  }
  return spec;
}

FaultInjector::FaultInjector(uint64_t seed) : rng_(seed) {}

void FaultInjector::Set(FaultSpec spec) {
  absl::MutexLock lock(&mu_);
  spec_ = std::move(spec);
}

std::string FaultInjector::Describe() const {
  absl::MutexLock lock(&mu_);
  std::vector<std::string> items;
  for (const FaultSpec::Entry& e : spec_.entries) {
    items.push_back(e.remaining >= 0 ? absl::StrCat(FaultName(e.kind), "=@", e.remaining)
                                     : absl::StrCat(FaultName(e.kind), "=", e.probability));
  }
  if (!spec_.method.empty()) items.push_back(absl::StrCat("method=", spec_.method));
  return absl::StrJoin(items, ",");
}

FaultKind FaultInjector::Draw(const std::string& method) {
  absl::MutexLock lock(&mu_);
  if (spec_.entries.empty()) return FaultKind::kNone;
  if (!spec_.method.empty() && spec_.method != method) return FaultKind::kNone;
  for (FaultSpec::Entry& e : spec_.entries) {
    if (e.remaining > 0) {
      --e.remaining;
      return e.kind;
    }
  }
  const double u = std::uniform_real_distribution<double>(0.0, 1.0)(rng_);
  double cumulative = 0;
  for (const FaultSpec::Entry& e : spec_.entries) {
    if (e.remaining >= 0) continue;
    cumulative += e.probability;
    if (u < cumulative) return e.kind;
  }
  return FaultKind::kNone;
}

}  // namespace b24emu
