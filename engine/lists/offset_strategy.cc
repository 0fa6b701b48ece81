#include "engine/lists/offset_strategy.h"

#include <algorithm>
#include <cmath>

#include "absl/strings/str_cat.h"
#include "absl/time/clock.h"
#include "engine/common/errors.h"
#include "engine/lists/keyset_pages.h"

namespace b24gate {
namespace {

// Ids remembered to drop rows met twice: a few batches' worth.
constexpr size_t kRecentIds = 4 * kMaxPages * kPageSize;

double ProcessingOf(const Json& time) {
  if (time.is_object() && time.contains("processing") && time["processing"].is_number()) {
    return time["processing"].get<double>();
  }
  return 0;
}

std::string IdText(const Json& item) {
  if (!item.is_object()) return "";
  for (const char* key : {"ID", "id"}) {
    auto it = item.find(key);
    if (it != item.end()) return it->is_string() ? it->get<std::string>() : it->dump();
  }
  return "";
}

}  // namespace

absl::StatusOr<std::unique_ptr<OffsetStrategy>> OffsetStrategy::Create(ListContext* context,
                                                                        const Json& resume) {
  int64_t start = 0;
  if (!resume.is_null()) {
    if (!resume.is_object() || !resume.contains("start") || !ToInt64(resume["start"], &start) ||
        start < 0 || start % kPageSize != 0) {
      return absl::InvalidArgumentError("resume_cursor: not a cursor of an offset read");
    }
  }
  return std::unique_ptr<OffsetStrategy>(new OffsetStrategy(context, start));
}

OffsetStrategy::OffsetStrategy(ListContext* context, int64_t first_start)
    : context_(context), first_start_(first_start), recent_(kRecentIds) {}

Json OffsetStrategy::PageParams(int64_t start) const {
  Json p = context_->request().params;
  p["start"] = start;
  return p;
}

void OffsetStrategy::Start() {
  in_flight_++;
  context_->portal()->Call(context_->request().method, PageParams(first_start_), /*as_json=*/false,
                           context_->Options(), context_->Guard([this](absl::StatusOr<CallReply> r) {
                             OnFirstPage(std::move(r));
                           }));
}

void OffsetStrategy::OnFirstPage(absl::StatusOr<CallReply> reply) {
  in_flight_--;
  if (!reply.ok()) {
    context_->Fail(reply.status());
    return;
  }
  Page page{first_start_, {}};
  if (!context_->extractor()->Extract(reply->result, &page.items)) {
    context_->Fail(absl::InvalidArgumentError(absl::StrCat(
        context_->request().method,
        " did not return a list; set items_key to where the items sit in `result`")));
    return;
  }
  if (reply->total) context_->ReportTotal(*reply->total);
  page_seconds_ = ProcessingOf(reply->time);
  next_start_ = first_start_ + kPageSize;
  if (!reply->next) {
    end_ = next_start_;  // the only page
  } else if (!reply->total) {
    follow_next_ = *reply->next;  // no total: page by page
  } else {
    next_start_ = *reply->next;
    end_ = *reply->total;
  }
  DeliverPage(std::move(page));
}

void OffsetStrategy::Pump() {
  if (done_) return;
  DeliverReadyUnits();
  if (follow_next_) {
    if (in_flight_ == 0 && ready_units_.empty() && context_->ConsumerHasRoom()) FollowNext();
    return;
  }
  if (!end_) return;  // the first page is out, or a page followed through `next`
  cost_.operating_seconds = page_seconds_ * PagesPerUnit();
  int allowed = BatchesAllowed(context_->portal()->Budget(context_->request().method), cost_);
  while (in_flight_ < allowed && next_start_ < *end_ && context_->ConsumerHasRoom() &&
         static_cast<int>(ready_units_.size()) < 2 * allowed) {
    StartUnit();
  }
  if (in_flight_ == 0 && ready_units_.empty() && next_start_ >= *end_) done_ = true;
}

int OffsetStrategy::PagesPerUnit() const {
  // Every offset page counts the list: on a big table one page costs seconds
  // of operating time. Deeper pages cost more (the portal walks the skipped
  // rows too), so a page is reckoned at twice the dearest seen so far.
  if (page_seconds_ <= 0) return kMaxPages;
  // The batches in flight must never carry the method past its limit.
  PortalBudget budget = context_->portal()->Budget(context_->request().method);
  double left = absl::ToDoubleSeconds(budget.operating_left) - in_flight_operating_;
  double by_operating = std::floor(left / (2 * page_seconds_));
  // The batch's pages run back to back on the portal: they must end well
  // within the request timeout (here: in 60% of it, a page reckoned at a
  // quarter more than the dearest seen), or the answer is lost while the
  // portal still charges their time, and a read sent again is charged twice.
  double timeout = absl::ToDoubleSeconds(budget.request_timeout);
  double by_timeout = std::floor(0.6 * timeout / (1.25 * page_seconds_));
  return static_cast<int>(std::clamp(std::min(by_operating, by_timeout), 1.0, double{kMaxPages}));
}

void OffsetStrategy::StartUnit() {
  std::vector<int64_t> starts;
  int pages = PagesPerUnit();
  for (int i = 0; i < pages && next_start_ < *end_; ++i) {
    starts.push_back(next_start_);
    next_start_ += kPageSize;
  }
  int64_t unit = next_unit_++;
  units_[unit].first_start = starts.front();
  units_[unit].pages.resize(starts.size());
  SendUnit(unit, std::move(starts));
}

void OffsetStrategy::SendUnit(int64_t unit, std::vector<int64_t> starts) {
  std::vector<BatchCommandSpec> commands;
  for (size_t i = 0; i < starts.size(); ++i) {
    commands.push_back({absl::StrCat("o", i), context_->request().method, PageParams(starts[i])});
  }
  in_flight_++;
  double operating = 2 * page_seconds_ * static_cast<double>(starts.size());
  in_flight_operating_ += operating;
  absl::Time sent = context_->Now();
  context_->portal()->Batch(
      std::move(commands), /*halt=*/false, context_->Options(),
      context_->GuardBatch([this, unit, starts, sent, operating](absl::StatusOr<BatchResult> r) {
        in_flight_operating_ -= operating;
        OnUnit(unit, starts, sent, std::move(r));
      }));
}

void OffsetStrategy::OnUnit(int64_t unit, std::vector<int64_t> starts, absl::Time sent,
                            absl::StatusOr<BatchResult> result) {
  in_flight_--;
  if (!result.ok()) {
    context_->Fail(result.status());
    return;
  }
  Unit& u = units_[unit];
  std::vector<int64_t> again;  // pages the portal did not run (operating time)
  double operating = 0;
  for (size_t i = 0; i < starts.size(); ++i) {
    size_t slot = static_cast<size_t>((starts[i] - u.first_start) / kPageSize);
    auto it = result->outcomes.find(absl::StrCat("o", i));
    if (it == result->outcomes.end() ||
        (!it->second.ok() && it->second.status().code() == absl::StatusCode::kResourceExhausted)) {
      again.push_back(starts[i]);
      continue;
    }
    if (!it->second.ok()) {
      context_->Fail(it->second.status());
      return;
    }
    operating += ProcessingOf(it->second->time);
    Page page{starts[i], {}};
    if (!context_->extractor()->Extract(it->second->result, &page.items)) {
      context_->Fail(absl::InvalidArgumentError(absl::StrCat(context_->request().method, " did not return a list")));
      return;
    }
    if (starts[i] + kPageSize >= next_start_) last_next_ = it->second->next;
    u.pages[slot] = std::move(page);
    u.received++;
  }
  size_t answered = starts.size() - again.size();
  if (answered > 0) {
    cost_.wall_seconds = absl::ToDoubleSeconds(context_->Now() - sent);
    page_seconds_ = std::max(page_seconds_, operating / static_cast<double>(answered));
  }
  if (!again.empty()) {
    SendUnit(unit, std::move(again));  // the dispatcher holds it until the method may run
    return;
  }
  if (u.received < u.pages.size()) return;
  // Rows added while reading push the list past the first `total`.
  if (next_start_ >= *end_ && last_next_ && *last_next_ >= next_start_) {
    end_.reset();
    follow_next_ = *last_next_;
  }
  std::vector<Page> pages;
  for (auto& p : u.pages) pages.push_back(std::move(*p));
  units_.erase(unit);
  ready_units_[unit] = std::move(pages);
}

void OffsetStrategy::DeliverReadyUnits() {
  for (;;) {
    auto it = ready_units_.find(deliver_unit_);
    if (it == ready_units_.end()) return;
    for (auto& page : it->second) DeliverPage(std::move(page));
    ready_units_.erase(it);
    deliver_unit_++;
  }
}

void OffsetStrategy::DeliverPage(Page page) {
  std::vector<Json> fresh;
  fresh.reserve(page.items.size());
  for (auto& item : page.items) {
    std::string id = IdText(item);
    if (!id.empty() && !recent_.Insert(RecentIds::Key(id))) {
      duplicates_++;
      continue;
    }
    fresh.push_back(std::move(item));
  }
  if (fresh.size() < page.items.size() && duplicates_ == static_cast<int64_t>(page.items.size() - fresh.size())) {
    context_->Warn("rows were seen twice (the list changed while it was read) and were delivered once");
  }
  context_->Deliver(std::move(fresh), Json{{"start", page.start + kPageSize}});
}

void OffsetStrategy::FollowNext() {
  int64_t start = *follow_next_;
  follow_next_.reset();
  in_flight_++;
  context_->portal()->Call(context_->request().method, PageParams(start), /*as_json=*/false,
                           context_->Options(),
                           context_->Guard([this, start](absl::StatusOr<CallReply> r) {
                             OnNextPage(start, std::move(r));
                           }));
}

void OffsetStrategy::OnNextPage(int64_t start, absl::StatusOr<CallReply> reply) {
  in_flight_--;
  if (!reply.ok()) {
    context_->Fail(reply.status());
    return;
  }
  Page page{start, {}};
  if (!context_->extractor()->Extract(reply->result, &page.items)) {
    context_->Fail(absl::InvalidArgumentError(absl::StrCat(context_->request().method, " did not return a list")));
    return;
  }
  if (reply->total) context_->ReportTotal(*reply->total);
  if (reply->next) {
    follow_next_ = *reply->next;
  } else {
    next_start_ = start + kPageSize;
    end_ = next_start_;
  }
  DeliverPage(std::move(page));
}

}  // namespace b24gate
