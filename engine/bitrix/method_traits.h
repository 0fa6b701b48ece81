// What the gateway knows about Bitrix24 methods by name: whether a call only
// reads (safe to repeat when its outcome is unknown), where a list method puts
// its items, and whether it can be read by ID keyset.
//
// Thread-safety: stateless functions over constant tables.
#ifndef B24GATE_ENGINE_BITRIX_METHOD_TRAITS_H_
#define B24GATE_ENGINE_BITRIX_METHOD_TRAITS_H_

#include <cstddef>
#include <optional>
#include <string>

#include "absl/status/status.h"
#include "absl/strings/string_view.h"

namespace b24gate {

// Lower-cases and strips a ".json" suffix or trailing "/".
std::string NormalizeMethod(absl::string_view method);

// The longest method name accepted. Bitrix24's longest documented names
// have about 60 characters
// (catalog.productPropertyFeature.getAvailableFeaturesByProperty); a name
// goes into the request's URL, and a portal answers a very long one with
// HTTP 414 without saying whether anything ran.
inline constexpr size_t kMaxMethodBytes = 128;

// INVALID_ARGUMENT unless `method` looks like a REST method name
// ("crm.lead.list": dot-separated words of letters, digits and underscores,
// at most kMaxMethodBytes).
absl::Status ValidateMethodName(absl::string_view method);

// True for methods that only read: the last name part is get, list, fields,
// search, current, getlist, … (see method_traits.cc). Unknown names are
// writes: the safe side when deciding whether to repeat a call.
bool IsReadMethod(absl::string_view method);

// How a list method answers and how to page through it by ID.
struct ListShape {
  // Key of the items inside `result`; empty when `result` is the list itself.
  std::string items_key;
  // Keyset paging: the filter key ("ID" or "id"), the order key and the key
  // of the ID in returned items. Empty filter key: no keyset paging.
  std::string keyset_filter_field;
  std::string keyset_order_field;
  std::string item_id_field;
};

// The shape of a known list method; nullopt for methods not in the table.
std::optional<ListShape> KnownListShape(absl::string_view method);

}  // namespace b24gate

#endif  // B24GATE_ENGINE_BITRIX_METHOD_TRAITS_H_
