// The parsing half of REST 3.0's `batch` (docs/bitrix24-protocol.md, "REST
// 3.0"): reading the JSON list of sub-requests and resolving `$ref` /
// `$refArray` against the answers of earlier ones. Execution (limits,
// costs, the first error ending the batch) lives in the portal.
//
// A sub-request is {"method", "query", "as"?}; the body is a JSON list of
// them, or an object keyed "0", "1", ... (what the JS SDK sends). Each
// answer is kept under its `as`, else its position ("0", "1", ...): an
// answer holding `item` is kept as that object, one holding `items` as that
// list, any other answer is not kept. `{"$ref": "name.path.to.field"}` is
// replaced by the value at that path; `{"$refArray": "name.field"}` by the
// list of `field` of every element of the kept list. Both are resolved at
// any depth of `query`.
//
// Thread-safety: pure functions and a value type.
#ifndef B24EMU_BATCH_V3_H_
#define B24EMU_BATCH_V3_H_

#include <map>
#include <string>
#include <vector>

#include <nlohmann/json.hpp>

#include "absl/status/statusor.h"

namespace b24emu {

struct V3BatchRequest {
  std::string method;  // lower-cased
  nlohmann::ordered_json query = nlohmann::ordered_json::object();
  std::string as;  // empty: referred to by position
};

// The sub-requests of a batch body. InvalidArgument (the portal's
// INVALIDSELECTEXCEPTION) for an item without a string `method` and an
// object `query`, or an `as` used twice.
absl::StatusOr<std::vector<V3BatchRequest>> ParseV3Batch(const nlohmann::ordered_json& body);

// The answers of the sub-requests run so far, by name.
class V3BatchContext {
 public:
  // Keeps `result` (one sub-request's `result`) under `name` when it holds
  // an `item` or `items`.
  void Keep(const std::string& name, const nlohmann::ordered_json& result);
  // `query` with every reference replaced; InvalidArgument naming the path
  // when one cannot be resolved.
  absl::StatusOr<nlohmann::ordered_json> Resolve(const nlohmann::ordered_json& query) const;

 private:
  absl::StatusOr<nlohmann::ordered_json> Ref(const std::string& path) const;
  absl::StatusOr<nlohmann::ordered_json> RefArray(const std::string& path) const;

  std::map<std::string, nlohmann::ordered_json> kept_;
};

}  // namespace b24emu

#endif  // B24EMU_BATCH_V3_H_
