// What a GetAll asks for and what it gets back: the request, the pages and
// summary handed to the consumer, and the consumer's interface.
#ifndef B24GATE_ENGINE_LISTS_LIST_REQUEST_H_
#define B24GATE_ENGINE_LISTS_LIST_REQUEST_H_

#include <cstdint>
#include <memory>
#include <optional>
#include <string>
#include <vector>

#include <nlohmann/json.hpp>

#include "absl/status/status.h"
#include "engine/portal/call_types.h"

namespace b24gate {

// How far a read may get ahead of its consumer, by default (32 MiB): see
// ListReaderOptions::read_ahead_bytes.
constexpr int64_t kDefaultListReadAheadBytes = int64_t{32} << 20;

// How a list is read. kDefault lets the reader choose: parallel keyset where
// the method can be ordered by id, else offset. The kV3 kinds read REST 3.0
// lists (v3_list_strategy.h).
enum class ListStrategyKind {
  kDefault, kOffset, kKeysetChain, kParallelKeyset, kV3Keyset, kV3Tail, kV3Offset,
  kV3ParallelKeyset
};

// "offset", "keyset", "parallel_keyset", "v3_keyset", "v3_tail", "v3_offset",
// "v3_parallel_keyset"
// (the summary's and the cursor's name).
const char* ListStrategyName(ListStrategyKind kind);

struct ListRequest {
  std::string method;
  nlohmann::ordered_json params = nlohmann::ordered_json::object();
  // The request field `params` came from, for error messages.
  std::string params_field = "params";
  std::string items_key;  // override; empty = table or auto-detect
  CallOptions options;
  ListStrategyKind strategy = ListStrategyKind::kDefault;
  // Deliver items as they arrive rather than in list order.
  bool unordered = false;
  // Do not ask for the list's total.
  bool skip_total = false;
  // A cursor from an earlier read of the same method and params; empty: from
  // the start.
  std::string resume_cursor;
};

// A page's items already made into the consumer's own form, ahead of their
// turn (PagePreparer).
class PreparedPage {
 public:
  virtual ~PreparedPage() = default;
  // The memory it holds: an ordered read's read-ahead budget counts it.
  virtual int64_t bytes() const = 0;
};

// Makes pages into the consumer's form. An ordered read whose later ranges
// wait for the first has the waiting items made while it waits (on the
// portal's threads, in their idle time), rather than in one run after its
// last answer.
// Thread-safe: called from any thread, holding none of the reader's locks,
// while the sink hands other pages on.
class PagePreparer {
 public:
  virtual ~PagePreparer() = default;
  // `items` is one page's (at most 50).
  virtual std::unique_ptr<PreparedPage> Prepare(std::vector<nlohmann::ordered_json> items) const = 0;
};

struct ListPage {
  // May be empty: a message that only brings the total, or one whose items
  // come `prepared`.
  std::vector<nlohmann::ordered_json> items;
  // The page's items as the sink's PagePreparer made them, or null.
  std::unique_ptr<PreparedPage> prepared;
  int64_t items_so_far = 0;
  std::optional<int64_t> total;
  // Opaque; a read given it continues after `items`.
  std::string resume_cursor;
};

struct ListSummary {
  int64_t count = 0;
  std::optional<int64_t> total;
  bool total_matched = true;
  std::string strategy;
  std::vector<std::string> warnings;
  std::string resume_cursor;
};

class ListSink {
 public:
  virtual ~ListSink() = default;
  virtual void OnPage(ListPage page) = 0;
  // What makes this sink's pages ahead of their turn, asked once when the
  // reader is made; kept by the reader (not the sink) as long as it needs
  // it. Null: pages bring their items as JSON.
  virtual std::shared_ptr<const PagePreparer> Preparer() { return nullptr; }
  // Called once, last.
  virtual void OnDone(absl::Status status, ListSummary summary) = 0;
};

}  // namespace b24gate

#endif  // B24GATE_ENGINE_LISTS_LIST_REQUEST_H_
