#include "engine/gateway/v3_batch_plan.h"

#include <map>
#include <string>
#include <utility>

#include "absl/strings/str_cat.h"
#include "engine/common/field_text.h"

namespace b24gate {
namespace {

using Json = nlohmann::ordered_json;

// The text of a `{"$ref": …}` / `{"$refArray": …}` object, or null.
const Json* ReferenceText(const Json& v) {
  if (!v.is_object() || v.size() != 1) return nullptr;
  const auto it = v.begin();
  if (it.key() != "$ref" && it.key() != "$refArray") return nullptr;
  return &it.value();
}

// Every reference text in `params`, in document order.
void CollectReferences(const Json& params, std::vector<const Json*>* out) {
  if (const Json* text = ReferenceText(params)) {
    out->push_back(text);
    return;
  }
  if (params.is_structured()) {
    for (const Json& child : params) CollectReferences(child, out);
  }
}

absl::Status CheckDotlessKey(const std::string& key, size_t i) {
  if (key.find('.') != std::string::npos) {
    return absl::InvalidArgumentError(absl::StrCat(
        "commands[", i, "].key: \"", EchoText(key),
        "\" contains '.', which a REST 3.0 reference would read as the start of its path"));
  }
  return absl::OkStatus();
}

absl::Status CheckCommand(BatchCommandSpec& c, size_t i, const InputLimits& limits) {
  if (c.method.find('?') != std::string::npos) {
    return absl::InvalidArgumentError(absl::StrCat(
        "commands[", i, "].method: REST 3.0 takes parameters in params, not in a query string"));
  }
  if (absl::Status s = CheckCommandMethod(c, i); !s.ok()) return s;
  if (c.params.is_null()) c.params = Json::object();
  if (!c.params.is_object()) {
    return absl::InvalidArgumentError(absl::StrCat("commands[", i, "].params: must be an object"));
  }
  return CheckParams(c.params, absl::StrCat("commands[", i, "].params"), limits);
}

// Command `i`'s references name earlier commands of the same request.
absl::Status CheckV3References(const BatchCommandSpec& c, size_t i,
                             const std::map<std::string, size_t>& index_of, int max_per_batch) {
  std::vector<const Json*> refs;
  CollectReferences(c.params, &refs);
  const std::string where = absl::StrCat("commands[", i, "] (\"", c.key, "\")");
  for (const Json* ref : refs) {
    if (!ref->is_string()) {
      return absl::InvalidArgumentError(
          absl::StrCat(where, ": a $ref or $refArray must be a text \"key.path\""));
    }
    const std::string& text = ref->get_ref<const std::string&>();
    const size_t dot = text.find('.');
    const std::string key = text.substr(0, dot);
    auto it = index_of.find(key);
    if (dot == std::string::npos || it == index_of.end() || it->second >= i) {
      return absl::InvalidArgumentError(absl::StrCat(
          where, " refers to \"", EchoText(text),
          "\", which is not \"KEY.path\" with KEY an earlier command's key"));
    }
    if (it->second / max_per_batch != i / max_per_batch) {
      return absl::InvalidArgumentError(absl::StrCat(
          where, " refers to \"", EchoText(text), "\" across the ", max_per_batch,
          "-command batch boundary; references work only inside one batch. Reorder the "
          "commands or send them in separate CallBatch requests"));
    }
  }
  return absl::OkStatus();
}

}  // namespace

absl::StatusOr<std::vector<std::vector<BatchCommandSpec>>> PlanV3Batch(
    std::vector<BatchCommandSpec> commands, int max_per_batch, const InputLimits& limits) {
  return PlanCommands(
      std::move(commands), max_per_batch, limits,
      [&](BatchCommandSpec& c, size_t i, const std::map<std::string, size_t>& index_of) {
        if (absl::Status s = CheckDotlessKey(c.key, i); !s.ok()) return s;
        if (absl::Status s = CheckCommand(c, i, limits); !s.ok()) return s;
        return CheckV3References(c, i, index_of, max_per_batch);
      });
}

}  // namespace b24gate
