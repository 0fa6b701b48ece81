#include "engine/gateway/batch_plan.h"

#include <map>
#include <regex>

#include "absl/strings/ascii.h"
#include "absl/strings/str_cat.h"
#include "engine/bitrix/method_traits.h"
#include "engine/bitrix/query_encoder.h"
#include "engine/bitrix/query_parser.h"

namespace b24gate {
namespace {

void CollectRefs(const nlohmann::ordered_json& v, std::set<std::string>* keys) {
  static const std::regex kRef(R"(\$result(?:_error|_total|_next|_time)?\[([^\]]*)\])");
  if (v.is_string()) {
    const std::string& s = v.get_ref<const std::string&>();
    for (std::sregex_iterator it(s.begin(), s.end(), kRef), end; it != end; ++it) {
      keys->insert((*it)[1].str());
    }
  } else if (v.is_structured()) {
    for (const auto& child : v) CollectRefs(child, keys);
  }
}

absl::Status ValidateKey(const std::string& key, size_t index) {
  if (key.empty()) {
    return absl::InvalidArgumentError(absl::StrCat("commands[", index, "].key: must not be empty"));
  }
  bool all_digits = true;
  for (char c : key) {
    if (!absl::ascii_isalnum(static_cast<unsigned char>(c)) && c != '_' && c != '-' && c != '.') {
      return absl::InvalidArgumentError(absl::StrCat(
          "commands[", index, "].key: \"", key, "\" may contain only letters, digits, '_', '-', '.'"));
    }
    all_digits = all_digits && absl::ascii_isdigit(static_cast<unsigned char>(c));
  }
  if (all_digits) {
    // PHP's json_encode turns a map with keys 0..n-1 into a list and loses
    // the keys (docs/bitrix24-protocol.md, "Endpoints"), so numeric keys cannot
    // be told apart.
    return absl::InvalidArgumentError(absl::StrCat(
        "commands[", index, "].key: \"", key,
        "\" is numeric; Bitrix24 may return results of numeric keys as a list without keys. "
        "Use a name such as c", key));
  }
  return absl::OkStatus();
}

}  // namespace

std::set<std::string> ReferencedKeys(const nlohmann::ordered_json& params) {
  std::set<std::string> keys;
  CollectRefs(params, &keys);
  return keys;
}

absl::StatusOr<std::vector<std::vector<BatchCommandSpec>>> PlanBatch(
    std::vector<BatchCommandSpec> commands, int max_per_batch) {
  if (commands.empty()) return absl::InvalidArgumentError("commands: at least one is required");
  std::map<std::string, size_t> index_of;
  for (size_t i = 0; i < commands.size(); ++i) {
    BatchCommandSpec& c = commands[i];
    if (absl::Status s = ValidateKey(c.key, i); !s.ok()) return s;
    if (!index_of.emplace(c.key, i).second) {
      return absl::InvalidArgumentError(
          absl::StrCat("commands[", i, "].key: \"", c.key, "\" is used twice"));
    }
    size_t q = c.method.find('?');
    if (q != std::string::npos) {
      if (c.params.is_object() && !c.params.empty()) {
        return absl::InvalidArgumentError(absl::StrCat(
            "commands[", i, "]: give parameters either in the method's query string or in params"));
      }
      absl::StatusOr<nlohmann::ordered_json> parsed = ParseQueryString(c.method.substr(q + 1));
      if (!parsed.ok()) {
        return absl::InvalidArgumentError(
            absl::StrCat("commands[", i, "].method: ", parsed.status().message()));
      }
      c.params = std::move(*parsed);
      c.method.resize(q);
    }
    c.method = NormalizeMethod(c.method);
    if (absl::Status s = ValidateMethodName(c.method); !s.ok()) {
      return absl::InvalidArgumentError(absl::StrCat("commands[", i, "].", s.message()));
    }
    if (c.method == "batch") {
      return absl::InvalidArgumentError(
          absl::StrCat("commands[", i, "].method: Bitrix24 refuses a batch inside a batch"));
    }
    if (c.params.is_null()) c.params = nlohmann::ordered_json::object();
    if (!c.params.is_object()) {
      return absl::InvalidArgumentError(absl::StrCat("commands[", i, "].params: must be an object"));
    }
    if (ContainsNullOrTopLevelList(c.params)) {
      return absl::InvalidArgumentError(absl::StrCat(
          "commands[", i, "].params: contain null, which a batch (query strings) cannot carry; "
          "send this call with Call (it goes as JSON)"));
    }
    for (const std::string& ref : ReferencedKeys(c.params)) {
      auto it = index_of.find(ref);
      if (it == index_of.end() || it->second >= i) {
        return absl::InvalidArgumentError(absl::StrCat("commands[", i, "] (\"", c.key,
                                                       "\") refers to $result[", ref,
                                                       "], which is not an earlier command"));
      }
      if (it->second / max_per_batch != i / max_per_batch) {
        return absl::InvalidArgumentError(absl::StrCat(
            "commands[", i, "] (\"", c.key, "\") refers to $result[", ref, "] across the ",
            max_per_batch,
            "-command batch boundary; references work only inside one batch. Reorder the "
            "commands or send them in separate CallBatch requests"));
      }
    }
  }
  std::vector<std::vector<BatchCommandSpec>> chunks;
  for (size_t i = 0; i < commands.size(); ++i) {
    if (i % max_per_batch == 0) chunks.emplace_back();
    chunks.back().push_back(std::move(commands[i]));
  }
  return chunks;
}

}  // namespace b24gate
