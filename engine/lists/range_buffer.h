// The parallel keyset reader's ordered buffer: pieces of the list read out of
// order wait here until everything before them has been handed over.
//
// A piece is the items of one id interval (after, upto], ascending; a range
// read to its end closes its interval at the range's end, with or without
// items. The buffer hands pieces back in id order: the next one is the piece
// that starts where delivery stands (`delivered_upto`). Items are counted in
// MessagePack bytes: the reader's read-ahead budget (ListReaderOptions) is in
// bytes, so wide rows are held back as much as narrow ones are not. What a
// row costs is learned from what is counted (and from samples of what went
// straight out), for the batches still in flight.
//
// While the buffer holds little (kTreeBytes of MessagePack), pieces stay as
// they came, trees: a short list read in one wave, whose later ranges all
// wait here for the first, is handed over without unpacking (which took a
// quarter of the gateway's time for such a list). Beyond that they are kept
// as MessagePack, about a tenth of the memory of their trees.
//
// Pieces may also come as pages made ahead into the consumer's form
// (EarlyPages, AddEarly), while those hold less than kEarlyBytes: such a
// piece counts what its made pages hold (the items of those not made yet
// at ItemBytes each), since their JSON is gone once they are.
//
// Thread-safety: not thread-safe; the strategy uses it under the reader's
// lock.
#ifndef B24GATE_ENGINE_LISTS_RANGE_BUFFER_H_
#define B24GATE_ENGINE_LISTS_RANGE_BUFFER_H_

#include <cstdint>
#include <map>
#include <memory>
#include <optional>
#include <vector>

#include "engine/lists/early_pages.h"
#include "engine/lists/list_items.h"

namespace b24gate {

class OrderedRangeBuffer {
 public:
  // What an item is reckoned to cost before any has been measured: a row of
  // a few dozen short fields.
  static constexpr double kDefaultItemBytes = 256;
  // MessagePack bytes of the pieces held as trees, at most (a few MiB as
  // trees).
  static constexpr int64_t kTreeBytes = int64_t{1} << 20;
  // Bytes of the pieces held as pages made ahead, at most: room for a
  // short read's later ranges as GetAll messages (15,000 narrow rows
  // waiting for the first range: a few MiB), half the default read-ahead
  // budget.
  static constexpr int64_t kEarlyBytes = int64_t{16} << 20;

  // Delivery stands after id `delivered_upto`.
  explicit OrderedRangeBuffer(int64_t delivered_upto = 0) : delivered_upto_(delivered_upto) {}

  // Delivery starts after `delivered_upto` (the list's real start, once
  // known). REQUIRES: nothing buffered.
  void Restart(int64_t delivered_upto) { delivered_upto_ = delivered_upto; }
  int64_t delivered_upto() const { return delivered_upto_; }
  // Whether a piece starting after `after` is the next to deliver.
  bool IsNext(int64_t after) const { return after == delivered_upto_; }

  // Keeps the items of (after, upto]. An interval that holds nothing and
  // closes nothing (upto <= after) is ignored.
  // REQUIRES: intervals of different calls do not overlap.
  void Add(int64_t after, int64_t upto, std::vector<Json> items);
  // Whether a piece of `items` items may come as pages made ahead: those
  // held so far and it stay within kEarlyBytes.
  bool EarlyHasRoom(int64_t items) const;
  // Keeps the items of (after, upto] as `pages` (not empty). REQUIRES: as
  // Add.
  void AddEarly(int64_t after, int64_t upto, std::shared_ptr<EarlyPages> pages);
  // Delivery stands at `upto`: the ids before it were delivered straight,
  // or hold nothing to deliver. REQUIRES: upto >= delivered_upto(), nothing
  // buffered below it.
  void Delivered(int64_t upto) { delivered_upto_ = upto; }

  struct Piece {
    std::vector<Json> items;  // empty when `early`
    std::shared_ptr<EarlyPages> early;
    int64_t upto = 0;
  };
  // The next piece in order, taken out of the buffer (delivery then stands
  // at its `upto`), or nullopt when it has not been read yet.
  std::optional<Piece> PopNext();

  // Items and bytes held.
  int64_t items() const { return items_; }
  int64_t bytes() const { return bytes_ + EarlyBytes(); }
  // Measures `items` (a sample of those delivered straight) for ItemBytes.
  void Measure(const std::vector<Json>& items);
  // What one item costs here, on average of those measured.
  double ItemBytes() const;

 private:
  struct Held {
    int64_t upto = 0;
    int64_t items = 0;
    int64_t bytes = 0;             // as MessagePack
    std::vector<uint8_t> packed;   // the items as MessagePack, or
    std::vector<Json> trees;       // as they came (tree_bytes_ has room)
    // Or as pages made ahead, which count what they hold (EarlyBytes),
    // not `bytes`.
    std::shared_ptr<EarlyPages> early;
  };
  void Count(int64_t items, int64_t bytes);
  // What the pieces held as pages made ahead hold.
  int64_t EarlyBytes() const;

  int64_t delivered_upto_;
  std::map<int64_t, Held> pieces_;  // by `after`
  int64_t items_ = 0;
  int64_t bytes_ = 0;
  int64_t tree_bytes_ = 0;  // of the pieces held as trees
  int early_pieces_ = 0;    // held as pages made ahead
  double measured_items_ = 0;
  double measured_bytes_ = 0;
};

}  // namespace b24gate

#endif  // B24GATE_ENGINE_LISTS_RANGE_BUFFER_H_
