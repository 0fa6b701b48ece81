#include "engine/lists/v3_parallel_keyset.h"

#include <algorithm>
#include <utility>

#include "absl/strings/str_cat.h"
#include "engine/common/errors.h"
#include "engine/lists/keyset_pages.h"
#include "engine/lists/v3_list_strategy.h"

namespace b24gate {
namespace {

constexpr char kIdField[] = "id";
// A REST 3.0 batch's limit.
constexpr int kMaxPagesPerBatch = 50;
// What an item is reckoned to weigh before the read-ahead budget is spent.
constexpr int64_t kItemBytes = 256;
// A piece is cut this much smaller than a page is expected to hold, so that
// it ends within one page although the ids are not evenly spread.
constexpr double kPieceFill = 0.9;

std::string KeyOf(int64_t piece) { return absl::StrCat("p", piece); }

// The highest id the list holds (beyond `after`): one item by id descending.
Json HighestIdParams(const Json& params, int64_t after) {
  Json p = V3KeysetPageParams(params, after, std::nullopt);
  p["order"] = {{kIdField, "DESC"}};
  p["pagination"] = {{"limit", 1}};
  p["select"] = Json::array({kIdField});
  return p;
}

absl::Status NotForward(const std::string& method, int64_t id) {
  return absl::FailedPreconditionError(
      absl::StrCat(method, " returned a page that does not move the id forward (its last item's "
                           "id is ",
                   id, ")"));
}

}  // namespace

absl::StatusOr<std::unique_ptr<V3ParallelKeysetStrategy>> V3ParallelKeysetStrategy::Create(
    ListContext* context, const Json& resume) {
  int64_t after = 0;
  if (!resume.is_null() &&
      !(resume.is_object() && resume.contains("after") && ToInt64(resume["after"], &after) &&
        after >= 0)) {
    return absl::InvalidArgumentError(
        "resume_cursor: not a cursor of a v3_parallel_keyset read");
  }
  return std::unique_ptr<V3ParallelKeysetStrategy>(new V3ParallelKeysetStrategy(context, after));
}

V3ParallelKeysetStrategy::V3ParallelKeysetStrategy(ListContext* context, int64_t after)
    : context_(context), after_(after) {}

void V3ParallelKeysetStrategy::Start() {
  const ListRequest& request = context_->request();
  std::vector<BatchCommandSpec> probe = {
      {"first", request.method, V3KeysetPageParams(request.params, after_, std::nullopt)},
      {"highest", request.method, HighestIdParams(request.params, after_)}};
  in_flight_++;
  context_->portal()->Batch(std::move(probe), /*halt=*/true, context_->Options(),
                            context_->GuardBatch([this](absl::StatusOr<BatchResult> batch) {
                              OnProbe(std::move(batch));
                            }));
}

void V3ParallelKeysetStrategy::OnProbe(absl::StatusOr<BatchResult> batch) {
  in_flight_--;
  probed_ = true;
  Piece first;
  first.after = after_;
  std::vector<Json> items, highest;
  absl::Status s = batch.status();
  if (s.ok()) s = TakePage(first, batch->outcomes["first"], &items);
  Piece top;
  if (s.ok()) s = TakePage(top, batch->outcomes["highest"], &highest);
  if (!s.ok()) {
    context_->Fail(s);
    return;
  }
  longest_page_ = static_cast<int64_t>(items.size());
  const int64_t last = first.after;
  const std::optional<int64_t> top_id = highest.empty() ? std::nullopt : ItemId(highest[0], kIdField);
  if (!items.empty() && top_id && *top_id > last) {
    // Ids per item on the first page: how wide a piece of one page is.
    const std::optional<int64_t> low = ItemId(items.front(), kIdField);
    const double density =
        items.size() > 1 && low ? static_cast<double>(last - *low) / (items.size() - 1) : 1.0;
    Plan(last, *top_id,
         std::max<int64_t>(1, static_cast<int64_t>(kPieceFill * longest_page_ * density)));
  }
  first.items = std::move(items);
  first.done = true;
  pieces_.emplace(after_ + 1, std::move(first));
  DeliverReady();
}

void V3ParallelKeysetStrategy::Plan(int64_t after, int64_t highest, int64_t width) {
  for (int64_t from = after; from < highest; from += width) {
    Piece p;
    p.after = from;
    if (highest - from > width) p.upto = from + width;
    pieces_.emplace(from + 1, std::move(p));
  }
}

void V3ParallelKeysetStrategy::Pump() {
  if (!probed_ || done_) return;
  while (in_flight_ < kV3BatchesInFlight && context_->ConsumerHasRoom()) {
    // Pieces already begun go on whatever waits; a new one only while the
    // items waiting and those in flight stay within the read-ahead budget.
    // The first piece, which the consumer waits for, is never held back.
    int64_t reckoned = (Waiting() + pages_in_flight_ * longest_page_) * kItemBytes;
    std::vector<int64_t> ready;
    for (auto& [start, piece] : pieces_) {
      if (piece.done || piece.sent) continue;
      if (!piece.started && start != pieces_.begin()->first) {
        if (reckoned > context_->read_ahead_bytes()) continue;
        reckoned += longest_page_ * kItemBytes;
      }
      ready.push_back(start);
    }
    if (ready.empty()) return;
    // Spread over the batches that may still go, so they run side by side.
    const int slots = kV3BatchesInFlight - in_flight_;
    const size_t per_batch = std::clamp<size_t>((ready.size() + slots - 1) / slots, 1,
                                                kMaxPagesPerBatch);
    ready.resize(std::min(ready.size(), per_batch));
    SendBatch(std::move(ready));
  }
}

void V3ParallelKeysetStrategy::SendBatch(std::vector<int64_t> pieces) {
  const ListRequest& request = context_->request();
  std::vector<BatchCommandSpec> pages;
  for (int64_t start : pieces) {
    Piece& p = pieces_.at(start);
    p.sent = p.started = true;
    pages.push_back({KeyOf(start), request.method,
                     V3KeysetPageParams(request.params, p.after, p.upto)});
  }
  in_flight_++;
  pages_in_flight_ += static_cast<int64_t>(pages.size());
  context_->portal()->Batch(
      std::move(pages), /*halt=*/true, context_->Options(),
      context_->GuardBatch([this, pieces = std::move(pieces)](absl::StatusOr<BatchResult> batch) {
        OnBatch(pieces, std::move(batch));
      }));
}

void V3ParallelKeysetStrategy::OnBatch(std::vector<int64_t> pieces,
                                       absl::StatusOr<BatchResult> batch) {
  in_flight_--;
  pages_in_flight_ -= static_cast<int64_t>(pieces.size());
  if (!batch.ok()) {
    context_->Fail(batch.status());
    return;
  }
  std::vector<std::vector<Json>> pages(pieces.size());
  for (size_t i = 0; i < pieces.size(); ++i) {
    Piece& p = pieces_.at(pieces[i]);
    if (absl::Status s = TakePage(p, batch->outcomes[KeyOf(pieces[i])], &pages[i]); !s.ok()) {
      context_->Fail(s);
      return;
    }
    longest_page_ = std::max<int64_t>(longest_page_, pages[i].size());
  }
  // Decided once the whole batch is read: the largest page seen may have
  // grown with it.
  for (size_t i = 0; i < pieces.size(); ++i) {
    Piece& p = pieces_.at(pieces[i]);
    const int64_t size = static_cast<int64_t>(pages[i].size());
    p.sent = false;
    p.done = size == 0 || size < longest_page_;
    for (Json& item : pages[i]) p.items.push_back(std::move(item));
  }
  DeliverReady();
}

absl::Status V3ParallelKeysetStrategy::TakePage(Piece& p, const absl::StatusOr<CallReply>& reply,
                                                std::vector<Json>* items) {
  if (!reply.ok()) return reply.status();
  const std::string& method = context_->request().method;
  if (!context_->extractor()->Extract(reply->result, items)) {
    return absl::InvalidArgumentError(absl::StrCat(method, " did not return a list under result.",
                                                    context_->extractor()->items_key()));
  }
  if (items->empty()) return absl::OkStatus();
  const std::optional<int64_t> last = ItemId(items->back(), kIdField);
  if (!last || *last <= p.after) return NotForward(method, last.value_or(p.after));
  p.after = *last;
  return absl::OkStatus();
}

void V3ParallelKeysetStrategy::DeliverReady() {
  while (!pieces_.empty()) {
    Piece& head = pieces_.begin()->second;
    std::vector<Json>& items = head.items;
    for (size_t first = 0; first < items.size(); first += kPageSize) {
      const size_t end = std::min(items.size(), first + kPageSize);
      after_ = ItemId(items[end - 1], kIdField).value_or(after_);
      std::vector<Json> page(std::make_move_iterator(items.begin() + first),
                             std::make_move_iterator(items.begin() + end));
      context_->Deliver(std::move(page), Json{{"after", after_}});
    }
    items.clear();
    if (!head.done) return;
    pieces_.erase(pieces_.begin());
  }
  done_ = true;
}

int64_t V3ParallelKeysetStrategy::Waiting() const {
  int64_t waiting = 0;
  for (const auto& [start, piece] : pieces_) waiting += static_cast<int64_t>(piece.items.size());
  return waiting;
}

}  // namespace b24gate
