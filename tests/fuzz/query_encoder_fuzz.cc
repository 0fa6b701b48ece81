// Fuzzes the PHP-style query-string encoder (HttpBuildQuery, UrlEncode) with
// a round-trip property: whatever keys and values a caller sends, each one
// stays data inside its own parameter.
//
// Input: a JSON document; bytes that are not JSON are used as raw keys and
// values ({"k": BYTES, "filter": {BYTES: BYTES}} and {BYTES: "v"}), so
// arbitrary bytes (NUL, CR/LF, invalid UTF-8) reach the encoder too.
//
// Checked for every input:
//   - the output holds only unreserved characters, "+", "%XX" (upper-case
//     hex) and the separators "&" and "=": no raw "?", "#", "/", "[", CR, LF,
//     NUL... that a server could read as structure;
//   - split on "&" it has exactly one pair per non-null scalar, in order, and
//     each pair exactly one "=";
//   - decoded with the minimal PHP-style decoder below (independent of the
//     engine's), each key is the scalar's path written key[sub][sub] -- so it
//     starts with its own top-level parameter -- and each value its text;
//   - the engine's own ParseQueryString reads the same leaves back, when no
//     key holds a bracket or is empty (those are PHP syntax, not data);
//   - UrlDecode(UrlEncode(bytes)) == bytes.
#include <algorithm>
#include <cstddef>
#include <cstdint>
#include <cstdlib>
#include <cmath>
#include <string>
#include <utility>
#include <vector>

#include <nlohmann/json.hpp>

#include "absl/strings/str_split.h"
#include "engine/bitrix/query_encoder.h"
#include "engine/bitrix/query_parser.h"
#include "tests/fuzz/fuzz_check.h"

namespace {

using Json = nlohmann::ordered_json;
using Path = std::vector<std::string>;

struct Leaf {
  Path path;
  const Json* value;
};

// The scalars that PHP's http_build_query prints, in its order.
void Leaves(const Json& node, Path* path, std::vector<Leaf>* out) {
  if (node.is_array()) {
    for (size_t i = 0; i < node.size(); ++i) {
      path->push_back(std::to_string(i));
      Leaves(node[i], path, out);
      path->pop_back();
    }
  } else if (node.is_object()) {
    for (const auto& [key, child] : node.items()) {
      path->push_back(key);
      Leaves(child, path, out);
      path->pop_back();
    }
  } else if (!node.is_null() && !path->empty()) {
    out->push_back({*path, &node});
  }
}

bool HasStructuralKey(const Json& node) {
  if (node.is_array()) {
    for (const Json& child : node) {
      if (HasStructuralKey(child)) return true;
    }
  } else if (node.is_object()) {
    for (const auto& [key, child] : node.items()) {
      if (key.empty() || key.find_first_of("[]") != std::string::npos) return true;
      if (HasStructuralKey(child)) return true;
    }
  }
  return false;
}

int Hex(char c) {
  if (c >= '0' && c <= '9') return c - '0';
  if (c >= 'A' && c <= 'F') return c - 'A' + 10;
  return -1;  // the encoder writes upper-case hex only
}

// PHP urldecode, strict: a "%" must start a complete upper-case escape.
std::string Decode(const std::string& text) {
  std::string out;
  for (size_t i = 0; i < text.size(); ++i) {
    if (text[i] == '+') {
      out.push_back(' ');
    } else if (text[i] == '%') {
      FUZZ_CHECK(i + 2 < text.size() && Hex(text[i + 1]) >= 0 && Hex(text[i + 2]) >= 0,
                 "bad escape in " + text);
      out.push_back(static_cast<char>(Hex(text[i + 1]) * 16 + Hex(text[i + 2])));
      i += 2;
    } else {
      out.push_back(text[i]);
    }
  }
  return out;
}

bool AllowedInQuery(unsigned char c) {
  return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') ||
         c == '-' || c == '_' || c == '.' || c == '+' || c == '%' || c == '&' || c == '=';
}

std::string BracketPath(const Path& path) {
  std::string out = path[0];
  for (size_t i = 1; i < path.size(); ++i) out += "[" + path[i] + "]";
  return out;
}

void CheckValueText(const Json& value, const std::string& text) {
  if (value.is_string()) {
    FUZZ_CHECK(text == value.get_ref<const std::string&>(), "string value changed");
  } else if (value.is_boolean()) {
    FUZZ_CHECK(text == (value.get<bool>() ? "1" : "0"), "bool printed as " + text);
  } else if (value.is_number_integer()) {
    FUZZ_CHECK(text == value.dump(), "integer printed as " + text);
  } else if (value.is_number_float()) {
    // PHP prints 14 significant digits: the text must read back as nearly
    // the same number.
    char* end = nullptr;
    double back = std::strtod(text.c_str(), &end);
    FUZZ_CHECK(end != text.c_str() && *end == '\0', "float printed as " + text);
    double want = value.get<double>();
    FUZZ_CHECK(std::fabs(back - want) <= 1e-13 * std::fabs(want) + 1e-300 || back == want,
               "float " + value.dump() + " printed as " + text);
  }
}

// Flattens ParseQueryString's answer (lists written as index keys) into
// "a[b][0]" -> value text.
void Flatten(const Json& node, const std::string& prefix, std::vector<std::pair<std::string, std::string>>* out) {
  if (node.is_structured()) {
    size_t i = 0;
    for (auto it = node.begin(); it != node.end(); ++it, ++i) {
      std::string key = node.is_array() ? std::to_string(i) : it.key();
      Flatten(*it, prefix.empty() ? key : prefix + "[" + key + "]", out);
    }
    return;
  }
  FUZZ_CHECK(node.is_string(), "parser produced a non-string scalar");
  out->push_back({prefix, node.get<std::string>()});
}

void CheckQuery(const Json& params) {
  const std::string query = b24gate::HttpBuildQuery(params);
  for (size_t i = 0; i < query.size(); ++i) {
    FUZZ_CHECK(AllowedInQuery(static_cast<unsigned char>(query[i])),
               "raw byte " + std::to_string(static_cast<unsigned char>(query[i])) +
                   " in query at " + std::to_string(i));
  }

  Path path;
  std::vector<Leaf> leaves;
  Leaves(params, &path, &leaves);
  std::vector<std::string> pairs = query.empty() ? std::vector<std::string>{}
                                                 : absl::StrSplit(query, '&');
  FUZZ_CHECK(pairs.size() == leaves.size(),
             "expected " + std::to_string(leaves.size()) + " pairs, got " +
                 std::to_string(pairs.size()) + ": " + query);
  std::vector<std::pair<std::string, std::string>> decoded;
  for (size_t i = 0; i < pairs.size(); ++i) {
    std::vector<std::string> kv = absl::StrSplit(pairs[i], '=');
    FUZZ_CHECK(kv.size() == 2, "pair without exactly one '=': " + pairs[i]);
    std::string key = Decode(kv[0]);
    std::string value = Decode(kv[1]);
    FUZZ_CHECK(key == BracketPath(leaves[i].path), "key escaped its path: " + key);
    CheckValueText(*leaves[i].value, value);
    decoded.push_back({key, value});
  }

  // The engine's parser (used for "method?query" batch commands) must read
  // the same leaves; with brackets or empty names in keys PHP's syntax
  // decides, not the data.
  if (HasStructuralKey(params)) return;
  absl::StatusOr<Json> parsed = b24gate::ParseQueryString(query);
  FUZZ_CHECK(parsed.ok(), "ParseQueryString refused encoder output: " +
                              std::string(parsed.status().message()));
  std::vector<std::pair<std::string, std::string>> reread;
  Flatten(*parsed, "", &reread);
  // Lists are rebuilt in index order, so compare as sets.
  std::sort(decoded.begin(), decoded.end());
  std::sort(reread.begin(), reread.end());
  FUZZ_CHECK(decoded == reread, "ParseQueryString read different leaves from " + query);
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  const std::string bytes(reinterpret_cast<const char*>(data), size);

  absl::StatusOr<std::string> round = b24gate::UrlDecode(b24gate::UrlEncode(bytes));
  FUZZ_CHECK(round.ok() && *round == bytes, "UrlDecode(UrlEncode(x)) != x");

  Json params = Json::parse(bytes, nullptr, /*allow_exceptions=*/false);
  if (!params.is_discarded()) {
    CheckQuery(params);
    return 0;
  }
  Json as_value = Json::object();
  as_value["k"] = bytes;
  as_value["filter"] = Json::object();
  as_value["filter"][bytes] = bytes;
  CheckQuery(as_value);
  Json as_key = Json::object();
  as_key[bytes] = "v";
  CheckQuery(as_key);
  return 0;
}
