// The run-time tunable settings of a portal, listed once.
//
// Config parsing (the portal keys of the config file), validation
// (ValidateTuning), AdminService (PortalTuning proto fields of the same names)
// and the Prometheus gauges all read this table, so a tunable added here is
// parsed, checked, shown, changed and exported without another edit.
//
// Thread-safety: the table is immutable.
#ifndef B24GATE_ENGINE_PORTAL_TUNING_FIELDS_H_
#define B24GATE_ENGINE_PORTAL_TUNING_FIELDS_H_

#include <string>
#include <vector>

#include "absl/status/status.h"
#include "engine/portal/portal_options.h"

namespace b24gate {

struct TuningField {
  // Config key and PortalTuning proto field name, e.g. "drain_per_second".
  const char* name;
  // What it means, for --help, metric help and errors.
  const char* help;
  // Whole numbers only (batch_size, max_concurrency).
  bool integer;
  // Allowed range: value > min (or >= min when min_inclusive), value <= max.
  double min;
  bool min_inclusive;
  double max;
  // Prometheus gauge name, or nullptr when not exported.
  const char* metric;
  double (*get)(const PortalTuning& tuning);
  void (*set)(PortalTuning* tuning, double value);
};

// Every tunable, in display order.
const std::vector<TuningField>& TuningFields();

// INVALID_ARGUMENT "NAME: must be ..." when `value` is outside `field`'s
// range or not whole where it must be; OK otherwise.
absl::Status CheckTuningValue(const TuningField& field, double value);

}  // namespace b24gate

#endif  // B24GATE_ENGINE_PORTAL_TUNING_FIELDS_H_
