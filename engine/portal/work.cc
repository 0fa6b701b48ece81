#include "engine/portal/work.h"

#include <utility>

namespace b24gate {

const std::string& Work::method() const {
  static const std::string* const kBatch = new std::string("batch");
  return is_batch() ? *kBatch : call().method;
}

int Work::Commands() const {
  return is_batch() ? static_cast<int>(batch().commands.size()) : 1;
}

Completion FailureAnswer(Work& w, absl::Status status) {
  if (!w.is_batch()) {
    return [done = std::move(w.call().done), status]() { done(status); };
  }
  BatchWork& b = w.batch();
  if (b.partial.outcomes.empty()) {
    return [done = std::move(b.done), status]() { done(status); };
  }
  BatchResult result = std::move(b.partial);
  for (const auto& command : b.commands) result.outcomes.insert_or_assign(command.key, status);
  return [done = std::move(b.done), result = std::move(result)]() mutable {
    done(std::move(result));
  };
}

Completion CallAnswer(Work& w, CallReply reply) {
  return [done = std::move(w.call().done), reply = std::move(reply)]() mutable {
    done(std::move(reply));
  };
}

Completion BatchAnswer(Work& w) {
  return [done = std::move(w.batch().done), result = std::move(w.batch().partial)]() mutable {
    done(std::move(result));
  };
}

int CallsIn(const std::vector<WorkPtr>& group) {
  int calls = 0;
  for (const auto& w : group) calls += w && !w->is_batch() ? 1 : 0;
  return calls;
}

}  // namespace b24gate
