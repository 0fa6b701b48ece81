#include "engine/portal/dispatch_queue.h"

#include <algorithm>
#include <iterator>

#include "absl/strings/str_cat.h"
#include "engine/common/errors.h"

namespace b24gate {
namespace {

absl::Status WhyAbandoned(const Work& w, absl::Time now, absl::Duration write_lead) {
  if (w.Cancelled()) {
    return GatewayError(absl::StatusCode::kCancelled, kReasonCancelled, "the call was cancelled");
  }
  if (w.options.deadline > now) {
    // A write that cannot finish in time is not started: its caller learns
    // for certain that it did not run.
    return GatewayError(
        absl::StatusCode::kDeadlineExceeded, kReasonNotExecuted,
        absl::StrCat("deadline too near: the write was not sent because the portal's recent "
                     "answers took about ",
                     absl::FormatDuration(write_lead), " and it could not finish in time"));
  }
  return GatewayError(absl::StatusCode::kDeadlineExceeded, kReasonDeadline,
                      w.last_error.ok() ? "deadline exceeded while queued (portal limits)"
                                        : absl::StrCat("deadline exceeded; last failure: ",
                                                       w.last_error.message()));
}

// The last moment `w` may still be sent.
absl::Time LastChance(const Work& w, absl::Duration write_lead) {
  return w.read ? w.options.deadline : w.options.deadline - write_lead;
}

}  // namespace

OperatingCosts CostOf(const Work& w, const OperatingBudget& operating) {
  OperatingCosts costs;
  if (w.is_batch()) {
    for (const auto& c : w.batch().commands) costs[c.method] += operating.Estimate(c.method);
  } else {
    costs[w.call().method] += operating.Estimate(w.call().method);
  }
  return costs;
}

void DispatchQueue::Push(WorkPtr w) {
  w->client = fair_.ClassOf(w->options.client_id);
  w->place = fair_.Arrive(w->client, std::max(w->Commands(), 1));
  auto at = std::upper_bound(queue_.begin(), queue_.end(), w,
                             [](const WorkPtr& a, const WorkPtr& b) {
                               return !b->requeued && a->place.finish < b->place.finish;
                             });
  queue_.insert(at, std::move(w));
}

void DispatchQueue::PushFront(WorkPtr w) {
  w->requeued = true;
  queue_.push_front(std::move(w));
}

std::vector<std::pair<WorkPtr, absl::Status>> DispatchQueue::TakeAbandoned(
    absl::Time now, absl::Duration write_lead, absl::Time* next_check) {
  std::vector<std::pair<WorkPtr, absl::Status>> out;
  for (auto it = queue_.begin(); it != queue_.end();) {
    const Work& w = **it;
    if (!w.Cancelled() && LastChance(w, write_lead) > now) {
      *next_check = std::min(*next_check, LastChance(w, write_lead));
      ++it;
      continue;
    }
    absl::Status why = WhyAbandoned(w, now, write_lead);
    out.emplace_back(std::move(*it), std::move(why));
    it = queue_.erase(it);
  }
  return out;
}

absl::Time DispatchQueue::ReadyAt(const Work& w, const OperatingCosts& booked, absl::Time now,
                                  const OperatingBudget& operating) const {
  absl::Time at = w.not_before;
  // Portals that charge batches to `batch` itself are protected by that
  // method's reported use (no prediction: what a batch costs there is the
  // sum of its commands, already booked per method).
  if (w.is_batch()) at = std::max(at, operating.ReadyAt("batch"));
  for (const auto& [method, cost] : CostOf(w, operating)) {
    at = std::max(at, operating.ReadyAt(method));
    auto it = booked.find(method);
    absl::Duration total = cost + (it == booked.end() ? absl::ZeroDuration() : it->second);
    at = std::max(at, operating.FitsAt(method, total, now));
  }
  return at;
}

bool DispatchQueue::Shareable(const Work& head, absl::Time now, const OperatingBudget& operating) {
  // Pre-formed batches and JSON-bodied calls travel alone. While `batch` is
  // paused (a portal that charges batches to it), calls travel one by one,
  // each charged to its own method.
  return head.Coalescable() && operating.ReadyAt("batch") <= now;
}

std::vector<size_t> DispatchQueue::Companions(size_t first, int batch_size, absl::Time now,
                                              const OperatingBudget& operating) const {
  std::vector<size_t> picked{first};
  if (!Shareable(*queue_[first], now, operating)) return picked;
  // Calls join while their methods' predicted operating time still fits
  // next to what the batch already carries.
  OperatingCosts booked = CostOf(*queue_[first], operating);
  for (size_t i = first + 1; i < queue_.size() && static_cast<int>(picked.size()) < batch_size;
       ++i) {
    const Work& w = *queue_[i];
    if (!w.Coalescable() || ReadyAt(w, booked, now, operating) > now) continue;
    picked.push_back(i);
    for (const auto& [method, cost] : CostOf(w, operating)) booked[method] += cost;
  }
  return picked;
}

DispatchQueue::Choice DispatchQueue::Next(absl::Time now, const DispatchLimits& limits,
                                          const OperatingBudget& operating) const {
  Choice wait;
  // Every allowed request is in flight: an answer will bring the next look.
  if (queue_.empty() || !limits.slot_free) return wait;
  size_t first = queue_.size();
  for (size_t i = 0; i < queue_.size(); ++i) {
    absl::Time at = ReadyAt(*queue_[i], {}, now, operating);
    if (at <= now) {
      first = i;
      break;
    }
    wait.wait_until = std::min(wait.wait_until, at);
  }
  if (first == queue_.size()) return wait;
  if (limits.bucket_free_at > now) {
    wait.wait_until = limits.bucket_free_at;
    return wait;
  }
  std::vector<size_t> picked = Companions(first, limits.batch_size, now, operating);
  const Work& head = *queue_[first];
  if (Shareable(head, now, operating) && head.attempts == 0 &&
      static_cast<int>(picked.size()) < limits.batch_size) {
    absl::Time hold = absl::InfinitePast();
    if (limits.company_expected || limits.budget_scarce) hold = head.linger_until;
    if (limits.company_expected) {
      hold = std::max({hold, head.hold_until, limits.callers_due});
      const absl::Time window_end = head.enqueued + limits.company_window;
      if (limits.calls_due <= window_end) hold = std::max(hold, window_end);
    }
    if (hold > now) {
      wait.wait_until = hold;
      return wait;
    }
  }
  Choice go;
  go.picked = std::move(picked);
  return go;
}

std::vector<WorkPtr> DispatchQueue::Take(const Choice& choice) {
  std::vector<WorkPtr> group;
  for (size_t i : choice.picked) {
    fair_.Taken(queue_[i]->place);
    group.push_back(std::move(queue_[i]));
  }
  queue_.erase(std::remove(queue_.begin(), queue_.end(), nullptr), queue_.end());
  return group;
}

std::deque<WorkPtr> DispatchQueue::TakeAll() {
  std::deque<WorkPtr> all;
  all.swap(queue_);
  return all;
}

std::map<std::string, double> DispatchQueue::QueuedPerClient() const {
  std::map<std::string, double> queued;
  for (const std::string& client : fair_.Classes()) queued[client] = 0;
  for (const auto& w : queue_) queued[w->client] += w->Commands();
  return queued;
}

}  // namespace b24gate
