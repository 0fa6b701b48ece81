#include "tests/emulator/php_json.h"

#include <charconv>
#include <cmath>
#include <cstdint>
#include <cstdlib>
#include <string_view>
#include <type_traits>
#include <utility>
#include <vector>

#include "tests/emulator/query_parser.h"

namespace b24emu {
namespace {

void AppendHex4(std::string& out, uint32_t v) {
  static constexpr char kHex[] = "0123456789abcdef";
  out += "\\u";
  for (int shift = 12; shift >= 0; shift -= 4) out.push_back(kHex[(v >> shift) & 15]);
}

// Decodes one UTF-8 sequence at s[i]; returns the code point and advances i,
// or returns U+FFFD and skips one byte when the sequence is invalid.
uint32_t NextCodePoint(std::string_view s, size_t& i) {
  const auto byte = [&](size_t k) { return static_cast<unsigned char>(s[k]); };
  const unsigned char c = byte(i);
  int len = 0;
  uint32_t cp = 0;
  if (c >= 0xC2 && c <= 0xDF) {
    len = 2;
    cp = c & 0x1F;
  } else if (c >= 0xE0 && c <= 0xEF) {
    len = 3;
    cp = c & 0x0F;
  } else if (c >= 0xF0 && c <= 0xF4) {
    len = 4;
    cp = c & 0x07;
  } else {
    ++i;
    return 0xFFFD;
  }
  if (i + len > s.size()) {
    ++i;
    return 0xFFFD;
  }
  for (int k = 1; k < len; ++k) {
    const unsigned char cc = byte(i + k);
    if ((cc & 0xC0) != 0x80) {
      ++i;
      return 0xFFFD;
    }
    cp = (cp << 6) | (cc & 0x3F);
  }
  const bool overlong = (len == 3 && cp < 0x800) || (len == 4 && cp < 0x10000);
  if (overlong || cp > 0x10FFFF || (cp >= 0xD800 && cp <= 0xDFFF)) {
    ++i;
    return 0xFFFD;
  }
  i += len;
  return cp;
}

// True for a byte written as it is (printable ASCII but `"`, `\\`, `/`).
bool IsPlain(unsigned char c) { return c >= 0x20 && c < 0x80 && c != '"' && c != '\\' && c != '/'; }

void AppendString(std::string& out, std::string_view s) {
  out.push_back('"');
  for (size_t i = 0; i < s.size();) {
    // Runs of plain bytes (most of a value) are copied whole.
    size_t plain = i;
    while (plain < s.size() && IsPlain(static_cast<unsigned char>(s[plain]))) ++plain;
    out.append(s, i, plain - i);
    i = plain;
    if (i == s.size()) break;
    const unsigned char c = static_cast<unsigned char>(s[i]);
    if (c >= 0x80) {
      const uint32_t cp = NextCodePoint(s, i);
      if (cp >= 0x10000) {
        const uint32_t v = cp - 0x10000;
        AppendHex4(out, 0xD800 + (v >> 10));
        AppendHex4(out, 0xDC00 + (v & 0x3FF));
      } else {
        AppendHex4(out, cp);
      }
      continue;
    }
    ++i;
    switch (c) {
      case '"': out += "\\\""; break;
      case '\\': out += "\\\\"; break;
      case '/': out += "\\/"; break;
      case '\b': out += "\\b"; break;
      case '\f': out += "\\f"; break;
      case '\n': out += "\\n"; break;
      case '\r': out += "\\r"; break;
      case '\t': out += "\\t"; break;
      default: AppendHex4(out, c);  // the other control characters
    }
  }
  out.push_back('"');
}

// Returns true when `obj` should be written as a list. For insertion-ordered
// objects the keys must be "0".."n-1" in order; for sorted ones any order of
// exactly that key set qualifies.
template <typename Json>
bool IsPhpList(const Json& obj, bool ordered) {
  const size_t n = obj.size();
  if (ordered) {
    size_t i = 0;
    for (auto it = obj.begin(); it != obj.end(); ++it, ++i) {
      if (it.key() != std::to_string(i)) return false;
    }
    return true;
  }
  // Keys first, with nothing allocated: most maps (every row) fail here.
  for (auto it = obj.begin(); it != obj.end(); ++it) {
    const std::string& k = it.key();
    if (!IsPhpIntegerKey(k) || k[0] == '-') return false;
  }
  std::vector<bool> seen(n, false);
  for (auto it = obj.begin(); it != obj.end(); ++it) {
    const std::string& k = it.key();
    const long long v = std::atoll(k.c_str());
    if (v < 0 || static_cast<size_t>(v) >= n || seen[v]) return false;
    seen[v] = true;
  }
  return true;
}

template <typename Integer>
void AppendInteger(std::string& out, Integer v) {
  char buf[24];
  const auto res = std::to_chars(buf, buf + sizeof(buf), v);
  out.append(buf, res.ptr);
}

template <typename Json>
void Encode(std::string& out, const Json& v, bool ordered) {
  switch (v.type()) {
    case nlohmann::json::value_t::null:
    case nlohmann::json::value_t::discarded:
      out += "null";
      return;
    case nlohmann::json::value_t::boolean:
      out += v.template get<bool>() ? "true" : "false";
      return;
    case nlohmann::json::value_t::number_integer:
      AppendInteger(out, v.template get<int64_t>());
      return;
    case nlohmann::json::value_t::number_unsigned:
      AppendInteger(out, v.template get<uint64_t>());
      return;
    case nlohmann::json::value_t::number_float:
      out += PhpFormatDouble(v.template get<double>());
      return;
    case nlohmann::json::value_t::string:
      AppendString(out, v.template get_ref<const std::string&>());
      return;
    case nlohmann::json::value_t::binary:
      out += "null";
      return;
    case nlohmann::json::value_t::array: {
      out.push_back('[');
      bool first = true;
      for (const auto& e : v) {
        if (!first) out.push_back(',');
        first = false;
        Encode(out, e, ordered);
      }
      out.push_back(']');
      return;
    }
    case nlohmann::json::value_t::object: {
      if (IsPhpList(v, ordered)) {
        out.push_back('[');
        for (size_t i = 0; i < v.size(); ++i) {
          if (i > 0) out.push_back(',');
          Encode(out, v.at(std::to_string(i)), ordered);
        }
        out.push_back(']');
        return;
      }
      out.push_back('{');
      bool first = true;
      for (auto it = v.begin(); it != v.end(); ++it) {
        if (!first) out.push_back(',');
        first = false;
        AppendString(out, it.key());
        out.push_back(':');
        Encode(out, it.value(), ordered);
      }
      out.push_back('}');
      return;
    }
  }
}

}  // namespace

std::string PhpFormatDouble(double value) {
  if (!std::isfinite(value)) return "0";  // PHP refuses to encode these
  if (value == 0) return std::signbit(value) ? "-0" : "0";
  // Shortest round-trip digits, as PHP's zend_gcvt in mode 0.
  char buf[64];
  auto res = std::to_chars(buf, buf + sizeof(buf), std::fabs(value), std::chars_format::scientific);
  std::string_view sci(buf, res.ptr - buf);  // "d.ddde+XX"
  const size_t e = sci.find('e');
  std::string digits;
  for (char c : sci.substr(0, e)) {
    if (c != '.') digits.push_back(c);
  }
  while (digits.size() > 1 && digits.back() == '0') digits.pop_back();
  const int exponent = std::atoi(std::string(sci.substr(e + 1)).c_str());
  const int decpt = exponent + 1;  // position of the decimal point in `digits`

  std::string out = value < 0 ? "-" : "";
  // php_gcvt in mode 0 (ndigit 17): exponent form when decpt < -3 or > 17.
  if (decpt < -3 || decpt > 17) {
    out.push_back(digits[0]);
    out.push_back('.');
    out += digits.size() > 1 ? digits.substr(1) : "0";
    out += exponent < 0 ? "e-" : "e+";
    out += std::to_string(std::abs(exponent));
    return out;
  }
  if (decpt <= 0) {
    out += "0.";
    out.append(static_cast<size_t>(-decpt), '0');
    out += digits;
    return out;
  }
  if (static_cast<size_t>(decpt) >= digits.size()) {
    out += digits;
    out.append(decpt - digits.size(), '0');
    return out;
  }
  out += digits.substr(0, decpt);
  out.push_back('.');
  out += digits.substr(decpt);
  return out;
}

namespace {

// ToPhpOrdered of `value` (a const or a spent nlohmann::json): a spent one's
// strings are moved, not copied. Containers are made at their final size:
// an ordered object's keys are const, so one that grows copies its values.
template <typename Json>
nlohmann::ordered_json Ordered(Json& value) {
  using OJson = nlohmann::ordered_json;
  if (value.is_array()) {
    OJson out = OJson::array();
    out.template get_ref<OJson::array_t&>().reserve(value.size());
    for (auto& e : value) out.push_back(Ordered(e));
    return out;
  }
  if (value.is_object()) {
    if (!value.empty() && IsPhpList(value, /*ordered=*/false)) {
      OJson out = OJson::array();
      out.template get_ref<OJson::array_t&>().reserve(value.size());
      for (size_t i = 0; i < value.size(); ++i) out.push_back(Ordered(value.at(std::to_string(i))));
      return out;
    }
    OJson out = OJson::object();
    auto& fields = out.template get_ref<OJson::object_t&>();
    fields.reserve(value.size());
    // A sorted map's keys are unique: appended without a lookup.
    for (auto it = value.begin(); it != value.end(); ++it) fields.emplace_back(it.key(), Ordered(it.value()));
    return out;
  }
  if constexpr (!std::is_const_v<Json>) {
    if (value.is_string()) return OJson(std::move(value.template get_ref<std::string&>()));
  }
  return OJson(value);
}

}  // namespace

nlohmann::ordered_json ToPhpOrdered(const nlohmann::json& value) { return Ordered(value); }

nlohmann::ordered_json ToPhpOrdered(nlohmann::json&& value) { return Ordered(value); }

std::string PhpJsonEncode(const nlohmann::ordered_json& value) {
  std::string out;
  Encode(out, value, /*ordered=*/true);
  return out;
}

std::string PhpJsonEncode(const nlohmann::json& value) {
  std::string out;
  Encode(out, value, /*ordered=*/false);
  return out;
}

}  // namespace b24emu
