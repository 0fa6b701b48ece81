// Fuzzes batch planning (PlanBatch, ReferencedKeys): a caller's CallBatch
// commands -- keys, "method?query" strings, parameters with `$result[...]`
// references -- must be split into valid batch requests or refused with
// INVALID_ARGUMENT naming the command, never crash.
//
// Input (UTF-8, as gRPC delivers it), one command per line (readable, so corpus/ can be written by hand):
//   KEY<TAB>METHOD[<TAB>PARAMS]
// METHOD may carry a query ("crm.lead.get?id=$result[a][ID]"). PARAMS is JSON;
// text that is not JSON becomes the string parameter {"v": TEXT}, so any bytes
// reach the reference scanner. A first line "max=N" sets the commands per
// batch request (1..50, default 50).
//
// Checked when the plan succeeds: the chunks hold every command once, in
// order, at most N each; every method is a valid bare name (no query left);
// params are objects without null; every `$result` reference names an earlier
// command of the same chunk. When it fails: INVALID_ARGUMENT, and the message
// names the field ("commands...") in valid UTF-8. ReferencedKeys agrees with a regular
// expression on short strings.
#include <algorithm>
#include <cstddef>
#include <cstdint>
#include <map>
#include <regex>
#include <set>
#include <string>
#include <vector>

#include <nlohmann/json.hpp>

#include "absl/strings/match.h"
#include "absl/strings/numbers.h"
#include "absl/strings/str_split.h"
#include "engine/bitrix/method_traits.h"
#include "engine/gateway/batch_plan.h"
#include "tests/fuzz/fuzz_check.h"

namespace {

using Json = nlohmann::ordered_json;

// The reference syntax, as a regular expression: the oracle for short
// strings (std::regex recurses per character, so only short ones).
constexpr size_t kOracleMaxBytes = 256;

void OracleRefs(const Json& v, std::set<std::string>* keys, bool* checked) {
  static const std::regex kRef(R"(\$result(?:_error|_total|_next|_time)?\[([^\]]*)\])");
  if (v.is_string()) {
    const std::string& s = v.get_ref<const std::string&>();
    if (s.size() > kOracleMaxBytes) {
      *checked = false;
      return;
    }
    for (std::sregex_iterator it(s.begin(), s.end(), kRef), end; it != end; ++it) {
      keys->insert((*it)[1].str());
    }
  } else if (v.is_structured()) {
    for (const auto& child : v) OracleRefs(child, keys, checked);
  }
}

bool ContainsNull(const Json& v) {
  if (v.is_null()) return true;
  if (v.is_structured()) {
    for (const auto& child : v) {
      if (ContainsNull(child)) return true;
    }
  }
  return false;
}

bool IsUtf8(const std::string& text) {
  try {
    (void)nlohmann::json(text).dump();
    return true;
  } catch (const nlohmann::json::exception&) {
    return false;
  }
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  const std::string text(reinterpret_cast<const char*>(data), size);
  // Keys, methods and parameter strings arrive in proto3 strings, which gRPC
  // has already checked to be UTF-8 (bytes decoded from "%XX" need not be).
  if (!IsUtf8(text)) return 0;
  std::vector<std::string> lines = absl::StrSplit(text, '\n');
  int max_per_batch = b24gate::kMaxBatchCommands;
  size_t first = 0;
  if (!lines.empty() && absl::StartsWith(lines[0], "max=")) {
    int n = 0;
    if (absl::SimpleAtoi(lines[0].substr(4), &n)) max_per_batch = std::clamp(n, 1, 50);
    first = 1;
  }
  std::vector<b24gate::BatchCommandSpec> commands;
  for (size_t i = first; i < lines.size(); ++i) {
    std::vector<std::string> fields = absl::StrSplit(lines[i], absl::MaxSplits('\t', 2));
    b24gate::BatchCommandSpec c;
    c.key = fields[0];
    if (fields.size() > 1) c.method = fields[1];
    if (fields.size() > 2) {
      Json params = Json::parse(fields[2], nullptr, /*allow_exceptions=*/false);
      if (params.is_discarded()) params = Json{{"v", fields[2]}};
      c.params = std::move(params);
      // The reference scanner against the oracle, on every parameter tree.
      std::set<std::string> want;
      bool checked = true;
      OracleRefs(c.params, &want, &checked);
      if (checked) {
        FUZZ_CHECK(b24gate::ReferencedKeys(c.params) == want,
                   "ReferencedKeys disagrees with the regex on " + fields[2]);
      }
    }
    commands.push_back(std::move(c));
  }
  std::vector<std::string> keys_in;
  for (const auto& c : commands) keys_in.push_back(c.key);

  auto plan = b24gate::PlanBatch(std::move(commands), max_per_batch);
  if (!plan.ok()) {
    FUZZ_CHECK(plan.status().code() == absl::StatusCode::kInvalidArgument,
               "refusal is not INVALID_ARGUMENT: " + plan.status().ToString());
    FUZZ_CHECK(absl::StartsWith(plan.status().message(), "commands"),
               "refusal does not name the field: " + plan.status().ToString());
    // The message travels in proto3 strings (ErrorInfo), which must be UTF-8.
    FUZZ_CHECK(IsUtf8(std::string(plan.status().message())), "refusal message is not UTF-8");
    return 0;
  }
  std::vector<std::string> keys_out;
  for (const auto& chunk : *plan) {
    FUZZ_CHECK(!chunk.empty() && chunk.size() <= static_cast<size_t>(max_per_batch),
               "chunk of " + std::to_string(chunk.size()));
    std::set<std::string> earlier;
    for (const auto& c : chunk) {
      FUZZ_CHECK(b24gate::ValidateMethodName(c.method).ok() &&
                     c.method.find('?') == std::string::npos,
                 "invalid method planned: " + c.method);
      FUZZ_CHECK(c.params.is_object() && !ContainsNull(c.params), "params not a null-free object");
      for (const std::string& ref : b24gate::ReferencedKeys(c.params)) {
        FUZZ_CHECK(earlier.count(ref) > 0, "reference to " + ref + " leaves its chunk");
      }
      earlier.insert(c.key);
      keys_out.push_back(c.key);
    }
  }
  FUZZ_CHECK(keys_out == keys_in, "commands lost, duplicated or reordered");
  return 0;
}
