#include "engine/lists/keyset_chain_strategy.h"

#include <algorithm>

#include "absl/strings/str_cat.h"

namespace b24gate {

absl::Status PrepareKeyset(const ListRequest& request, const ListShape& shape, KeysetQuery* query,
                           IdRange* range) {
  if (shape.keyset_filter_field.empty()) {
    return absl::InvalidArgumentError(
        absl::StrCat("strategy: ", request.method, " cannot be read by id; use the offset strategy"));
  }
  if (!OrderAllowsKeyset(request.params, shape.keyset_order_field)) {
    return absl::InvalidArgumentError(absl::StrCat(
        "params.order: keyset reading delivers in ", shape.keyset_order_field,
        " order; remove `order` or use the offset strategy"));
  }
  absl::StatusOr<CallerIdFilter> split = SplitIdFilter(request.params, shape.keyset_filter_field);
  if (!split.ok()) return split.status();
  query->method = request.method;
  query->params = request.params;
  query->base_filter = std::move(split->filter);
  query->shape = shape;
  *range = split->range;
  return absl::OkStatus();
}

void DeliverByPage(ListContext* context, std::vector<Json> items, const std::string& id_field,
                   int64_t last_id, const std::function<Json(int64_t)>& resume) {
  if (items.empty()) {
    context->Deliver({}, resume(last_id));
    return;
  }
  for (ItemPage& page : CutIntoPages(std::move(items), id_field, last_id)) {
    context->Deliver(std::move(page.items), resume(page.last_id));
  }
}

absl::StatusOr<int64_t> KeysetResumeAfter(const Json& resume) {
  int64_t after = 0;
  if (!resume.is_object() || !resume.contains("after") || !ToInt64(resume["after"], &after)) {
    return absl::InvalidArgumentError("resume_cursor: not a cursor of a keyset read");
  }
  return after;
}

absl::StatusOr<std::unique_ptr<KeysetChainStrategy>> KeysetChainStrategy::Create(
    ListContext* context, const ListShape& shape, const Json& resume) {
  KeysetQuery query;
  IdRange range;
  if (absl::Status s = PrepareKeyset(context->request(), shape, &query, &range); !s.ok()) return s;
  if (!resume.is_null()) {
    absl::StatusOr<int64_t> after = KeysetResumeAfter(resume);
    if (!after.ok()) return after.status();
    range.after = std::max(range.after, *after);
  }
  return std::unique_ptr<KeysetChainStrategy>(
      new KeysetChainStrategy(context, std::move(query), range));
}

KeysetChainStrategy::KeysetChainStrategy(ListContext* context, KeysetQuery query, IdRange range)
    : context_(context), query_(std::move(query)), range_(range) {
  if (range_.empty()) done_ = true;
}

void KeysetChainStrategy::Pump() {
  if (done_ || in_flight_ > 0 || !context_->ConsumerHasRoom()) return;
  int pages = kMaxPages;
  if (std::optional<int64_t> total = context_->total()) {
    // Pages past the end re-read the list from its start (their reference is
    // empty): ask for one page more than the total promises, to notice rows
    // added meanwhile, and no more.
    int64_t remaining = std::max<int64_t>(0, *total - context_->delivered());
    pages = static_cast<int>(std::min<int64_t>(kMaxPages, remaining / kPageSize + 1));
  }
  in_flight_++;
  context_->portal()->Batch(ChainCommands(query_, context_->extractor()->items_key(), range_, pages),
                            /*halt=*/false, context_->Options(),
                            context_->GuardBatch([this, pages](absl::StatusOr<BatchResult> r) {
                              OnBatch(pages, std::move(r));
                            }));
}

void KeysetChainStrategy::OnBatch(int pages, absl::StatusOr<BatchResult> result) {
  in_flight_--;
  if (!result.ok()) {
    context_->Fail(result.status());
    return;
  }
  absl::StatusOr<ChainPages> read = ReadChain(query_, &*result, pages, range_, context_->extractor());
  if (!read.ok()) {
    context_->Fail(read.status());
    return;
  }
  context_->ListAnswered();
  range_.after = read->last_id;
  if (read->range_done) done_ = true;
  DeliverByPage(context_, std::move(read->items), query_.shape.item_id_field, range_.after,
                [](int64_t after) { return Json{{"after", after}}; });
}

}  // namespace b24gate
