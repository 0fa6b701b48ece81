// One way of reading a whole list, behind one interface, and what the reader
// offers the strategy it runs.
//
// The reader (list_reader.h) owns the consumer, flow control, the count, the
// resume cursor and finishing; a strategy only decides which requests to send
// and hands items over in the order it promises:
//   - OffsetStrategy (offset_strategy.h): start=0,50,… pages, several batches
//     at once, delivered in list order; works for every list method.
//   - KeysetChainStrategy (keyset_chain_strategy.h): one chain of id-ordered
//     pages, 50 to a batch.
//   - ParallelKeysetStrategy (parallel_keyset_strategy.h): the id range split
//     into several chains read at once.
//   - V3ListStrategy (v3_list_strategy.h): REST 3.0 lists, by id keyset, tail
//     cursor or offset.
//
// Thread-safety: a strategy is driven under the reader's lock: Start, Pump
// and the callbacks wrapped by ListContext::Guard all run holding it, so a
// strategy needs no lock of its own. It must not block.
#ifndef B24GATE_ENGINE_LISTS_LIST_STRATEGY_H_
#define B24GATE_ENGINE_LISTS_LIST_STRATEGY_H_

#include <functional>
#include <memory>
#include <optional>
#include <string>
#include <vector>

#include "absl/status/status.h"
#include "absl/time/time.h"
#include "engine/lists/early_pages.h"
#include "engine/lists/list_items.h"
#include "engine/lists/list_request.h"
#include "engine/portal/dispatcher.h"

namespace b24gate {

// What the reader offers its strategy. All methods REQUIRE the reader's lock,
// except Guard's returned callbacks, which take it.
class ListContext {
 public:
  virtual ~ListContext() = default;
  virtual Dispatcher* portal() = 0;
  // The reader's clock's time (engine code never reads the real clock).
  virtual absl::Time Now() const = 0;
  virtual const ListRequest& request() const = 0;
  // The caller's options with the read's own cancellation.
  virtual CallOptions Options() const = 0;
  virtual ItemExtractor* extractor() = 0;
  // Wraps a portal callback: keeps the reader alive, takes its lock, runs
  // `fn` unless the read has already finished, then lets the strategy pump.
  virtual CallCallback Guard(std::function<void(absl::StatusOr<CallReply>)> fn) = 0;
  virtual BatchCallback GuardBatch(std::function<void(absl::StatusOr<BatchResult>)> fn) = 0;
  // Hands items to the consumer. `resume` is the strategy's state after
  // them (see ListStrategy::Resume): a read resumed from it continues with
  // what follows these items.
  virtual void Deliver(std::vector<Json> items, Json resume) = 0;
  // Items read ahead of their turn (an ordered read's later range, waiting
  // for the ranges before it), ascending and ending at `last_id`: cut into
  // pages and made into the consumer's form while the read waits, on the
  // portal's threads in their idle time, holding none of the reader's locks
  // (EarlyPages). Null, `items` left as they were, when the consumer makes
  // nothing ahead.
  virtual std::shared_ptr<EarlyPages> ReadAhead(std::vector<Json>* items, int64_t last_id) = 0;
  // Hands page `page` of `pages` to the consumer, as Deliver.
  virtual void Deliver(std::shared_ptr<EarlyPages> pages, size_t page, Json resume) = 0;
  // False while the consumer holds as many pages as it may: fetch no more.
  virtual bool ConsumerHasRoom() const = 0;
  // How far a strategy may read ahead of the consumer, in bytes of items
  // (ListReaderOptions::read_ahead_bytes).
  virtual int64_t read_ahead_bytes() const = 0;
  // The list's total as a page reported it (offset pages count anyway).
  virtual void ReportTotal(int64_t total) = 0;
  // The total when known (from the count or a page), and the items
  // delivered so far by this read: a keyset chain sizes its last batch by
  // them, since pages past the end of a chain re-read the list.
  virtual std::optional<int64_t> total() const = 0;
  virtual int64_t delivered() const = 0;
  // The list has answered a first time: the reader asks for the total now,
  // in parallel with the reading (not before: a refused credential or an
  // empty list should cost no count).
  virtual void ListAnswered() = 0;
  // For a strategy that CarriesCount(): the counted page, once, to put in one
  // of its batches (a request saved); nullopt when no count is wanted or it
  // was taken already. Its answer (or the batch's failure) goes to
  // CountAnswered.
  // The strategy must send what it takes; CountOffered() tells, without
  // taking it, whether there is one.
  virtual bool CountOffered() const = 0;
  virtual std::optional<BatchCommandSpec> TakeCountCommand() = 0;
  virtual void CountAnswered(absl::StatusOr<CallReply> reply) = 0;
  // A warning for the summary.
  virtual void Warn(std::string warning) = 0;
  // Ends the read with an error (at most once; later calls are ignored).
  virtual void Fail(absl::Status status) = 0;
};

class ListStrategy {
 public:
  virtual ~ListStrategy() = default;
  virtual ListStrategyKind kind() const = 0;
  // Sends the first requests.
  virtual void Start() = 0;
  // Something changed (an answer arrived, the consumer made room): send what
  // may be sent now, deliver what may be delivered.
  virtual void Pump() = 0;
  // True once every item has been delivered.
  virtual bool done() const = 0;
  // Requests this strategy has in flight.
  virtual int in_flight() const = 0;
  // Whether the count rides in the strategy's own batches
  // (ListContext::TakeCountCommand) instead of a request of its own.
  virtual bool CarriesCount() const { return false; }
  // After Start: how many requests the strategy expects to have in flight
  // at once soon after its first is answered; the reader asks the portal to
  // open that many connections meanwhile (Dispatcher::Warm). 0: no hint.
  virtual int ConnectionsWanted() const { return 0; }
};

// A strategy for `context`, continuing from `resume` (null: from the start;
// else a value the same kind of strategy passed to Deliver). `shape` is the
// method's list shape. INVALID_ARGUMENT when the request cannot be read this
// way (e.g. keyset for a method with no id order) or `resume` is malformed.
absl::StatusOr<std::unique_ptr<ListStrategy>> MakeListStrategy(ListStrategyKind kind,
                                                               ListContext* context,
                                                               const ListShape& shape,
                                                               const Json& resume);

}  // namespace b24gate

#endif  // B24GATE_ENGINE_LISTS_LIST_STRATEGY_H_
