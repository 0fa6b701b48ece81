// File transfers as Prometheus series: b24gate_file_bytes_total{portal,
// direction} (bytes of files moved: "up" to the portal, "down" from it),
// b24gate_file_transfers_total{direction, code} (transfers ended, by gRPC
// status code name), b24gate_file_failures_total{direction, reason} (those
// that failed, by why: the gateway's reason such as OUTCOME_UNKNOWN or
// NOT_EXECUTED, B24_ERROR for a portal's error answer, else the status code
// name) and b24gate_file_transfers_in_progress{direction} (begun and not
// ended). Portal labels are fixed at start-up from the configuration, so a
// caller cannot grow them; an unknown name counts as "other". Reasons come
// from a fixed set, so a portal's answers cannot grow them either.
//
// Thread-safety: thread-safe (the series are created in the constructor,
// but for the failures', which Family::Add creates under its own lock).
#ifndef B24GATE_SERVICE_METRICS_FILE_METRICS_H_
#define B24GATE_SERVICE_METRICS_FILE_METRICS_H_

#include <cstdint>
#include <map>
#include <string>
#include <utility>
#include <vector>

#include <prometheus/counter.h>
#include <prometheus/family.h>
#include <prometheus/gauge.h>
#include <prometheus/registry.h>

#include "absl/status/status.h"

namespace b24gate {

class FileMetrics {
 public:
  // `registry` must outlive this object. `portals`: the configured names;
  // the first is also what "" (the default portal) counts as.
  FileMetrics(prometheus::Registry& registry, const std::vector<std::string>& portals);

  // Every Started is followed by exactly one Ended.
  void Started(bool upload);
  void Moved(const std::string& portal, bool upload, int64_t bytes);
  void Ended(bool upload, const absl::Status& status);

 private:
  std::string default_portal_;
  // Built in the constructor and only read afterwards.
  std::map<std::pair<std::string, bool>, prometheus::Counter*> bytes_;
  std::map<std::pair<int, bool>, prometheus::Counter*> ended_;
  std::map<bool, prometheus::Gauge*> in_progress_;
  // Series are added on a failure's first occurrence (Family::Add is
  // thread-safe and returns the existing series after that).
  prometheus::Family<prometheus::Counter>* failures_;
};

}  // namespace b24gate

#endif  // B24GATE_SERVICE_METRICS_FILE_METRICS_H_
