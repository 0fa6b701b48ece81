#include "tests/emulator/stats.h"

namespace b24emu {

void Stats::CountError(const std::string& code) {
  absl::MutexLock lock(&mu_);
  ++errors_[code];
}

void Stats::CountCreated(const std::string& entity) {
  absl::MutexLock lock(&mu_);
  ++created_[entity];
}

void Stats::CountFault(const std::string& kind) {
  absl::MutexLock lock(&mu_);
  ++faults_[kind];
}

void Stats::CountRequestFor(const std::set<std::string>& methods) {
  absl::MutexLock lock(&mu_);
  for (const std::string& m : methods) ++requests_by_method_[m];
}

void Stats::RecordCommand(const std::string& method, const nlohmann::json& params) {
  nlohmann::json entry = {{"method", method}, {"params", params}};
  absl::MutexLock lock(&mu_);
  if (commands_seen_.size() == kRecordedCommands) commands_seen_.pop_front();
  commands_seen_.push_back(std::move(entry));
}

nlohmann::json Stats::CommandsJson() const {
  nlohmann::json list = nlohmann::json::array();
  absl::MutexLock lock(&mu_);
  for (const auto& c : commands_seen_) list.push_back(c);
  return {{"commands", std::move(list)}};
}

void Stats::Enter() {
  const int64_t now = in_flight_.fetch_add(1, std::memory_order_relaxed) + 1;
  int64_t peak = peak_concurrency_.load(std::memory_order_relaxed);
  while (now > peak && !peak_concurrency_.compare_exchange_weak(peak, now)) {
  }
}

void Stats::RecordReplyWritten(absl::Duration late) {
  replies_written_.fetch_add(1, std::memory_order_relaxed);
  const int64_t us = absl::ToInt64Microseconds(late);
  if (us <= 0) return;
  if (late > absl::Milliseconds(1)) replies_late_.fetch_add(1, std::memory_order_relaxed);
  lateness_total_us_.fetch_add(us, std::memory_order_relaxed);
  int64_t max = lateness_max_us_.load(std::memory_order_relaxed);
  while (us > max && !lateness_max_us_.compare_exchange_weak(max, us)) {
  }
}

nlohmann::json Stats::ToJson() const {
  nlohmann::json j;
  j["requests"] = requests_.load();
  j["batches"] = batches_.load();
  j["commands"] = commands_.load();
  j["peak_concurrency"] = peak_concurrency_.load();
  j["token_refreshes"] = token_refreshes_.load();
  j["token_refusals"] = token_refusals_.load();
  j["idempotent_replays"] = idempotent_replays_.load();
  j["idempotency_overlaps"] = idempotency_overlaps_.load();
  j["too_large"] = too_large_.load();
  j["in_flight"] = in_flight_.load();
  j["replies_written"] = replies_written_.load();
  j["replies_late"] = replies_late_.load();
  j["reply_lateness_max_ms"] = static_cast<double>(lateness_max_us_.load()) / 1000;
  j["reply_lateness_total_ms"] = static_cast<double>(lateness_total_us_.load()) / 1000;
  absl::MutexLock lock(&mu_);
  j["errors"] = nlohmann::json(errors_);
  j["created"] = nlohmann::json(created_);
  j["faults_injected"] = nlohmann::json(faults_);
  j["requests_by_method"] = nlohmann::json(requests_by_method_);
  // nlohmann turns an empty std::map into `null`; stats promise objects.
  for (const char* key : {"errors", "created", "faults_injected", "requests_by_method"}) {
    if (!j[key].is_object()) j[key] = nlohmann::json::object();
  }
  return j;
}

void Stats::Reset() {
  requests_ = 0;
  batches_ = 0;
  commands_ = 0;
  peak_concurrency_ = in_flight_.load();
  token_refreshes_ = 0;
  token_refusals_ = 0;
  idempotent_replays_ = 0;
  idempotency_overlaps_ = 0;
  too_large_ = 0;
  replies_written_ = 0;
  replies_late_ = 0;
  lateness_max_us_ = 0;
  lateness_total_us_ = 0;
  absl::MutexLock lock(&mu_);
  errors_.clear();
  created_.clear();
  faults_.clear();
  requests_by_method_.clear();
  commands_seen_.clear();
}

}  // namespace b24emu
