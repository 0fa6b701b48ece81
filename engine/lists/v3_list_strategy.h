// Reading a REST 3.0 list (docs/bitrix24-protocol.md, "REST 3.0"): there is
// no `start`, `total` or `next`, and pages are asked for by one of three
// forms, chosen from the request:
//   - kV3Keyset: the caller's filter (a list of conditions) plus
//     ["id", ">", last id], `order` by id ascending and `pagination.limit`;
//     items in id order, each exactly once even while the list changes.
//   - kV3Tail (`*.tail` methods, params with a `cursor`): the caller's
//     cursor {field?, order?, value?, limit?} (field `id` by default), its
//     `value` moved to the last item's field after each page.
//   - kV3Offset (any other `order`): `pagination` {limit, offset}; like
//     classic offset pages, rows added or removed meanwhile shift the pages.
// Pages ask for kV3PageLimit items, one request at a time (REST 3.0 calls
// travel alone). The list ends at an empty page or one shorter than the
// longest page seen: some methods cut `limit` to their own maximum without a
// word, so the limit asked for proves nothing. A page that does not move the
// keyset or tail forward ends the read with an error instead of looping.
//
// Resume state: {"after": ID}, {"value": V} or {"offset": N}.
//
// Thread-safety: see list_strategy.h.
#ifndef B24GATE_ENGINE_LISTS_V3_LIST_STRATEGY_H_
#define B24GATE_ENGINE_LISTS_V3_LIST_STRATEGY_H_

#include <cstdint>
#include <memory>
#include <optional>
#include <string>
#include <vector>

#include "absl/status/statusor.h"
#include "engine/lists/list_strategy.h"

namespace b24gate {

// Items asked for per page (the documented maximum of tasks.task.list).
constexpr int64_t kV3PageLimit = 1000;

// The parameters of a keyset page: `params` with ["id", ">", after] (and
// ["id", "<=", upto] when set) added to its filter, ordered by id ascending,
// kV3PageLimit items, and `id` in its select.
Json V3KeysetPageParams(Json params, int64_t after, std::optional<int64_t> upto);

// INVALID_ARGUMENT naming the field when `params` cannot be read as a REST
// 3.0 list: not an object, a `pagination` (GetAll pages by itself), a
// `filter` that is neither a list of conditions nor a condition group, a
// `select` that is not a list, or a `cursor` that is not {field?, order?, ...}.
absl::Status ValidateV3ListParams(const Json& params);

// The form a REST 3.0 list is read in: `requested` when it fits the params
// (kDefault chooses: tail with a `cursor`, parallel keyset when `order` is
// absent or by id ascending, else offset; kKeysetChain asks for the one
// chain of kV3Keyset); INVALID_ARGUMENT when it does not fit.
absl::StatusOr<ListStrategyKind> ChooseV3Strategy(ListStrategyKind requested, const Json& params);

class V3ListStrategy : public ListStrategy {
 public:
  // REQUIRES: `kind` is kV3Keyset, kV3Tail or kV3Offset, and the request's
  // params passed ValidateV3ListParams. INVALID_ARGUMENT when `resume` is not
  // this kind's state.
  static absl::StatusOr<std::unique_ptr<V3ListStrategy>> Create(ListStrategyKind kind,
                                                                ListContext* context,
                                                                const Json& resume);

  ListStrategyKind kind() const override { return kind_; }
  void Start() override { Pump(); }
  void Pump() override;
  bool done() const override { return done_; }
  int in_flight() const override { return in_flight_ ? 1 : 0; }

 private:
  V3ListStrategy(ListStrategyKind kind, ListContext* context, Json position);

  // The parameters of the next page.
  Json PageParams() const;
  void OnPage(absl::StatusOr<CallReply> reply);
  // The position after `item`, item `index_in_page` of the page that
  // started at `page_start` (the next page starts there), or null when the
  // item does not carry it.
  Json PositionAfter(const Json& item, const Json& page_start, int64_t index_in_page) const;
  // Hands `items` over in pages of at most 50, each with its exact resume
  // state; moves position_ to the end of them.
  void DeliverItems(std::vector<Json> items);
  Json ResumeState(const Json& position) const;

  const ListStrategyKind kind_;
  ListContext* const context_;
  // Where the next page starts: the last id, the tail cursor's value, or
  // the offset. Null: the first page (keyset from the start, tail from the
  // caller's value).
  Json position_;
  int64_t longest_page_ = 0;
  bool in_flight_ = false;
  bool done_ = false;
};

}  // namespace b24gate

#endif  // B24GATE_ENGINE_LISTS_V3_LIST_STRATEGY_H_
