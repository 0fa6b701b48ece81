// One chained batch of keyset pages over an id range, and reading its answer:
// page 0 filters `>ID` on the range's start, page i on the last id of page
// i-1 (`$result[p{i-1}][49][ID]`), each also `<ID` the range's end. Up to 50
// pages (2,500 items) per HTTP request, processed back to back by the portal.
//
// Thread-safety: pure functions; ItemExtractor as documented there.
#ifndef B24GATE_ENGINE_LISTS_KEYSET_PAGES_H_
#define B24GATE_ENGINE_LISTS_KEYSET_PAGES_H_

#include <cstdint>
#include <string>
#include <vector>

#include "absl/status/statusor.h"
#include "engine/lists/list_items.h"
#include "engine/portal/call_types.h"

namespace b24gate {

constexpr int kPageSize = 50;   // fixed by Bitrix24
constexpr int kMaxPages = 50;   // commands per batch

// A page of items as it is handed to the consumer, with the id its resume
// cursor ends at.
struct ItemPage {
  std::vector<Json> items;
  int64_t last_id = 0;
};
// `items` (ascending ids under `id_field`) cut into pages of kPageSize from
// the first: each page ends at its last item's id, the last one at
// `last_id`. No items, no pages.
std::vector<ItemPage> CutIntoPages(std::vector<Json> items, const std::string& id_field,
                                   int64_t last_id);

// What a chain reads besides the range.
struct KeysetQuery {
  std::string method;
  Json params;       // the caller's params
  Json base_filter;  // the caller's filter without its id bounds
  ListShape shape;
};

// The commands of one chain, keyed `{prefix}0`, `{prefix}1`, …: several
// chains (prefixes) may share one batch.
// REQUIRES: 1 <= pages <= kMaxPages; shape.keyset_filter_field not empty.
std::vector<BatchCommandSpec> ChainCommands(const KeysetQuery& query, const std::string& items_key,
                                            const IdRange& range, int pages,
                                            const std::string& prefix = "p");

struct ChainPages {
  std::vector<Json> items;  // ids in (range.after, range.before), ascending
  int64_t last_id = 0;      // where the range continues (range.after when nothing was read)
  bool range_done = false;  // nothing more in the range
  double processing_seconds = 0;  // the portal's processing of the pages read
  int pages_read = 0;             // pages that were run
};

// Reads the pages of a chain in order. Pages the portal did not run (a halt,
// the operating-time limit) end the read early: the range continues from
// last_id. Pages after the first short one re-read the range (their reference
// was empty) and are ignored. Items at or past `range.before` are dropped:
// the range may have been split while the batch was in flight.
// The items are moved out of `result`'s pages, not copied.
// Errors: the status of a failed page; INVALID_ARGUMENT for a page that is
// not a list or items without an integer id.
absl::StatusOr<ChainPages> ReadChain(const KeysetQuery& query, BatchResult* result, int pages,
                                     const IdRange& range, ItemExtractor* extractor,
                                     const std::string& prefix = "p");

}  // namespace b24gate

#endif  // B24GATE_ENGINE_LISTS_KEYSET_PAGES_H_
