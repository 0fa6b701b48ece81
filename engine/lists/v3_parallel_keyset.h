// Reading a REST 3.0 list by id in parallel, its pages travelling in REST
// 3.0 batches (docs/bitrix24-protocol.md, "REST 3.0"), where the read is by
// id (`order` absent or by id ascending), as the classic parallel reader
// does for classic lists:
//   1. One batch asks for the first page (the caller's filter plus
//      ["id", ">", where the read starts], by id ascending) and for the
//      highest id (by id descending, one item).
//   2. The first page tells how many items a page holds (the method's own
//      maximum: methods cut `limit` without a word) and how dense the ids
//      are; the ids up to the highest are cut into pieces a little smaller
//      than a page is expected to hold, the last piece open-ended (items
//      added meanwhile are read too).
//   3. Each piece is read by its own keyset pages (["id", ">", its last
//      id], ["id", "<=", its end]); pages of several pieces share a batch,
//      and up to kV3BatchesInFlight batches are in flight at once. A piece
//      ends at an empty page or one shorter than the largest page seen;
//      else its next page goes in a later batch.
// Items are delivered exactly once in id order (`unordered` is not needed:
// later pieces wait in memory, and new pieces start only while what waits
// is within the read-ahead budget). A page that does not move a piece's id
// forward ends the read with FAILED_PRECONDITION. No total.
//
// Resume state: {"after": ID}, as kV3Keyset's.
//
// Thread-safety: see list_strategy.h.
#ifndef B24GATE_ENGINE_LISTS_V3_PARALLEL_KEYSET_H_
#define B24GATE_ENGINE_LISTS_V3_PARALLEL_KEYSET_H_

#include <cstdint>
#include <map>
#include <memory>
#include <optional>
#include <string>
#include <vector>

#include "absl/status/statusor.h"
#include "engine/lists/list_strategy.h"

namespace b24gate {

// REST 3.0 batches one read keeps in flight at most.
constexpr int kV3BatchesInFlight = 4;

class V3ParallelKeysetStrategy : public ListStrategy {
 public:
  // REQUIRES: the request's params passed ValidateV3ListParams and allow
  // keyset reading. INVALID_ARGUMENT when `resume` is not {"after": ID}.
  static absl::StatusOr<std::unique_ptr<V3ParallelKeysetStrategy>> Create(ListContext* context,
                                                                          const Json& resume);

  ListStrategyKind kind() const override { return ListStrategyKind::kV3ParallelKeyset; }
  void Start() override;
  void Pump() override;
  bool done() const override { return done_; }
  int in_flight() const override { return in_flight_; }

 private:
  // Ids (after, upto] (upto unset: to the end), read page by page.
  struct Piece {
    int64_t after = 0;
    std::optional<int64_t> upto;
    std::vector<Json> items;  // read, not yet delivered
    bool sent = false;        // a page of it is in flight
    bool started = false;     // a page of it was sent
    bool done = false;
  };

  V3ParallelKeysetStrategy(ListContext* context, int64_t after);

  void OnProbe(absl::StatusOr<BatchResult> batch);
  // Cuts (after, highest] into pieces of about `width` ids.
  void Plan(int64_t after, int64_t highest, int64_t width);
  void SendBatch(std::vector<int64_t> pieces);
  void OnBatch(std::vector<int64_t> pieces, absl::StatusOr<BatchResult> batch);
  // The items of one page of piece `p`, or the read's failure.
  absl::Status TakePage(Piece& p, const absl::StatusOr<CallReply>& reply,
                        std::vector<Json>* items);
  // Hands over what the first pieces hold, in id order.
  void DeliverReady();
  // Items read and waiting, beyond what the first piece may deliver.
  int64_t Waiting() const;

  ListContext* const context_;
  // Where the read stands: the last id delivered.
  int64_t after_;
  // Pieces by first id (after + 1): in id order.
  std::map<int64_t, Piece> pieces_;
  int64_t longest_page_ = 0;
  int in_flight_ = 0;        // batches
  int64_t pages_in_flight_ = 0;
  bool probed_ = false;
  bool done_ = false;
};

}  // namespace b24gate

#endif  // B24GATE_ENGINE_LISTS_V3_PARALLEL_KEYSET_H_
