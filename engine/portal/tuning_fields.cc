#include "engine/portal/tuning_fields.h"

#include <cmath>
#include <limits>

#include "absl/strings/str_cat.h"

namespace b24gate {
namespace {

constexpr double kInf = std::numeric_limits<double>::infinity();

// Accessors for fields held as absl::Duration, in the unit of the name.
double Seconds(absl::Duration d) { return absl::ToDoubleSeconds(d); }

}  // namespace

const std::vector<TuningField>& TuningFields() {
  static const auto* fields = new std::vector<TuningField>{
      {"burst", "requests the portal admits at once (leaky bucket)", false, 1, true, kInf,
       "b24gate_bucket_burst", [](const PortalTuning& t) { return t.bucket.burst; },
       [](PortalTuning* t, double v) { t->bucket.burst = v; }},
      {"drain_per_second", "requests per second the bucket drains", false, 0, false, kInf,
       "b24gate_bucket_drain_per_second",
       [](const PortalTuning& t) { return t.bucket.drain_per_second; },
       [](PortalTuning* t, double v) { t->bucket.drain_per_second = v; }},
      {"headroom", "requests of the burst kept in reserve (below burst)", false, 0, true, kInf,
       "b24gate_bucket_headroom", [](const PortalTuning& t) { return t.bucket.headroom; },
       [](PortalTuning* t, double v) { t->bucket.headroom = v; }},
      {"operating_limit_seconds", "operating seconds per method per window", false, 0, false, kInf,
       "b24gate_operating_limit_seconds",
       [](const PortalTuning& t) { return Seconds(t.operating.limit); },
       [](PortalTuning* t, double v) { t->operating.limit = absl::Seconds(v); }},
      {"operating_window_seconds", "length of the operating-time window", false, 0, false, kInf,
       "b24gate_operating_window_seconds",
       [](const PortalTuning& t) { return Seconds(t.operating.window); },
       [](PortalTuning* t, double v) { t->operating.window = absl::Seconds(v); }},
      {"operating_margin_seconds", "a method pauses when less than this remains", false, 0, true,
       kInf, "b24gate_operating_margin_seconds",
       [](const PortalTuning& t) { return Seconds(t.operating.margin); },
       [](PortalTuning* t, double v) { t->operating.margin = absl::Seconds(v); }},
      {"batch_size", "commands per batch request", true, 1, true, 50, "b24gate_batch_size",
       [](const PortalTuning& t) { return static_cast<double>(t.batch_size); },
       [](PortalTuning* t, double v) { t->batch_size = static_cast<int>(v); }},
      {"max_concurrency", "HTTP requests in flight at most", true, 1, true, kInf,
       "b24gate_max_concurrency",
       [](const PortalTuning& t) { return static_cast<double>(t.max_concurrency); },
       [](PortalTuning* t, double v) { t->max_concurrency = static_cast<int>(v); }},
      {"linger_ms", "how long a lone call waits to share a batch", false, 0, true, 60000,
       nullptr,
       [](const PortalTuning& t) { return absl::ToDoubleMilliseconds(t.linger); },
       [](PortalTuning* t, double v) { t->linger = absl::Milliseconds(v); }},
  };
  return *fields;
}

absl::Status CheckTuningValue(const TuningField& f, double v) {
  auto bad = [&](absl::string_view why) {
    return absl::InvalidArgumentError(absl::StrCat(f.name, ": ", why));
  };
  if (std::isnan(v)) return bad("must be a number");
  if (f.integer && v != std::floor(v)) return bad("must be a whole number");
  // Integer fields end up in an int: beyond its range the cast is undefined.
  if (f.integer && std::fabs(v) > std::numeric_limits<int>::max()) {
    return bad("must be below 2^31");
  }
  bool low = f.min_inclusive ? v < f.min : v <= f.min;
  if (low || v > f.max) {
    std::string range = absl::StrCat(f.min_inclusive ? ">= " : "> ", f.min);
    if (f.max != kInf) range = absl::StrCat(f.min, "..", f.max);
    return bad(absl::StrCat("must be ", range));
  }
  return absl::OkStatus();
}

}  // namespace b24gate
