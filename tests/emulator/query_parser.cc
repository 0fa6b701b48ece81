#include "tests/emulator/query_parser.h"

#include <cstdint>
#include <optional>
#include <unordered_map>
#include <utility>
#include <vector>

namespace b24emu {

namespace {

int HexDigit(char c) {
  if (c >= '0' && c <= '9') return c - '0';
  if (c >= 'a' && c <= 'f') return c - 'a' + 10;
  if (c >= 'A' && c <= 'F') return c - 'A' + 10;
  return -1;
}

}  // namespace

std::string UrlDecode(std::string_view s) {
  std::string out;
  out.reserve(s.size());
  for (size_t i = 0; i < s.size(); ++i) {
    const char c = s[i];
    if (c == '+') {
      out.push_back(' ');
    } else if (c == '%' && i + 2 < s.size() && HexDigit(s[i + 1]) >= 0 && HexDigit(s[i + 2]) >= 0) {
      out.push_back(static_cast<char>(HexDigit(s[i + 1]) * 16 + HexDigit(s[i + 2])));
      i += 2;
    } else {
      out.push_back(c);
    }
  }
  return out;
}

std::string UrlEncode(std::string_view s) {
  static constexpr char kHex[] = "0123456789ABCDEF";
  std::string out;
  out.reserve(s.size() * 3);
  for (unsigned char c : s) {
    const bool unreserved = (c >= 'A' && c <= 'Z') || (c >= 'a' && c <= 'z') ||
                            (c >= '0' && c <= '9') || c == '-' || c == '_' || c == '.' ||
                            c == '~';
    if (unreserved) {
      out.push_back(static_cast<char>(c));
    } else {
      out.push_back('%');
      out.push_back(kHex[c >> 4]);
      out.push_back(kHex[c & 15]);
    }
  }
  return out;
}

bool IsPhpIntegerKey(std::string_view key) {
  size_t i = 0;
  if (!key.empty() && key[0] == '-') i = 1;
  if (i >= key.size()) return false;
  if (key[i] == '0') return key.size() == 1;  // "0" only; "-0" and "01" are strings
  if (key.size() - i > 18) return false;      // must fit a 64-bit PHP int
  for (size_t j = i; j < key.size(); ++j) {
    if (key[j] < '0' || key[j] > '9') return false;
  }
  return true;
}

// A PHP value: a string, or an ordered array with PHP's "next free index".
struct PhpParamsBuilder::Node {
  bool is_map = false;
  std::string scalar;
  std::vector<std::pair<std::string, std::unique_ptr<Node>>> entries;
  std::unordered_map<std::string, size_t> index;
  int64_t next_index = 0;

  void MakeMap() {
    if (is_map) return;
    is_map = true;
    scalar.clear();
  }

  // Returns the child under `key`; a null key appends at next_index.
  Node* Child(const std::string* key) {
    std::string k = key != nullptr ? *key : std::to_string(next_index);
    if (IsPhpIntegerKey(k)) {
      const int64_t n = std::stoll(k);
      if (n >= next_index) next_index = n + 1;
    }
    auto it = index.find(k);
    if (it != index.end()) return entries[it->second].second.get();
    index.emplace(k, entries.size());
    entries.emplace_back(std::move(k), std::make_unique<Node>());
    return entries.back().second.get();
  }

  nlohmann::ordered_json ToJson() const {
    if (!is_map) return scalar;
    bool is_list = true;
    for (size_t i = 0; i < entries.size() && is_list; ++i) {
      is_list = entries[i].first == std::to_string(i);
    }
    if (is_list) {
      nlohmann::ordered_json arr = nlohmann::ordered_json::array();
      for (const auto& [k, v] : entries) arr.push_back(v->ToJson());
      return arr;
    }
    nlohmann::ordered_json obj = nlohmann::ordered_json::object();
    for (const auto& [k, v] : entries) obj[k] = v->ToJson();
    return obj;
  }
};

PhpParamsBuilder::PhpParamsBuilder() : root_(std::make_unique<Node>()) { root_->MakeMap(); }
PhpParamsBuilder::~PhpParamsBuilder() = default;

void PhpParamsBuilder::Add(std::string_view name, std::string value) {
  // PHP skips leading spaces of a variable name.
  while (!name.empty() && name.front() == ' ') name.remove_prefix(1);

  // Split into the base name and bracketed segments. A null segment is "[]".
  std::string base;
  std::vector<std::optional<std::string>> segments;
  const size_t open = name.find('[');
  const size_t first_close = open == std::string_view::npos ? open : name.find(']', open);
  if (open == std::string_view::npos || first_close == std::string_view::npos) {
    // No array syntax (an unmatched '[' turns into '_' like ' ' and '.').
    base.assign(name);
    for (char& c : base) {
      if (c == ' ' || c == '.' || c == '[') c = '_';
    }
  } else {
    base.assign(name.substr(0, open));
    for (char& c : base) {
      if (c == ' ' || c == '.') c = '_';
    }
    size_t pos = open;
    while (pos < name.size() && name[pos] == '[') {
      const size_t close = name.find(']', pos + 1);
      if (close == std::string_view::npos) break;  // deeper unmatched '[': ignore the rest
      if (close == pos + 1) {
        segments.emplace_back(std::nullopt);
      } else {
        segments.emplace_back(std::string(name.substr(pos + 1, close - pos - 1)));
      }
      pos = close + 1;  // anything after a ']' that is not '[' is dropped, as in PHP
    }
  }
  if (base.empty()) return;

  Node* node = root_->Child(&base);
  for (const auto& segment : segments) {
    node->MakeMap();
    node = node->Child(segment ? &*segment : nullptr);
  }
  if (node->is_map) {
    // PHP overwrites an array with a scalar when the same name repeats.
    *node = Node();
  }
  node->scalar = std::move(value);
}

nlohmann::ordered_json PhpParamsBuilder::Build() const {
  if (root_->entries.empty()) return nlohmann::ordered_json::object();
  return root_->ToJson();
}

nlohmann::ordered_json ParsePhpQuery(std::string_view query) {
  PhpParamsBuilder builder;
  size_t pos = 0;
  while (pos <= query.size()) {
    size_t amp = query.find('&', pos);
    if (amp == std::string_view::npos) amp = query.size();
    const std::string_view pair = query.substr(pos, amp - pos);
    if (!pair.empty()) {
      const size_t eq = pair.find('=');
      if (eq == std::string_view::npos) {
        builder.Add(UrlDecode(pair), "");
      } else {
        builder.Add(UrlDecode(pair.substr(0, eq)), UrlDecode(pair.substr(eq + 1)));
      }
    }
    pos = amp + 1;
  }
  return builder.Build();
}

}  // namespace b24emu
