// What one portal reports about itself: counters since start and gauges now.
//
// Each list is written once, here. PortalStats, AdminService's PortalStatus
// and the Prometheus exporter are all generated from these lists: a new
// counter added here shows up in every view.
//
//   X(name, help)  — name is the PortalStats field (and the admin proto field)
#ifndef B24GATE_ENGINE_PORTAL_PORTAL_STATS_H_
#define B24GATE_ENGINE_PORTAL_PORTAL_STATS_H_

#include <cstdint>
#include <map>
#include <string>

// Monotonic counters (int64).
#define B24GATE_PORTAL_COUNTERS(X)                                                  \
  X(http_requests, "HTTP requests sent to the portal")                              \
  X(batch_requests, "HTTP requests that were `batch` calls")                        \
  X(commands_sent, "commands carried, batch entries counted one by one")            \
  X(retries, "commands requeued after a failure that allows it")                    \
  X(rate_limited, "503 QUERY_LIMIT_EXCEEDED answers received")                      \
  X(operating_blocked, "429 OPERATION_TIME_LIMIT answers received")                 \
  X(outcome_unknown, "writes failed as OUTCOME_UNKNOWN (may have been executed)")  \
  X(token_refreshes, "OAuth token refreshes asked for")                             \
  X(redirects, "302 domain changes followed")                                       \
  X(slowdowns, "autothrottle slow-downs")                                           \
  X(redis_errors, "failed calls to Redis, where replicas share the budget")

// Gauges (double), sampled when the stats are read.
#define B24GATE_PORTAL_GAUGES(X)                                                    \
  X(bucket_level, "modelled leaky-bucket counter now")                              \
  X(bucket_headroom_effective, "requests of the burst kept unused now (measured jitter; at most the configured headroom)") \
  X(bucket_jitter_seconds, "jitter of the delays to the portal (its start times less our send times)") \
  X(queued, "commands waiting in the queue now")                                    \
  X(in_flight, "HTTP requests in flight now")                                       \
  X(concurrency_limit, "in-flight ceiling now (autothrottle)")                      \
  X(rate_factor, "share of the drain rate used now (autothrottle; 1 = full)")      \
  X(shared_budget_fallback, "1 while Redis is unreachable and a local 1/N share is used")

namespace b24gate {

struct PortalStats {
#define B24GATE_DECLARE_COUNTER(name, help) int64_t name = 0;
#define B24GATE_DECLARE_GAUGE(name, help) double name = 0;
  B24GATE_PORTAL_COUNTERS(B24GATE_DECLARE_COUNTER)
  B24GATE_PORTAL_GAUGES(B24GATE_DECLARE_GAUGE)
#undef B24GATE_DECLARE_COUNTER
#undef B24GATE_DECLARE_GAUGE
  // Per method: the operating seconds the portal last reported in the window.
  std::map<std::string, double> operating;
  // Per method: true while it waits for its operating-time window.
  std::map<std::string, bool> paused;
  // Per client (configured name or "anonymous"): commands waiting in the
  // queue now, and commands sent since start (batch entries one by one).
  std::map<std::string, double> client_queued;
  std::map<std::string, int64_t> client_commands;
};

}  // namespace b24gate

#endif  // B24GATE_ENGINE_PORTAL_PORTAL_STATS_H_
