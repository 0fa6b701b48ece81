#include "data/values.h"

#include <cmath>
#include <cstdio>
#include <cstdlib>

#include "absl/strings/ascii.h"
#include "absl/strings/numbers.h"
#include "absl/strings/str_format.h"

namespace b24emu::data {
namespace {

const absl::TimeZone& PortalZone() {
  static const absl::TimeZone* zone =
      new absl::TimeZone(absl::FixedTimeZone(kPortalUtcOffsetSeconds));
  return *zone;
}

}  // namespace

std::optional<double> ParseNumber(absl::string_view text) {
  double v;
  text = absl::StripAsciiWhitespace(text);
  if (text.empty() || !absl::SimpleAtod(text, &v)) return std::nullopt;
  return v;
}

std::optional<int64_t> ParseInteger(absl::string_view text) {
  int64_t v;
  if (!absl::SimpleAtoi(absl::StripAsciiWhitespace(text), &v)) return std::nullopt;
  return v;
}

std::optional<int64_t> ParseDateTime(absl::string_view text) {
  std::string s(absl::StripAsciiWhitespace(text));
  int y = 0, mo = 0, d = 0, h = 0, mi = 0, sec = 0, oh = 0, om = 0;
  char sign = 0;
  bool has_offset = false;
  if (std::sscanf(s.c_str(), "%4d-%2d-%2d", &y, &mo, &d) == 3) {
    if (s.size() > 10) {
      int n = std::sscanf(s.c_str() + 11, "%2d:%2d:%2d", &h, &mi, &sec);
      if (n < 2) return std::nullopt;
      size_t p = 11 + (n == 3 ? 8 : 5);
      if (p < s.size() && (s[p] == '+' || s[p] == '-')) {
        sign = s[p];
        if (std::sscanf(s.c_str() + p + 1, "%2d:%2d", &oh, &om) < 1) return std::nullopt;
        has_offset = true;
      } else if (p < s.size() && s[p] == 'Z') {
        has_offset = true;
        sign = '+';
      }
    }
  } else if (std::sscanf(s.c_str(), "%2d.%2d.%4d %2d:%2d:%2d", &d, &mo, &y, &h, &mi, &sec) >= 3) {
  } else {
    return std::nullopt;
  }
  if (mo < 1 || mo > 12 || d < 1 || d > 31) return std::nullopt;
  absl::TimeZone zone = PortalZone();
  if (has_offset) zone = absl::FixedTimeZone((sign == '-' ? -1 : 1) * (oh * 3600 + om * 60));
  absl::Time t = absl::FromCivil(absl::CivilSecond(y, mo, d, h, mi, sec), zone);
  return absl::ToUnixSeconds(t);
}

std::string FormatDateTime(absl::Time t) {
  return absl::FormatTime("%Y-%m-%dT%H:%M:%S%Ez", t, PortalZone());
}

std::string FormatDateTime(int64_t unix_seconds) {
  return FormatDateTime(absl::FromUnixSeconds(unix_seconds));
}

std::string FormatDate(int64_t unix_seconds) {
  absl::CivilDay day =
      absl::ToCivilDay(absl::FromUnixSeconds(unix_seconds), PortalZone());
  return FormatDateTime(absl::FromCivil(day, PortalZone()));
}

std::string FormatMoney(double v) { return absl::StrFormat("%.2f", v); }

std::optional<std::string> ScalarText(const nlohmann::json& v) {
  if (v.is_string()) return v.get<std::string>();
  if (v.is_boolean()) return std::string(v.get<bool>() ? "Y" : "N");
  if (v.is_number_integer()) return std::to_string(v.get<int64_t>());
  if (v.is_number_float()) {
    double d = v.get<double>();
    if (std::floor(d) == d && std::fabs(d) < 1e15) return std::to_string(static_cast<int64_t>(d));
    return absl::StrFormat("%.15g", d);
  }
  return std::nullopt;
}

std::optional<int64_t> JsonToInt(const nlohmann::json& v) {
  if (v.is_number_integer()) return v.get<int64_t>();
  if (v.is_number_float()) {
    double d = v.get<double>();
    if (std::floor(d) == d) return static_cast<int64_t>(d);
    return std::nullopt;
  }
  if (v.is_string()) return ParseInteger(v.get<std::string>());
  return std::nullopt;
}

std::optional<std::string> NormaliseInput(const nlohmann::json& v, FieldType type) {
  if (v.is_null()) return std::nullopt;
  if (type == FieldType::kIntegerList && v.is_array()) {
    std::string out;
    for (const auto& e : v) {
      auto i = JsonToInt(e);
      if (!i) continue;
      if (!out.empty()) out += ',';
      out += std::to_string(*i);
    }
    if (out.empty()) return std::nullopt;
    return out;
  }
  std::optional<std::string> text = ScalarText(v);
  if (!text || text->empty()) return std::nullopt;
  switch (type) {
    case FieldType::kDouble: {
      auto d = ParseNumber(*text);
      return d ? FormatMoney(*d) : std::optional<std::string>();
    }
    case FieldType::kInteger:
    case FieldType::kUser:
    case FieldType::kCrmCategory:
    case FieldType::kCrmLead:
    case FieldType::kCrmCompany:
    case FieldType::kCrmContact:
    case FieldType::kCrmDeal: {
      auto d = ParseNumber(*text);
      if (!d) return std::nullopt;
      return std::to_string(static_cast<int64_t>(*d));
    }
    case FieldType::kChar:
    case FieldType::kBoolean: {
      std::string l = absl::AsciiStrToLower(*text);
      return std::string(l == "y" || l == "1" || l == "true" ? "Y" : "N");
    }
    case FieldType::kDateTime: {
      auto t = ParseDateTime(*text);
      return t ? FormatDateTime(*t) : *text;
    }
    case FieldType::kDate: {
      auto t = ParseDateTime(*text);
      return t ? FormatDate(*t) : *text;
    }
    default:
      return text;
  }
}

}  // namespace b24emu::data
