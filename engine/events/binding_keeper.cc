#include "engine/events/binding_keeper.h"

#include <algorithm>
#include <utility>

#include "absl/strings/str_cat.h"

namespace b24gate {

BindingKeeper::BindingKeeper(Connect connect, After after, Reported reported, Clock* clock, Options options)
    : connect_(std::move(connect)),
      after_(std::move(after)),
      reported_(std::move(reported)),
      clock_(clock),
      options_(options) {}

void BindingKeeper::Arm(const std::string& portal, Entry& entry, absl::Duration delay) {
  const int64_t token = entry.timer = ++tokens_;
  entry.status.next_attempt = clock_->Now() + delay;
  after_(delay, [this, portal, token] { Wake(portal, token); });
}

void BindingKeeper::Set(const std::string& portal, const EventBindingsSpec& wanted, const std::string& handler) {
  if (!wanted.listed()) return Forget(portal);
  absl::MutexLock lock(&mu_);
  if (stopping_) return;
  auto [it, added] = entries_.try_emplace(portal);
  Entry& entry = it->second;
  const bool changed = added || entry.wanted != wanted || entry.handler != handler;
  if (changed) {
    entry.wanted = wanted;
    entry.handler = handler;
    entry.status = Status();
    entry.status.report.desired = BindingSync::Desired(wanted);
  }
  if (entry.running != 0) {
    entry.again = entry.again || changed;
  } else if (changed || entry.status.state == State::kFailed) {
    Arm(portal, entry, absl::ZeroDuration());
  }
}

void BindingKeeper::Forget(const std::string& portal) {
  absl::MutexLock lock(&mu_);
  entries_.erase(portal);
}

void BindingKeeper::Shutdown() {
  absl::MutexLock lock(&mu_);
  stopping_ = true;
}

std::map<std::string, BindingKeeper::Status> BindingKeeper::Statuses() const {
  std::map<std::string, Status> out;
  absl::MutexLock lock(&mu_);
  for (const auto& [portal, entry] : entries_) out.emplace(portal, entry.status);
  return out;
}

void BindingKeeper::Wake(const std::string& portal, int64_t token) {
  EventBindingsSpec wanted;
  std::string handler;
  int64_t pass = 0;
  {
    absl::MutexLock lock(&mu_);
    auto it = entries_.find(portal);
    if (stopping_ || it == entries_.end() || it->second.timer != token) return;
    Entry& entry = it->second;
    entry.timer = 0;
    entry.running = pass = ++tokens_;
    entry.status.next_attempt = absl::InfiniteFuture();
    wanted = entry.wanted;
    handler = entry.handler;
  }
  absl::StatusOr<BindingSync::Caller> caller = connect_(portal);
  if (!caller.ok()) {
    BindingSync::Report report;
    report.desired = BindingSync::Desired(wanted);
    report.errors.push_back(absl::StrCat("event.get: ", caller.status().ToString()));
    return Finish(portal, pass, std::move(report));
  }
  BindingSync::Run(*std::move(caller), std::move(wanted), std::move(handler),
                   [this, portal, pass](BindingSync::Report report) { Finish(portal, pass, std::move(report)); });
}

absl::Duration BindingKeeper::Backoff(int attempts) const {
  absl::Duration delay = options_.first_retry;
  for (int i = 1; i < attempts && delay < options_.max_retry; ++i) delay *= 2;
  return std::min(delay, options_.max_retry);
}

void BindingKeeper::Finish(const std::string& portal, int64_t pass, BindingSync::Report report) {
  Status reported;
  {
    absl::MutexLock lock(&mu_);
    auto it = entries_.find(portal);
    // Forgotten, or forgotten and set again, meanwhile: not this list's.
    if (it == entries_.end() || it->second.running != pass) return;
    Entry& entry = it->second;
    entry.running = 0;
    if (entry.again) {
      // The list changed while the pass ran: its outcome is the old list's
      // (not reported); the new list's pass follows.
      entry.again = false;
      if (!stopping_) Arm(portal, entry, absl::ZeroDuration());
      return;
    }
    Status& s = entry.status;
    ++s.attempts;
    s.state = report.errors.empty() ? State::kOk : State::kFailed;
    s.last_error = report.errors.empty() ? "" : report.errors.front();
    s.report = std::move(report);
    if (s.state == State::kFailed && !stopping_) Arm(portal, entry, Backoff(s.attempts));
    reported = s;
  }
  reported_(portal, reported);
}

}  // namespace b24gate
