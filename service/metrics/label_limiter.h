// Bounded label values: the first `cap` distinct values are kept, every later
// one becomes "other", so a caller inventing method names cannot grow the
// number of series without bound.
//
// Thread-safety: thread-safe.
#ifndef B24GATE_SERVICE_METRICS_LABEL_LIMITER_H_
#define B24GATE_SERVICE_METRICS_LABEL_LIMITER_H_

#include <set>
#include <string>

#include "absl/base/thread_annotations.h"
#include "absl/synchronization/mutex.h"

namespace b24gate {

class LabelLimiter {
 public:
  explicit LabelLimiter(size_t cap) : cap_(cap) {}

  // `value` if it was seen before or there is room, else "other".
  std::string Label(const std::string& value) {
    absl::MutexLock lock(&mu_);
    if (seen_.count(value) > 0) return value;
    if (seen_.size() >= cap_) return "other";
    seen_.insert(value);
    return value;
  }

 private:
  const size_t cap_;
  absl::Mutex mu_;
  std::set<std::string> seen_ ABSL_GUARDED_BY(mu_);
};

}  // namespace b24gate

#endif  // B24GATE_SERVICE_METRICS_LABEL_LIMITER_H_
