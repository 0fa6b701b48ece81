// The resume cursor of a list read: an opaque string a client hands back to
// continue after the last item it received, on any gateway process.
//
// It is the URL-safe base64 of a small JSON object: a version, the strategy,
// the items delivered so far, the strategy's own resume state (an offset, an
// id, or id ranges; never the items), and a hash of the method, params and
// items_key, so a cursor given with another request is refused.
//
// Thread-safety: pure functions.
#ifndef B24GATE_ENGINE_LISTS_LIST_CURSOR_H_
#define B24GATE_ENGINE_LISTS_LIST_CURSOR_H_

#include <cstdint>
#include <string>

#include "absl/status/statusor.h"
#include "engine/lists/list_items.h"
#include "engine/lists/list_request.h"

namespace b24gate {

struct ListCursor {
  ListStrategyKind strategy = ListStrategyKind::kDefault;
  int64_t delivered = 0;  // items delivered before the cursor
  Json state;             // the strategy's resume state; null: from the start
};

// A stable 64-bit hash (FNV-1a) of what a cursor belongs to. Key order in
// `params` does not matter.
uint64_t ListRequestHash(const std::string& method, const Json& params, const std::string& items_key);

std::string EncodeListCursor(const ListCursor& cursor, uint64_t request_hash);

// INVALID_ARGUMENT saying what is wrong: not a cursor, or made for another
// method/params.
absl::StatusOr<ListCursor> DecodeListCursor(const std::string& text, uint64_t request_hash);

}  // namespace b24gate

#endif  // B24GATE_ENGINE_LISTS_LIST_CURSOR_H_
