#include "service/metrics/portal_gauges.h"

#include <algorithm>
#include <map>
#include <set>

#include "absl/strings/str_cat.h"
#include "engine/portal/portal_stats.h"
#include "engine/portal/tuning_fields.h"
#include "service/metrics/scrape.h"

namespace b24gate {
namespace {

using prometheus::ClientMetric;
using prometheus::MetricFamily;
using prometheus::MetricType;

// Operational names agreed with the deployment's dashboards and alerts,
// where they differ from b24gate_<stat>.
const std::map<std::string, std::string>& GaugeNames() {
  static const auto* names = new std::map<std::string, std::string>{
      {"queued", "b24gate_queued_commands"},
      {"in_flight", "b24gate_inflight_requests"},
      {"rate_factor", "b24gate_autothrottle_rate_factor"},
  };
  return *names;
}

}  // namespace

PortalGauges::PortalGauges(PortalsFn portals, LabelFn label, size_t method_cap)
    : portals_(std::move(portals)), label_(std::move(label)), methods_(method_cap) {}

std::string PortalGauges::GaugeName(const std::string& stat) {
  auto it = GaugeNames().find(stat);
  return it != GaugeNames().end() ? it->second : absl::StrCat("b24gate_", stat);
}

std::string PortalGauges::CounterName(const std::string& stat) {
  // Not a portal counter to operators: a Redis health series.
  if (stat == "redis_errors") return "b24gate_redis_errors_total";
  return absl::StrCat("b24gate_portal_", stat, "_total");
}

namespace {

// The families of one scrape, one per name, filled in order.
class Families {
 public:
  void Add(const std::string& name, const char* help, MetricType type,
           std::vector<ClientMetric::Label> labels, double value) {
    auto [it, inserted] = index_.emplace(name, families_.size());
    if (inserted) families_.push_back(MetricFamily{name, help, type, {}});
    AddSample(&families_[it->second], std::move(labels), value);
  }
  std::vector<MetricFamily> Take() { return std::move(families_); }

 private:
  std::vector<MetricFamily> families_;
  std::map<std::string, size_t> index_;
};

// The counters and gauges of PortalStats under `portal`.
void AddStats(const std::string& portal, const PortalStats& stats, Families* out) {
  std::vector<ClientMetric::Label> by_portal = {{"portal", portal}};
#define B24GATE_EXPORT_GAUGE(field, help)                                             \
  out->Add(PortalGauges::GaugeName(#field), help, MetricType::Gauge, by_portal,       \
           static_cast<double>(stats.field));
#define B24GATE_EXPORT_COUNTER(field, help)                                           \
  out->Add(PortalGauges::CounterName(#field), help, MetricType::Counter, by_portal,   \
           static_cast<double>(stats.field));
  B24GATE_PORTAL_GAUGES(B24GATE_EXPORT_GAUGE)
  B24GATE_PORTAL_COUNTERS(B24GATE_EXPORT_COUNTER)
#undef B24GATE_EXPORT_GAUGE
#undef B24GATE_EXPORT_COUNTER
}

// Adds `stats`'s gauges into `sum`.
void AccumulateGauges(const PortalStats& stats, PortalStats* sum) {
#define B24GATE_SUM_STAT(field, help) sum->field += stats.field;
  B24GATE_PORTAL_GAUGES(B24GATE_SUM_STAT)
#undef B24GATE_SUM_STAT
}

// Adds to `sum` what `now`'s counters counted since `before`; false (and
// nothing added) when one went down: `now` is another portal object.
bool AddIncrease(const PortalStats& before, const PortalStats& now, PortalStats* sum) {
  bool down = false;
#define B24GATE_CHECK_STAT(field, help) down = down || now.field < before.field;
  B24GATE_PORTAL_COUNTERS(B24GATE_CHECK_STAT)
#undef B24GATE_CHECK_STAT
  if (down) return false;
#define B24GATE_ADD_STAT(field, help) sum->field += now.field - before.field;
  B24GATE_PORTAL_COUNTERS(B24GATE_ADD_STAT)
#undef B24GATE_ADD_STAT
  return true;
}

// Per API client (configured names and "anonymous": a fixed set).
void AddClients(const std::string& name, const PortalStats& stats, Families* out) {
  for (const auto& [client, commands] : stats.client_queued) {
    out->Add("b24gate_client_queued_commands", "commands of the client waiting in the queue now",
             MetricType::Gauge, {{"portal", name}, {"client", client}}, commands);
  }
  for (const auto& [client, commands] : stats.client_commands) {
    out->Add("b24gate_client_commands_total", "commands of the client sent to the portal",
             MetricType::Counter, {{"portal", name}, {"client", client}},
             static_cast<double>(commands));
  }
}

// Tuning, operating time per method and clients of one portal.
void AddDetail(const std::string& name, const PortalStats& stats, const PortalTuning& tuning,
               LabelLimiter& methods, Families* out) {
  for (const TuningField& field : TuningFields()) {
    if (field.metric != nullptr) {
      out->Add(field.metric, field.help, MetricType::Gauge, {{"portal", name}}, field.get(tuning));
    }
  }
  // Per method; methods past the cap fold into "other" with the largest
  // value, which is what an alert on "near the limit" needs.
  std::map<std::string, double> operating;
  std::map<std::string, double> paused;
  for (const auto& [method, seconds] : stats.operating) {
    std::string label = methods.Label(method);
    operating[label] = std::max(operating[label], seconds);
    auto p = stats.paused.find(method);
    paused[label] = std::max(paused[label], p != stats.paused.end() && p->second ? 1.0 : 0.0);
  }
  for (const auto& [method, seconds] : operating) {
    out->Add("b24gate_operating_seconds", "operating seconds the portal reported in the window",
             MetricType::Gauge, {{"portal", name}, {"method", method}}, seconds);
    out->Add("b24gate_method_paused", "1 while the method waits for its operating-time window",
             MetricType::Gauge, {{"portal", name}, {"method", method}}, paused[method]);
  }
  AddClients(name, stats, out);
}

}  // namespace

std::vector<MetricFamily> PortalGauges::Collect() const {
  struct Read {
    std::shared_ptr<Portal> portal;
    PortalStats stats;
    bool other;
  };
  // Read without mu_: a portal's stats take its own lock.
  std::vector<Read> reads;
  for (std::shared_ptr<Portal>& portal : portals_()) {
    const bool other = label_ && label_(portal->name()) != portal->name();
    PortalStats stats = portal->Stats();
    reads.push_back({std::move(portal), std::move(stats), other});
  }
  Families families;
  PortalStats other;  // the gauges of the portals without series of their own
  absl::MutexLock lock(&mu_);
  std::map<std::string, Seen> seen;
  std::set<std::string> own;
  for (const Read& r : reads) {
    const std::string& name = r.portal->name();
    if (r.other) {
      AccumulateGauges(r.stats, &other);
      CountInOther(name, r.portal.get(), r.stats);
      seen[name] = Seen{r.portal.get(), r.stats};
      continue;
    }
    own.insert(name);
    AddStats(name, r.stats, &families);
    AddDetail(name, r.stats, r.portal->Tuning(), methods_, &families);
  }
  other_seen_.swap(seen);
  own_.swap(own);
  // Once shown, "other" stays: its counters must not vanish and come back.
  other_shown_ = other_shown_ || !other_seen_.empty();
  if (other_shown_) {
#define B24GATE_COPY_STAT(field, help) other.field = other_counters_.field;
    B24GATE_PORTAL_COUNTERS(B24GATE_COPY_STAT)
#undef B24GATE_COPY_STAT
    AddStats("other", other, &families);
  }
  return families.Take();
}

void PortalGauges::CountInOther(const std::string& name, const Portal* portal,
                                const PortalStats& stats) const {
  auto it = other_seen_.find(name);
  if (it != other_seen_.end() && it->second.portal == portal &&
      AddIncrease(it->second.stats, stats, &other_counters_)) {
    return;
  }
  // New in "other": what it counted under its own name stays there; a
  // portal not seen before (new, or built again after leaving memory)
  // counts from 0.
  if (own_.count(name) > 0 && (it == other_seen_.end())) return;
  AddIncrease(PortalStats(), stats, &other_counters_);
}

}  // namespace b24gate
