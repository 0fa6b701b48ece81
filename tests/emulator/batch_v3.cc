#include "tests/emulator/batch_v3.h"

#include <cstdlib>
#include <set>

#include "absl/strings/ascii.h"
#include "absl/strings/numbers.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_split.h"

namespace b24emu {
namespace {

using OJson = nlohmann::ordered_json;

absl::Status NotFound(const std::string& path) {
  return absl::InvalidArgumentError(absl::StrCat("Path '", path, "' not found in context"));
}

// Walks `segments` from `node`: object keys, or list positions.
const OJson* Walk(const OJson* node, const std::vector<std::string>& segments, size_t from,
                  size_t to) {
  for (size_t i = from; i < to && node != nullptr; ++i) {
    const std::string& s = segments[i];
    if (node->is_object()) {
      auto it = node->find(s);
      node = it == node->end() ? nullptr : &*it;
    } else if (node->is_array()) {
      size_t index = 0;
      node = absl::SimpleAtoi(s, &index) && index < node->size() ? &(*node)[index] : nullptr;
    } else {
      node = nullptr;
    }
  }
  return node;
}

// The single key of a reference object, or "" when `v` is not one.
std::string ReferenceKind(const OJson& v) {
  if (!v.is_object() || v.size() != 1) return "";
  const std::string& key = v.begin().key();
  if ((key == "$ref" || key == "$refArray") && v.begin().value().is_string()) return key;
  return "";
}

}  // namespace

absl::StatusOr<std::vector<V3BatchRequest>> ParseV3Batch(const OJson& body) {
  if (!body.is_array() && !body.is_object()) {
    return absl::InvalidArgumentError("The batch body must be a list of requests");
  }
  std::vector<V3BatchRequest> requests;
  std::set<std::string> names;
  for (const OJson& item : body) {
    auto method = item.is_object() ? item.find("method") : item.end();
    auto query = item.is_object() ? item.find("query") : item.end();
    if (!item.is_object() || method == item.end() || !method->is_string() ||
        query == item.end() || !query->is_object()) {
      return absl::InvalidArgumentError(
          "Each request item must have a 'method' and 'query' attribute");
    }
    V3BatchRequest r;
    r.method = absl::AsciiStrToLower(method->get<std::string>());
    r.query = *query;
    if (auto as = item.find("as"); as != item.end() && as->is_string()) r.as = *as;
    if (!r.as.empty() && !names.insert(r.as).second) {
      return absl::InvalidArgumentError(
          absl::StrCat("The batch has two aliases with same name '", r.as, "'"));
    }
    requests.push_back(std::move(r));
  }
  return requests;
}

void V3BatchContext::Keep(const std::string& name, const OJson& result) {
  if (!result.is_object()) return;
  if (auto it = result.find("item"); it != result.end()) {
    kept_[name] = *it;
  } else if (auto items = result.find("items"); items != result.end()) {
    kept_[name] = *items;
  }
}

absl::StatusOr<OJson> V3BatchContext::Ref(const std::string& path) const {
  std::vector<std::string> segments = absl::StrSplit(path, '.');
  auto entry = kept_.find(segments[0]);
  if (entry == kept_.end()) return NotFound(path);
  const OJson* node = Walk(&entry->second, segments, 1, segments.size());
  if (node == nullptr) return NotFound(path);
  return *node;
}

absl::StatusOr<OJson> V3BatchContext::RefArray(const std::string& path) const {
  std::vector<std::string> segments = absl::StrSplit(path, '.');
  if (segments.size() < 2) {
    return absl::InvalidArgumentError(
        "Invalid $refArray format - expected 'path.to.array.field'");
  }
  auto entry = kept_.find(segments[0]);
  if (entry == kept_.end()) return NotFound(path);
  const OJson* list = Walk(&entry->second, segments, 1, segments.size() - 1);
  if (list == nullptr) return NotFound(path);
  if (!list->is_array()) {
    return absl::InvalidArgumentError(
        absl::StrCat("Path '", path, "' must point to an array or iterable"));
  }
  const std::string& field = segments.back();
  OJson out = OJson::array();
  for (const OJson& element : *list) {
    auto it = element.is_object() ? element.find(field) : element.end();
    if (!element.is_object() || it == element.end()) {
      return absl::InvalidArgumentError(absl::StrCat("Field '", field, "' not found in items"));
    }
    out.push_back(*it);
  }
  return out;
}

absl::StatusOr<OJson> V3BatchContext::Resolve(const OJson& query) const {
  const std::string kind = ReferenceKind(query);
  if (kind == "$ref") return Ref(query.begin().value().get<std::string>());
  if (kind == "$refArray") return RefArray(query.begin().value().get<std::string>());
  if (!query.is_structured()) return query;
  OJson out = query.is_array() ? OJson::array() : OJson::object();
  for (auto it = query.begin(); it != query.end(); ++it) {
    absl::StatusOr<OJson> value = Resolve(it.value());
    if (!value.ok()) return value.status();
    if (query.is_array()) {
      out.push_back(std::move(*value));
    } else {
      out[it.key()] = std::move(*value);
    }
  }
  return out;
}

}  // namespace b24emu
