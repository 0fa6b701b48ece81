// Reads a whole Bitrix24 list for GetAll.
//
// The reader picks a strategy (list_strategy.h): the caller's, the one a
// resume cursor was made by, or by default parallel keyset where the method
// can be ordered by id (and the caller's `order` allows it), else offset. It
// owns what every strategy shares:
//   - the consumer: pages go to the sink in the strategy's order, each with
//     the resume cursor that continues after it (list_cursor.h);
//   - flow control: about `max_unacked_pages` pages (of at most 50 items)
//     are handed to the sink and not yet acknowledged (a strategy may pass
//     it by what one range or batch holds); strategies fetch and hand over
//     more only as the consumer Ack()s, and read ahead of it no more than
//     `read_ahead_bytes`, so a slow consumer slows the reading and memory
//     stays bounded whatever the list's size and the width of its rows;
//   - the count: keyset strategies read with `start=-1` (no counting); the
//     total is asked for once, alone, in parallel with the first chains
//     (never waited for before streaming) unless `skip_total`, and sent with
//     the next page when it arrives; the summary checks the count against it
//     only when a total was obtained;
//   - finishing: once, with the summary or the first error.
// Items are unwrapped from `result` by the method's known shape (items, tasks,
// ...), the caller's override, or auto-detection.
//
// Thread-safety: thread-safe. Sink callbacks are serialised, in order, and
// run holding no lock of the reader's: a page's conversion (thousands of
// items) must not hold up the threads that bring answers, and the sink may
// call Ack from them. They are queued under the lock and handed over by
// whichever thread finds none handing over (Drain). Pages that wait for
// earlier ones (ListContext::ReadAhead) are made into the sink's form
// (ListSink::Preparer) ahead, on the portal's threads when they have nothing
// else to do (Dispatcher::Background), holding no lock of the reader's.
#ifndef B24GATE_ENGINE_LISTS_LIST_READER_H_
#define B24GATE_ENGINE_LISTS_LIST_READER_H_

#include <cstdint>
#include <deque>
#include <memory>
#include <optional>
#include <string>
#include <vector>

#include "absl/status/statusor.h"
#include "absl/synchronization/mutex.h"
#include "engine/common/clock.h"
#include "engine/lists/list_cursor.h"
#include "engine/lists/list_request.h"
#include "engine/lists/list_strategy.h"
#include "engine/portal/dispatcher.h"

namespace b24gate {

struct ListReaderOptions {
  // Pages handed to the sink and not yet acknowledged, about.
  int max_unacked_pages = 100;
  // How far a parallel keyset read may get ahead of the consumer: bytes of
  // items waiting in its ordered buffer (MessagePack, or what their pages
  // made ahead hold) plus those expected
  // from the batches in flight, reckoned at the size of the items seen so
  // far (the first batches, sent before any was seen, at 256 bytes each).
  int64_t read_ahead_bytes = kDefaultListReadAheadBytes;
  // Kept as long as the reader: what keeps its portal alive (the gateway's
  // portals may be removed while a read runs on them).
  std::shared_ptr<const void> portal_hold;
};

class ListReader : public std::enable_shared_from_this<ListReader>, private ListContext {
 public:
  // Validates the request and its resume cursor (INVALID_ARGUMENT saying
  // what is wrong) and makes a reader; Run() starts it. `sink` must stay
  // valid until OnDone has returned; `portal` and `clock` must outlive the
  // reader. The two steps let the consumer store the reader before any page
  // can arrive.
  static absl::StatusOr<std::shared_ptr<ListReader>> Create(Dispatcher* portal, Clock* clock,
                                                            ListRequest request, ListSink* sink,
                                                            ListReaderOptions options = {});
  ~ListReader() override;
  // Sends the first requests. Call once, holding no lock the sink takes.
  void Run();
  // The consumer has finished with one page.
  void Ack();
  // Stops: queued requests are dropped, OnDone(CANCELLED) follows.
  void Cancel();

 private:
  ListReader(Dispatcher* portal, Clock* clock, ListRequest request, ListSink* sink,
             ListReaderOptions options, ListShape shape, ListCursor resume, uint64_t request_hash);

  // ListContext, called holding mu_.
  Dispatcher* portal() override { return portal_; }
  absl::Time Now() const override { return clock_->Now(); }
  const ListRequest& request() const override { return request_; }
  CallOptions Options() const override;
  ItemExtractor* extractor() override { return &extractor_; }
  CallCallback Guard(std::function<void(absl::StatusOr<CallReply>)> fn) override;
  BatchCallback GuardBatch(std::function<void(absl::StatusOr<BatchResult>)> fn) override;
  void Deliver(std::vector<Json> items, Json resume) override;
  std::shared_ptr<EarlyPages> ReadAhead(std::vector<Json>* items, int64_t last_id) override;
  void Deliver(std::shared_ptr<EarlyPages> pages, size_t page, Json resume) override;
  bool ConsumerHasRoom() const override;
  int64_t read_ahead_bytes() const override { return options_.read_ahead_bytes; }
  void ReportTotal(int64_t total) override;
  std::optional<int64_t> total() const override;
  int64_t delivered() const override;
  void ListAnswered() override;
  bool CountOffered() const override { return count_offered_; }
  std::optional<BatchCommandSpec> TakeCountCommand() override;
  void CountAnswered(absl::StatusOr<CallReply> reply) override;
  void Warn(std::string warning) override;
  void Fail(absl::Status status) override;

  // What the sink is to be told, queued under mu_ (Deliver, Finish).
  struct SinkCall {
    std::optional<ListPage> page;  // else the end
    absl::Status status;
    ListSummary summary;
    // The page's items, made ahead (ReadAhead), when it has no items.
    std::shared_ptr<EarlyPages> early;
    size_t early_page = 0;
  };
  // Queues `call`, a page of `items` items, with the cursor after them.
  void QueuePage(int64_t items, Json resume, SinkCall call) ABSL_EXCLUSIVE_LOCKS_REQUIRED(mu_);
  // What a locked section leaves to the thread once it has released mu_:
  // the pages read ahead there to make, and whether it is to hand the
  // queued calls over (none is doing so).
  struct AfterLock {
    std::vector<std::shared_ptr<EarlyPages>> prepare;
    bool drain = false;
  };
  // Run while holding mu_ at the end of a locked section. Then, with mu_
  // released, Finally() makes the pages and Drain() hands the queued calls
  // over until the queue is empty.
  AfterLock EndLocked() ABSL_EXCLUSIVE_LOCKS_REQUIRED(mu_);
  void Finally(AfterLock work) ABSL_LOCKS_EXCLUDED(mu_);
  void Drain() ABSL_LOCKS_EXCLUDED(mu_);

  Json CountParams() const;
  void StartCount() ABSL_EXCLUSIVE_LOCKS_REQUIRED(mu_);
  void OnCount(absl::StatusOr<CallReply> reply) ABSL_EXCLUSIVE_LOCKS_REQUIRED(mu_);
  template <typename Result>
  std::function<void(Result)> Guarded(std::function<void(Result)> fn);
  // Lets the strategy send more, then finishes when everything is done.
  void Pump() ABSL_EXCLUSIVE_LOCKS_REQUIRED(mu_);
  void Finish(absl::Status status) ABSL_EXCLUSIVE_LOCKS_REQUIRED(mu_);
  std::string Cursor() const ABSL_EXCLUSIVE_LOCKS_REQUIRED(mu_);

  Dispatcher* const portal_;
  Clock* const clock_;
  const ListRequest request_;
  ListSink* const sink_;
  const ListReaderOptions options_;
  const ListShape shape_;
  const uint64_t request_hash_;
  // The sink's (ListSink::Preparer), or null.
  const std::shared_ptr<const PagePreparer> preparer_;
  std::shared_ptr<CancelToken> cancel_;

  // mutable: const ListContext accessors are called holding it.
  mutable absl::Mutex mu_;
  ItemExtractor extractor_ ABSL_GUARDED_BY(mu_);
  std::unique_ptr<ListStrategy> strategy_ ABSL_GUARDED_BY(mu_);
  bool finished_ ABSL_GUARDED_BY(mu_) = false;
  bool count_started_ ABSL_GUARDED_BY(mu_) = false;
  bool count_in_flight_ ABSL_GUARDED_BY(mu_) = false;
  // The strategy may take the count into one of its batches.
  bool count_offered_ ABSL_GUARDED_BY(mu_) = false;
  int unacked_pages_ ABSL_GUARDED_BY(mu_) = 0;
  int64_t count_ ABSL_GUARDED_BY(mu_) = 0;  // delivered, the cursor's earlier reads included
  int64_t delivered_here_ ABSL_GUARDED_BY(mu_) = 0;  // delivered by this read
  std::optional<int64_t> total_ ABSL_GUARDED_BY(mu_);
  bool total_sent_ ABSL_GUARDED_BY(mu_) = false;
  Json resume_state_ ABSL_GUARDED_BY(mu_);
  std::vector<std::string> warnings_ ABSL_GUARDED_BY(mu_);
  std::deque<SinkCall> sink_calls_ ABSL_GUARDED_BY(mu_);
  bool draining_ ABSL_GUARDED_BY(mu_) = false;
  // Read ahead and not yet made (ReadAhead): for the thread that read them.
  std::vector<std::shared_ptr<EarlyPages>> to_prepare_ ABSL_GUARDED_BY(mu_);
};

}  // namespace b24gate

#endif  // B24GATE_ENGINE_LISTS_LIST_READER_H_
