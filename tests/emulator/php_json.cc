#include "tests/emulator/php_json.h"

#include <charconv>
#include <cmath>
#include <cstdint>
#include <cstdlib>
#include <string_view>
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

void AppendString(std::string& out, std::string_view s) {
  out.push_back('"');
  for (size_t i = 0; i < s.size();) {
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
      default:
        if (c < 0x20) {
          AppendHex4(out, c);
        } else {
          out.push_back(static_cast<char>(c));
        }
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
  std::vector<bool> seen(n, false);
  for (auto it = obj.begin(); it != obj.end(); ++it) {
    const std::string& k = it.key();
    if (!IsPhpIntegerKey(k) || k[0] == '-') return false;
    const long long v = std::atoll(k.c_str());
    if (v < 0 || static_cast<size_t>(v) >= n || seen[v]) return false;
    seen[v] = true;
  }
  return true;
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
      out += std::to_string(v.template get<int64_t>());
      return;
    case nlohmann::json::value_t::number_unsigned:
      out += std::to_string(v.template get<uint64_t>());
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

nlohmann::ordered_json ToPhpOrdered(const nlohmann::json& value) {
  if (value.is_array()) {
    nlohmann::ordered_json out = nlohmann::ordered_json::array();
    for (const auto& e : value) out.push_back(ToPhpOrdered(e));
    return out;
  }
  if (value.is_object()) {
    if (!value.empty() && IsPhpList(value, /*ordered=*/false)) {
      nlohmann::ordered_json out = nlohmann::ordered_json::array();
      for (size_t i = 0; i < value.size(); ++i) out.push_back(ToPhpOrdered(value.at(std::to_string(i))));
      return out;
    }
    nlohmann::ordered_json out = nlohmann::ordered_json::object();
    for (auto it = value.begin(); it != value.end(); ++it) out[it.key()] = ToPhpOrdered(it.value());
    return out;
  }
  return nlohmann::ordered_json(value);
}

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
