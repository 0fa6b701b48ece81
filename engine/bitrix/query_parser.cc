#include "engine/bitrix/query_parser.h"

#include <vector>

#include "absl/strings/str_cat.h"
#include "absl/strings/str_split.h"
#include "engine/common/field_text.h"

namespace b24gate {
namespace {

int HexValue(char c) {
  if (c >= '0' && c <= '9') return c - '0';
  if (c >= 'a' && c <= 'f') return c - 'a' + 10;
  if (c >= 'A' && c <= 'F') return c - 'A' + 10;
  return -1;
}

// Lists whose keys were written as 0..n-1 become JSON arrays, recursively.
void Listify(nlohmann::ordered_json* v) {
  if (!v->is_object()) return;
  for (auto& [key, child] : v->items()) Listify(&child);
  std::vector<nlohmann::ordered_json> list;
  for (size_t i = 0; i < v->size(); ++i) {
    auto it = v->find(std::to_string(i));
    if (it == v->end()) return;
    list.push_back(*it);
  }
  if (!list.empty()) *v = nlohmann::ordered_json(list);
}

}  // namespace

absl::StatusOr<std::string> UrlDecode(absl::string_view text) {
  std::string out;
  out.reserve(text.size());
  for (size_t i = 0; i < text.size(); ++i) {
    char c = text[i];
    if (c == '+') {
      out.push_back(' ');
    } else if (c == '%') {
      if (i + 2 >= text.size()) {
        return absl::InvalidArgumentError(
            absl::StrCat("truncated %-escape in \"", EchoText(text), "\""));
      }
      int hi = HexValue(text[i + 1]);
      int lo = HexValue(text[i + 2]);
      if (hi < 0 || lo < 0) {
        return absl::InvalidArgumentError(
            absl::StrCat("bad %-escape in \"", EchoText(text), "\""));
      }
      out.push_back(static_cast<char>(hi * 16 + lo));
      i += 2;
    } else {
      out.push_back(c);
    }
  }
  return out;
}

absl::StatusOr<nlohmann::ordered_json> ParseQueryString(absl::string_view query) {
  nlohmann::ordered_json root = nlohmann::ordered_json::object();
  for (absl::string_view pair : absl::StrSplit(query, '&', absl::SkipEmpty())) {
    size_t eq = pair.find('=');
    absl::StatusOr<std::string> key = UrlDecode(pair.substr(0, eq));
    if (!key.ok()) return key.status();
    absl::StatusOr<std::string> value =
        UrlDecode(eq == absl::string_view::npos ? "" : pair.substr(eq + 1));
    if (!value.ok()) return value.status();
    // "a[b][]" -> base "a", path ["b", ""].
    size_t open = key->find('[');
    std::string base = key->substr(0, open);
    if (base.empty()) {
      return absl::InvalidArgumentError(
          absl::StrCat("parameter without a name in \"", EchoText(query), "\""));
    }
    std::vector<std::string> path;
    while (open != std::string::npos) {
      size_t close = key->find(']', open);
      if (close == std::string::npos) {
        // Quotes the key as written: decoded, it may not be UTF-8.
        return absl::InvalidArgumentError(
            absl::StrCat("unbalanced '[' in \"", EchoText(pair.substr(0, eq)), "\""));
      }
      path.push_back(key->substr(open + 1, close - open - 1));
      open = key->find('[', close);
    }
    nlohmann::ordered_json* node = &root[base];
    for (const std::string& part : path) {
      if (!node->is_object()) *node = nlohmann::ordered_json::object();
      std::string k = part.empty() ? std::to_string(node->size()) : part;
      node = &(*node)[k];
    }
    *node = *value;
  }
  Listify(&root);
  if (root.is_array()) {
    // Top-level numeric keys ("0=..&1=..") stay an object keyed "0", "1":
    // callers treat them as named parameters.
    nlohmann::ordered_json obj = nlohmann::ordered_json::object();
    for (size_t i = 0; i < root.size(); ++i) obj[std::to_string(i)] = root[i];
    return obj;
  }
  return root;
}

}  // namespace b24gate
