// Keyset reading in one chain, the official SDKs' algorithm: id-ordered pages
// with `start=-1` (no counting), 50 chained in one batch through
// `$result[p{i-1}][49][ID]`, one batch after another. Items come out in id
// order, each exactly once. The caller's own id bounds in `filter` are kept
// (intersected with the chain's).
//
// Resume state: {"after": ID}, the last id delivered.
//
// Thread-safety: see list_strategy.h.
#ifndef B24GATE_ENGINE_LISTS_KEYSET_CHAIN_STRATEGY_H_
#define B24GATE_ENGINE_LISTS_KEYSET_CHAIN_STRATEGY_H_

#include <memory>

#include "engine/lists/keyset_pages.h"
#include "engine/lists/list_strategy.h"

namespace b24gate {

class KeysetChainStrategy : public ListStrategy {
 public:
  // INVALID_ARGUMENT when the method has no id order, the caller's `order`
  // is not by id ascending, an id bound is not an integer, or `resume` is
  // not {"after": ID}.
  static absl::StatusOr<std::unique_ptr<KeysetChainStrategy>> Create(ListContext* context,
                                                                     const ListShape& shape,
                                                                     const Json& resume);

  ListStrategyKind kind() const override { return ListStrategyKind::kKeysetChain; }
  void Start() override { Pump(); }
  void Pump() override;
  bool done() const override { return done_; }
  int in_flight() const override { return in_flight_; }

 private:
  KeysetChainStrategy(ListContext* context, KeysetQuery query, IdRange range);
  void OnBatch(int pages, absl::StatusOr<BatchResult> result);

  ListContext* const context_;
  const KeysetQuery query_;
  IdRange range_;  // what is left to read
  bool done_ = false;
  int in_flight_ = 0;
};

// Checks shared by the keyset strategies: the method reads by id and the
// caller's order allows it. Fills `query` and the caller's id range.
absl::Status PrepareKeyset(const ListRequest& request, const ListShape& shape, KeysetQuery* query,
                           IdRange* range);
// Delivers `items` (ascending ids) one page of 50 at a time, each with the
// resume state `resume(last id so far)`, so messages stay small and every
// one carries an exact cursor. Nothing to deliver still passes the state on.
void DeliverByPage(ListContext* context, std::vector<Json> items, const std::string& id_field,
                   int64_t last_id, const std::function<Json(int64_t)>& resume);
// The last delivered id of a keyset resume state {"after": ID}, or
// INVALID_ARGUMENT.
absl::StatusOr<int64_t> KeysetResumeAfter(const Json& resume);

}  // namespace b24gate

#endif  // B24GATE_ENGINE_LISTS_KEYSET_CHAIN_STRATEGY_H_
