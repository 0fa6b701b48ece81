// The parts of a list answer and a list request every strategy shares: where
// the items sit in `result`, reading an item's id, the caller's own id bounds,
// and the parameters of one keyset page.
//
// Thread-safety: ItemExtractor is not thread-safe (it learns the shape of the
// first answer); the functions are pure.
#ifndef B24GATE_ENGINE_LISTS_LIST_ITEMS_H_
#define B24GATE_ENGINE_LISTS_LIST_ITEMS_H_

#include <cstdint>
#include <optional>
#include <string>
#include <vector>

#include <nlohmann/json.hpp>

#include "absl/status/statusor.h"
#include "engine/bitrix/method_traits.h"

namespace b24gate {

using Json = nlohmann::ordered_json;

// Pulls the items out of one page's `result` by the method's shape: the list
// itself, `result[items_key]`, or (unknown methods) a lone wrapped list.
class ItemExtractor {
 public:
  explicit ItemExtractor(std::string items_key) : items_key_(std::move(items_key)) {}
  // False when `result` is not a list of the expected shape.
  bool Extract(const Json& result, std::vector<Json>* items);
  // The same, moving the items out of `result` (left holding moved-from
  // values) instead of copying them: a keyset batch's 2,500 rows are copied
  // no more than they are parsed.
  bool Take(Json* result, std::vector<Json>* items);
  const std::string& items_key() const { return items_key_; }

 private:
  std::string items_key_;
};

// An integer from a JSON number or decimal string; false otherwise.
bool ToInt64(const Json& value, int64_t* out);

// The item's integer id under `field`; nullopt when absent or not an integer.
std::optional<int64_t> ItemId(const Json& item, const std::string& field);

// True when `order` is absent or sorts by `field` ascending only, so reading
// in id order gives what the caller asked for.
bool OrderAllowsKeyset(const Json& params, const std::string& field);

// An id interval (after, before): ids > after and, when set, < before.
struct IdRange {
  int64_t after = 0;
  std::optional<int64_t> before;
  bool empty() const { return before && *before <= after + 1; }
};

// Splits the caller's filter into its id bounds on `field` (`>`, `>=`, `<`,
// `<=`, any case of the name) and the rest, so keyset pages can add their own
// bounds without overwriting the caller's: the result is the intersection.
// Other id conditions (`ID`, `@ID`, `!ID`) stay in the filter.
// INVALID_ARGUMENT when a bound is not an integer.
struct CallerIdFilter {
  Json filter = Json::object();  // the caller's filter without the bounds
  IdRange range;
};
absl::StatusOr<CallerIdFilter> SplitIdFilter(const Json& params, const std::string& field);

// Parameters of one keyset page: the caller's params with `filter` = `base_filter`
// plus `>field: after` (a number or a `$result` reference) and `<field: before`,
// `order` by id ascending, `start=-1` (no counting), and the id in `select`.
Json KeysetPageParams(const Json& params, const Json& base_filter, const ListShape& shape,
                      const Json& after, std::optional<int64_t> before);

}  // namespace b24gate

#endif  // B24GATE_ENGINE_LISTS_LIST_ITEMS_H_
