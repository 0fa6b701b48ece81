#include "engine/gateway/batch_plan.h"

#include <map>

#include "absl/strings/ascii.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/strip.h"
#include "engine/bitrix/method_traits.h"
#include "engine/bitrix/query_encoder.h"
#include "engine/bitrix/query_parser.h"
#include "engine/common/field_text.h"

namespace b24gate {
namespace {

// The references of a parameter tree: the keys they name, and the first
// malformed one (a "$result[" that does not close, or an empty key).
struct RefScan {
  std::set<std::string> keys;
  std::string malformed;  // the reference's text, "" when none
  std::string why;
};

// The references `$result[KEY][...]` (also $result_error/_total/_next/_time)
// in `s`, i.e. the matches of \$result(?:_error|_total|_next|_time)?\[([^\]]*)\]
// and the brackets after them. Scanned by hand: std::regex recurses once per
// character and overflowed the stack on a 50 KB parameter.
void CollectRefsInText(const std::string& s, RefScan* scan) {
  static constexpr absl::string_view kKinds[] = {"_error", "_total", "_next", "_time"};
  for (size_t at = s.find("$result"); at != std::string::npos; at = s.find("$result", at + 1)) {
    absl::string_view rest = absl::string_view(s).substr(at + 7);
    for (absl::string_view kind : kKinds) {
      if (absl::ConsumePrefix(&rest, kind)) break;
    }
    if (!absl::ConsumePrefix(&rest, "[")) continue;  // text, not a reference
    size_t close = rest.find(']');
    const auto malformed = [&](const char* why) {
      if (!scan->malformed.empty()) return;
      scan->malformed = s.substr(at);
      scan->why = why;
    };
    if (close == absl::string_view::npos) {
      malformed("no closing ']'");
      return;  // no later reference can close either
    }
    if (close == 0) malformed("an empty command key");
    scan->keys.insert(std::string(rest.substr(0, close)));
    rest.remove_prefix(close + 1);
    // The scan resumes after the key's ']' (as the regex above would), so
    // a reference inside the path below is still found.
    at = s.size() - rest.size() - 1;
    // The path into the result: [FIELD][0]... each closed.
    while (absl::ConsumePrefix(&rest, "[")) {
      close = rest.find(']');
      if (close == absl::string_view::npos) {
        malformed("a '[' in its path does not close");
        break;
      }
      rest.remove_prefix(close + 1);
    }
  }
}

// A reference key for an error message: at most 40 bytes, printable ASCII
// (others as \xHH), so a huge or binary key (decoded from a query string)
// cannot bloat or break the status text, which must be UTF-8.
std::string QuoteRef(const std::string& ref) {
  std::string out;
  for (size_t i = 0; i < ref.size() && i < 40; ++i) {
    unsigned char c = static_cast<unsigned char>(ref[i]);
    if (c >= 0x20 && c < 0x7f) {
      out.push_back(static_cast<char>(c));
    } else {
      absl::StrAppend(&out, "\\x", absl::Hex(c, absl::kZeroPad2));
    }
  }
  if (ref.size() > 40) out += "...";
  return out;
}

// Values only: Bitrix24 resolves references in values, not in keys.
void CollectRefs(const nlohmann::ordered_json& v, RefScan* scan) {
  if (v.is_string()) {
    CollectRefsInText(v.get_ref<const std::string&>(), scan);
  } else if (v.is_structured()) {
    for (const auto& child : v) CollectRefs(child, scan);
  }
}

}  // namespace

absl::Status CheckCommandMethod(BatchCommandSpec& c, size_t i) {
  // Checked as written, as Call checks it: normalizing first would strip
  // surrounding whitespace, CR/LF and a trailing '/' and hide them.
  if (absl::Status s = ValidateMethodName(c.method); !s.ok()) {
    return absl::InvalidArgumentError(absl::StrCat("commands[", i, "].", s.message()));
  }
  c.method = NormalizeMethod(c.method);
  if (c.method == "batch") {
    return absl::InvalidArgumentError(
        absl::StrCat("commands[", i, "].method: Bitrix24 refuses a batch inside a batch"));
  }
  return absl::OkStatus();
}

absl::Status ValidateBatchKey(const std::string& key, size_t index) {
  if (key.empty()) {
    return absl::InvalidArgumentError(absl::StrCat("commands[", index, "].key: must not be empty"));
  }
  // Bitrix24 keys are short names; a longer one would be quoted whole in
  // every error naming the command.
  if (key.size() > kMaxBatchKeyBytes) {
    return absl::InvalidArgumentError(absl::StrCat("commands[", index, "].key: \"", EchoText(key),
                                                   "\" has ", key.size(),
                                                   " bytes, above the limit of ",
                                                   kMaxBatchKeyBytes));
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

namespace {

// Checks command `i` and puts it in the form it travels in: parameters from
// the method's query string moved into `params`, the method normalized.
absl::Status NormalizeCommand(BatchCommandSpec& c, size_t i, const InputLimits& limits) {
  size_t q = c.method.find('?');
  std::string params_where = absl::StrCat("commands[", i, "].params");
  if (q != std::string::npos) {
    params_where = absl::StrCat("commands[", i, "].method?query");
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
  if (absl::Status s = CheckCommandMethod(c, i); !s.ok()) return s;
  if (c.params.is_null()) c.params = nlohmann::ordered_json::object();
  if (!c.params.is_object()) {
    return absl::InvalidArgumentError(absl::StrCat("commands[", i, "].params: must be an object"));
  }
  if (ContainsNullOrTopLevelList(c.params)) {
    return absl::InvalidArgumentError(absl::StrCat(
        "commands[", i, "].params: contain null, which a batch (query strings) cannot carry; "
        "send this call with Call (it goes as JSON)"));
  }
  return CheckParams(c.params, params_where, limits);
}

// Checks that command `i`'s $result references name earlier commands of the
// same batch (`index_of`: key → position).
absl::Status CheckReferences(const BatchCommandSpec& c, size_t i,
                             const std::map<std::string, size_t>& index_of, int max_per_batch) {
  RefScan refs;
  CollectRefs(c.params, &refs);
  if (!refs.malformed.empty()) {
    return absl::InvalidArgumentError(absl::StrCat("commands[", i, "] (\"", c.key,
                                                   "\"): malformed reference \"",
                                                   QuoteRef(refs.malformed), "\": ", refs.why));
  }
  for (const std::string& ref : refs.keys) {
    auto it = index_of.find(ref);
    if (it == index_of.end() || it->second >= i) {
      return absl::InvalidArgumentError(absl::StrCat("commands[", i, "] (\"", c.key,
                                                     "\") refers to $result[", QuoteRef(ref),
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
  return absl::OkStatus();
}

}  // namespace

std::set<std::string> ReferencedKeys(const nlohmann::ordered_json& params) {
  RefScan scan;
  CollectRefs(params, &scan);
  return scan.keys;
}

absl::StatusOr<std::vector<std::vector<BatchCommandSpec>>> PlanBatch(
    std::vector<BatchCommandSpec> commands, int max_per_batch, const InputLimits& limits) {
  return PlanCommands(
      std::move(commands), max_per_batch, limits,
      [&](BatchCommandSpec& c, size_t i, const std::map<std::string, size_t>& index_of) {
        if (absl::Status s = NormalizeCommand(c, i, limits); !s.ok()) return s;
        return CheckReferences(c, i, index_of, max_per_batch);
      });
}

absl::StatusOr<std::vector<std::vector<BatchCommandSpec>>> PlanCommands(
    std::vector<BatchCommandSpec> commands, int max_per_batch, const InputLimits& limits,
    const CommandCheck& check) {
  if (commands.empty()) return absl::InvalidArgumentError("commands: at least one is required");
  if (absl::Status s = CheckCount(commands.size(), limits.max_batch_commands, "commands",
                                  "commands", "max_batch_commands",
                                  "split them over several CallBatch requests");
      !s.ok()) {
    return s;
  }
  std::map<std::string, size_t> index_of;
  for (size_t i = 0; i < commands.size(); ++i) {
    BatchCommandSpec& c = commands[i];
    if (absl::Status s = ValidateBatchKey(c.key, i); !s.ok()) return s;
    if (!index_of.emplace(c.key, i).second) {
      return absl::InvalidArgumentError(
          absl::StrCat("commands[", i, "].key: \"", c.key, "\" is used twice"));
    }
    if (absl::Status s = check(c, i, index_of); !s.ok()) return s;
  }
  std::vector<std::vector<BatchCommandSpec>> chunks;
  for (size_t i = 0; i < commands.size(); ++i) {
    if (i % max_per_batch == 0) chunks.emplace_back();
    chunks.back().push_back(std::move(commands[i]));
  }
  return chunks;
}

}  // namespace b24gate
