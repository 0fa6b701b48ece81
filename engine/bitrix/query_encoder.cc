#include "engine/bitrix/query_encoder.h"

#include <cmath>
#include <cstdio>
#include <string>

namespace b24gate {
namespace {

// PHP's `precision` ini default; http_build_query() prints floats with it.
constexpr int kPhpPrecision = 14;

bool IsUnreserved(unsigned char c) {
  return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') ||
         (c >= '0' && c <= '9') || c == '-' || c == '_' || c == '.';
}

// Mirrors PHP's php_gcvt(value, 14, '.', 'E'): the value correctly rounded
// to 14 significant digits, trailing zeros dropped, in plain notation unless
// the decimal exponent is above 14 or below -4.
std::string PhpFloatToString(double value) {
  if (std::isnan(value)) return "NAN";
  if (std::isinf(value)) return value < 0 ? "-INF" : "INF";
  // "%.13e" yields d.ddddddddddddde±XX, correctly rounded like zend_dtoa
  // mode 2 (both round the exact binary value, ties to even).
  char buf[64];
  std::snprintf(buf, sizeof(buf), "%.*e", kPhpPrecision - 1, value);
  std::string text(buf);
  std::string out;
  size_t pos = 0;
  if (text[pos] == '-') {
    out.push_back('-');
    ++pos;
  }
  std::string digits;
  size_t e_pos = text.find('e', pos);
  for (size_t i = pos; i < e_pos; ++i) {
    if (text[i] != '.') digits.push_back(text[i]);
  }
  int exponent = std::stoi(text.substr(e_pos + 1));
  while (digits.size() > 1 && digits.back() == '0') digits.pop_back();
  // zend_dtoa reports zero as "0" with the decimal point after it.
  int decpt = digits == "0" ? 1 : exponent + 1;

  if (decpt > kPhpPrecision || decpt < -3) {
    int exp10 = decpt - 1;
    out.push_back(digits[0]);
    out.push_back('.');
    out += digits.size() > 1 ? digits.substr(1) : "0";
    out.push_back('E');
    out.push_back(exp10 < 0 ? '-' : '+');
    out += std::to_string(exp10 < 0 ? -exp10 : exp10);
  } else if (decpt <= 0) {
    out += "0.";
    out.append(static_cast<size_t>(-decpt), '0');
    out += digits;
  } else {
    for (int i = 0; i < decpt; ++i) {
      out.push_back(static_cast<size_t>(i) < digits.size() ? digits[i] : '0');
    }
    if (digits.size() > static_cast<size_t>(decpt)) {
      out.push_back('.');
      out += digits.substr(decpt);
    }
  }
  return out;
}

// The text PHP gives a scalar in a query string; false for null (dropped).
bool ScalarText(const nlohmann::ordered_json& value, std::string* text) {
  switch (value.type()) {
    case nlohmann::ordered_json::value_t::string:
      *text = value.get_ref<const std::string&>();
      return true;
    case nlohmann::ordered_json::value_t::boolean:
      *text = value.get<bool>() ? "1" : "0";
      return true;
    case nlohmann::ordered_json::value_t::number_integer:
      *text = std::to_string(value.get<int64_t>());
      return true;
    case nlohmann::ordered_json::value_t::number_unsigned:
      *text = std::to_string(value.get<uint64_t>());
      return true;
    case nlohmann::ordered_json::value_t::number_float:
      *text = PhpFloatToString(value.get<double>());
      return true;
    default:
      return false;  // null, discarded, binary: PHP has nothing to print.
  }
}

void AppendPair(const std::string& encoded_key, const nlohmann::ordered_json& value,
                std::string* out);

// `prefix` is already URL-encoded; children become prefix%5Bkey%5D. The top
// level is told by `top`, not by an empty prefix: under an empty key ("")
// children stay nested (%5Bkey%5D, as PHP writes them) instead of becoming
// top-level parameters.
void AppendChildren(const std::string& prefix, const nlohmann::ordered_json& container,
                    std::string* out, bool top = false) {
  if (container.is_array()) {
    for (size_t i = 0; i < container.size(); ++i) {
      std::string key = std::to_string(i);
      AppendPair(top ? key : prefix + "%5B" + key + "%5D", container[i], out);
    }
    return;
  }
  for (const auto& [key, child] : container.items()) {
    std::string encoded = UrlEncode(key);
    AppendPair(top ? encoded : prefix + "%5B" + encoded + "%5D", child, out);
  }
}

void AppendPair(const std::string& encoded_key, const nlohmann::ordered_json& value,
                std::string* out) {
  if (value.is_structured()) {
    AppendChildren(encoded_key, value, out);
    return;
  }
  std::string text;
  if (!ScalarText(value, &text)) return;
  if (!out->empty()) out->push_back('&');
  *out += encoded_key;
  out->push_back('=');
  *out += UrlEncode(text);
}

bool ContainsNull(const nlohmann::ordered_json& value) {
  if (value.is_null()) return true;
  if (!value.is_structured()) return false;
  for (const auto& child : value) {
    if (ContainsNull(child)) return true;
  }
  return false;
}

// FindBatchReference's search; the path comes as ".key" / "[i]" steps.
std::optional<std::string> ReferencePath(const nlohmann::ordered_json& value) {
  constexpr const char* kMark = "$result";
  if (value.is_string()) {
    if (value.get_ref<const std::string&>().find(kMark) == std::string::npos) return std::nullopt;
    return "";
  }
  if (value.is_array()) {
    for (size_t i = 0; i < value.size(); ++i) {
      if (auto inner = ReferencePath(value[i])) return "[" + std::to_string(i) + "]" + *inner;
    }
  } else if (value.is_object()) {
    for (const auto& [key, child] : value.items()) {
      if (key.find(kMark) != std::string::npos) return "." + key;
      if (auto inner = ReferencePath(child)) return "." + key + *inner;
    }
  }
  return std::nullopt;
}

}  // namespace

std::string UrlEncode(const std::string& text) {
  static constexpr char kHex[] = "0123456789ABCDEF";
  std::string out;
  out.reserve(text.size() * 3);
  for (unsigned char c : text) {
    if (IsUnreserved(c)) {
      out.push_back(static_cast<char>(c));
    } else if (c == ' ') {
      out.push_back('+');
    } else {
      out.push_back('%');
      out.push_back(kHex[c >> 4]);
      out.push_back(kHex[c & 0x0F]);
    }
  }
  return out;
}

std::string HttpBuildQuery(const nlohmann::ordered_json& params) {
  std::string out;
  if (params.is_structured()) AppendChildren("", params, &out, /*top=*/true);
  return out;
}

bool ContainsNullOrTopLevelList(const nlohmann::ordered_json& params) {
  return params.is_array() || ContainsNull(params);
}

std::optional<std::string> FindBatchReference(const nlohmann::ordered_json& params) {
  std::optional<std::string> at = ReferencePath(params);
  if (at && !at->empty() && (*at)[0] == '.') at->erase(0, 1);
  return at;
}

}  // namespace b24gate
