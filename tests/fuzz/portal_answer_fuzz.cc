// Fuzzes ReadAnswerJson, the reader every portal answer (and every OAuth
// server answer) goes through first: any bytes must become a tree or an
// UNAVAILABLE / BAD_RESPONSE status -- never a crash, an exception, deep
// recursion or a number that loses digits.
//
// Checked on success: the tree nests at most kMaxAnswerDepth levels (walked
// without recursion), holds no integer beyond 2^53 (those become their text),
// and reads back to itself from its own dump. On failure: the status is
// UNAVAILABLE with reason BAD_RESPONSE and a short message.
#include <cstddef>
#include <cstdint>
#include <string>
#include <utility>
#include <vector>

#include "engine/bitrix/bitrix_response.h"
#include "engine/common/errors.h"
#include "tests/fuzz/fuzz_check.h"

namespace {

using Json = nlohmann::ordered_json;

void CheckTree(const Json& root) {
  constexpr int64_t kExact = int64_t{1} << 53;
  std::vector<std::pair<const Json*, int>> stack = {{&root, 1}};
  while (!stack.empty()) {
    auto [value, depth] = stack.back();
    stack.pop_back();
    if (value->is_number_unsigned()) {
      FUZZ_CHECK(value->get<uint64_t>() <= static_cast<uint64_t>(kExact), "inexact integer kept");
    } else if (value->is_number_integer()) {
      int64_t n = value->get<int64_t>();
      FUZZ_CHECK(n >= -kExact && n <= kExact, "inexact integer kept");
    }
    if (!value->is_structured()) continue;
    FUZZ_CHECK(depth <= b24gate::kMaxAnswerDepth, "tree deeper than the limit");
    for (const Json& child : *value) stack.emplace_back(&child, depth + 1);
  }
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  std::string text(reinterpret_cast<const char*>(data), size);
  absl::StatusOr<Json> tree = b24gate::ReadAnswerJson(text);
  if (!tree.ok()) {
    FUZZ_CHECK(tree.status().code() == absl::StatusCode::kUnavailable, "failure not UNAVAILABLE");
    FUZZ_CHECK(b24gate::ReasonOf(tree.status()) == "BAD_RESPONSE", "failure not BAD_RESPONSE");
    FUZZ_CHECK(tree.status().message().size() <= 100, "long failure message");
    return 0;
  }
  CheckTree(*tree);
  absl::StatusOr<Json> again = b24gate::ReadAnswerJson(tree->dump());
  FUZZ_CHECK(again.ok() && *again == *tree, "the tree does not read back from its dump");
  return 0;
}
