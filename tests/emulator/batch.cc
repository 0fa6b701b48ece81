#include "tests/emulator/batch.h"

#include <cstdlib>
#include <cstring>
#include <optional>
#include <string_view>

#include "absl/strings/ascii.h"
#include "absl/strings/match.h"
#include "absl/strings/strip.h"
#include "tests/emulator/php_json.h"
#include "tests/emulator/query_parser.h"

namespace b24emu {
namespace {

using OJson = nlohmann::ordered_json;

BatchCommand ParseOne(std::string key, const OJson& text) {
  BatchCommand command;
  command.key = std::move(key);
  if (!text.is_string()) return command;  // method stays empty: refused by the portal
  const std::string& s = text.get_ref<const std::string&>();
  const size_t q = s.find('?');
  command.method = NormalizeMethod(s.substr(0, q));
  if (q != std::string::npos) command.params = ParsePhpQuery(std::string_view(s).substr(q + 1));
  return command;
}

// PHP's string conversion of a scalar; nullopt for lists and maps.
std::optional<std::string> ScalarText(const OJson& v) {
  switch (v.type()) {
    case OJson::value_t::string: return v.get<std::string>();
    case OJson::value_t::number_integer: return std::to_string(v.get<int64_t>());
    case OJson::value_t::number_unsigned: return std::to_string(v.get<uint64_t>());
    case OJson::value_t::number_float: return PhpFormatDouble(v.get<double>());
    case OJson::value_t::boolean: return v.get<bool>() ? "1" : "";
    case OJson::value_t::null: return "";
    default: return std::nullopt;
  }
}

// One parsed reference: which map, and the bracketed segments.
struct Reference {
  size_t begin = 0, end = 0;  // span in the string
  const OJson* map = nullptr;
  std::vector<std::string> path;
};

// Finds the next reference at or after `from`.
std::optional<Reference> FindReference(const std::string& s, size_t from, const BatchResults& r) {
  struct Name {
    const char* text;
    const OJson* map;
  };
  // Longest names first so "$result_total" is not read as "$result".
  const Name names[] = {{"$result_error", &r.result_error},
                        {"$result_total", &r.result_total},
                        {"$result_next", &r.result_next},
                        {"$result_time", &r.result_time},
                        {"$result", &r.result}};
  for (size_t pos = s.find('$', from); pos != std::string::npos; pos = s.find('$', pos + 1)) {
    for (const Name& name : names) {
      if (s.compare(pos, std::strlen(name.text), name.text) != 0) continue;
      Reference ref;
      ref.begin = pos;
      ref.map = name.map;
      size_t i = pos + std::strlen(name.text);
      while (i < s.size() && s[i] == '[') {
        const size_t close = s.find(']', i + 1);
        if (close == std::string::npos) break;
        ref.path.push_back(s.substr(i + 1, close - i - 1));
        i = close + 1;
      }
      if (ref.path.empty()) break;  // "$result" alone is plain text
      ref.end = i;
      return ref;
    }
  }
  return std::nullopt;
}

const OJson* Lookup(const Reference& ref) {
  const OJson* node = ref.map;
  for (const std::string& segment : ref.path) {
    if (node->is_object()) {
      auto it = node->find(segment);
      if (it == node->end()) return nullptr;
      node = &*it;
    } else if (node->is_array()) {
      if (!IsPhpIntegerKey(segment) || segment[0] == '-') return nullptr;
      const size_t index = std::strtoull(segment.c_str(), nullptr, 10);
      if (index >= node->size()) return nullptr;
      node = &(*node)[index];
    } else {
      return nullptr;
    }
  }
  return node;
}

OJson ResolveString(const std::string& s, const BatchResults& so_far) {
  std::optional<Reference> ref = FindReference(s, 0, so_far);
  if (!ref) return s;
  if (ref->begin == 0 && ref->end == s.size()) {
    // The whole value is one reference: keep the referenced value's shape.
    const OJson* value = Lookup(*ref);
    if (value == nullptr) return "";
    if (value->is_structured()) return *value;
    return *ScalarText(*value);
  }
  std::string out;
  size_t copied = 0;
  while (ref) {
    out.append(s, copied, ref->begin - copied);
    const OJson* value = Lookup(*ref);
    if (value != nullptr) out += ScalarText(*value).value_or("");
    copied = ref->end;
    ref = FindReference(s, copied, so_far);
  }
  out.append(s, copied, std::string::npos);
  return out;
}

}  // namespace

std::string NormalizeMethod(std::string method) {
  method = absl::AsciiStrToLower(absl::StripAsciiWhitespace(method));
  while (!method.empty() && method.back() == '/') method.pop_back();
  if (absl::EndsWith(method, ".json")) method.resize(method.size() - 5);
  return method;
}

std::vector<BatchCommand> ParseBatchCommands(const OJson& params) {
  std::vector<BatchCommand> commands;
  if (!params.is_object()) return commands;
  auto it = params.find("cmd");
  if (it == params.end()) return commands;
  if (it->is_array()) {
    for (size_t i = 0; i < it->size(); ++i) commands.push_back(ParseOne(std::to_string(i), (*it)[i]));
  } else if (it->is_object()) {
    for (auto c = it->begin(); c != it->end(); ++c) commands.push_back(ParseOne(c.key(), c.value()));
  }
  return commands;
}

bool ParseHalt(const OJson& params) {
  if (!params.is_object()) return false;
  auto it = params.find("halt");
  if (it == params.end()) return false;
  if (it->is_boolean()) return it->get<bool>();
  if (it->is_number()) return it->get<double>() != 0;
  if (it->is_string()) {
    const std::string s = absl::AsciiStrToLower(it->get<std::string>());
    return !s.empty() && s != "0" && s != "n" && s != "false";
  }
  return false;
}

OJson ResolveReferences(const OJson& params, const BatchResults& so_far) {
  if (params.is_string()) return ResolveString(params.get_ref<const std::string&>(), so_far);
  if (params.is_array()) {
    OJson out = OJson::array();
    for (const OJson& v : params) out.push_back(ResolveReferences(v, so_far));
    return out;
  }
  if (params.is_object()) {
    OJson out = OJson::object();
    for (auto it = params.begin(); it != params.end(); ++it) {
      out[it.key()] = ResolveReferences(it.value(), so_far);
    }
    return out;
  }
  return params;
}

}  // namespace b24emu
