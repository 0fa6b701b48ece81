// Reads a whole Bitrix24 list for GetAll.
//
// Two strategies:
//   - keyset (known ID-ordered methods, no caller `order` other than ID
//     ascending): the first page is read with its `total`, then pages are
//     chained up to 50 to a batch with `filter[>ID]=$result[prev][49][ID]` and
//     `start=-1`, the documented fast way (no offsets, no counting, 2,500 rows
//     per request). Rows come out in ID order, each exactly once.
//   - offset (everything else): `start=0` gives `total`; the remaining offsets
//     are read as batches of page requests, several in flight, delivered in
//     order. Methods without `total` are followed page by page through `next`.
//     No `order` is added, so methods that refuse it still work.
// Items are unwrapped from `result` by the method's known shape (items, tasks,
// ...), the caller's override, or auto-detection.
//
// Flow control: at most `max_unacked_pages` pages are handed to the sink and
// not yet acknowledged; the reader fetches more only as the consumer Ack()s,
// so memory stays bounded whatever the list's size.
//
// Thread-safety: thread-safe. Sink callbacks are serialised; the sink must
// not call back into the reader while holding a lock the reader's callers
// may need.
#ifndef B24GATE_ENGINE_LISTS_LIST_READER_H_
#define B24GATE_ENGINE_LISTS_LIST_READER_H_

#include <cstdint>
#include <map>
#include <memory>
#include <optional>
#include <set>
#include <string>
#include <vector>

#include <nlohmann/json.hpp>

#include "absl/status/status.h"
#include "absl/synchronization/mutex.h"
#include "engine/portal/call_types.h"
#include "engine/bitrix/method_traits.h"
#include "engine/portal/portal.h"

namespace b24gate {

struct ListRequest {
  std::string method;
  nlohmann::ordered_json params = nlohmann::ordered_json::object();
  std::string items_key;  // override; empty = table or auto-detect
  CallOptions options;
};

struct ListPage {
  std::vector<nlohmann::ordered_json> items;
  int64_t items_so_far = 0;
  std::optional<int64_t> total;
};

struct ListSummary {
  int64_t count = 0;
  std::optional<int64_t> total;
  bool total_matched = true;
  std::string strategy;
  std::vector<std::string> warnings;
};

class ListSink {
 public:
  virtual ~ListSink() = default;
  virtual void OnPage(ListPage page) = 0;
  // Called once, last.
  virtual void OnDone(absl::Status status, ListSummary summary) = 0;
};

class ListReader : public std::enable_shared_from_this<ListReader> {
 public:
  // Validates the request (INVALID_ARGUMENT) and makes a reader; Run()
  // starts it. `sink` must stay valid until OnDone has returned. The two
  // steps let the consumer store the reader before any page can arrive.
  static absl::StatusOr<std::shared_ptr<ListReader>> Create(Portal* portal, ListRequest request,
                                                            ListSink* sink,
                                                            int max_unacked_pages = 100);
  // Sends the first request. Call once, holding no lock the sink takes.
  void Run();
  // The consumer has finished with one page.
  void Ack();
  // Stops: queued requests are dropped, OnDone(CANCELLED) follows.
  void Cancel();

 private:
  ListReader(Portal* portal, ListRequest request, ListSink* sink, int max_unacked_pages);

  void Begin();
  void OnFirstPage(absl::StatusOr<CallReply> reply);
  void FetchMore() ABSL_EXCLUSIVE_LOCKS_REQUIRED(mu_);
  void StartKeysetUnit() ABSL_EXCLUSIVE_LOCKS_REQUIRED(mu_);
  void OnKeysetUnit(int pages, absl::StatusOr<BatchResult> result);
  void StartOffsetUnit() ABSL_EXCLUSIVE_LOCKS_REQUIRED(mu_);
  void OnOffsetUnit(int64_t unit, std::vector<int64_t> starts, absl::StatusOr<BatchResult> result);
  void DeliverReadyOffsetUnits() ABSL_EXCLUSIVE_LOCKS_REQUIRED(mu_);
  void FollowNext(int64_t start) ABSL_EXCLUSIVE_LOCKS_REQUIRED(mu_);
  void OnNextPage(absl::StatusOr<CallReply> reply);

  // Items of one page's `result`; false if the shape is not a list.
  bool ExtractItems(const nlohmann::ordered_json& result, std::vector<nlohmann::ordered_json>* items)
      ABSL_EXCLUSIVE_LOCKS_REQUIRED(mu_);
  void Deliver(std::vector<nlohmann::ordered_json> items) ABSL_EXCLUSIVE_LOCKS_REQUIRED(mu_);
  void Finish(absl::Status status) ABSL_EXCLUSIVE_LOCKS_REQUIRED(mu_);
  nlohmann::ordered_json PageParams(int64_t start) const;
  nlohmann::ordered_json KeysetParams(const nlohmann::ordered_json& after) const;
  CallOptions Options() const;

  Portal* const portal_;
  const ListRequest request_;
  ListSink* const sink_;
  const int max_unacked_pages_;
  std::shared_ptr<CancelToken> cancel_;

  absl::Mutex mu_;
  ListShape shape_ ABSL_GUARDED_BY(mu_);
  bool keyset_ ABSL_GUARDED_BY(mu_) = false;
  bool finished_ ABSL_GUARDED_BY(mu_) = false;
  bool end_reached_ ABSL_GUARDED_BY(mu_) = false;
  int in_flight_units_ ABSL_GUARDED_BY(mu_) = 0;
  int unacked_pages_ ABSL_GUARDED_BY(mu_) = 0;
  int64_t count_ ABSL_GUARDED_BY(mu_) = 0;
  std::optional<int64_t> total_ ABSL_GUARDED_BY(mu_);
  ListSummary summary_ ABSL_GUARDED_BY(mu_);
  // Keyset: the last ID delivered.
  int64_t last_id_ ABSL_GUARDED_BY(mu_) = 0;
  // Offset: next start to request, units delivered in order.
  int64_t next_start_ ABSL_GUARDED_BY(mu_) = 0;
  int64_t next_unit_ ABSL_GUARDED_BY(mu_) = 0;
  int64_t deliver_unit_ ABSL_GUARDED_BY(mu_) = 0;
  std::map<int64_t, std::vector<std::vector<nlohmann::ordered_json>>> ready_units_ ABSL_GUARDED_BY(mu_);
  std::optional<int64_t> follow_next_ ABSL_GUARDED_BY(mu_);
  std::set<std::string> seen_ids_ ABSL_GUARDED_BY(mu_);
  int64_t duplicates_ ABSL_GUARDED_BY(mu_) = 0;
};

}  // namespace b24gate

#endif  // B24GATE_ENGINE_LISTS_LIST_READER_H_
