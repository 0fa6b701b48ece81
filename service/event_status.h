// AdminService.GetEventStatus's answer: per portal, the listed event
// bindings with their state and what the last pass found and changed
// (EventBindings), and each consumer's lag (EventLedger: this replica's
// deliveries; with Redis, the online groups' read from Redis: every
// replica's). Never calls Bitrix24.
//
// Thread-safety: as the objects it reads (thread-safe).
#ifndef B24GATE_SERVICE_EVENT_STATUS_H_
#define B24GATE_SERVICE_EVENT_STATUS_H_

#include <string>

#include "absl/status/status.h"
#include "bitrix24/gateway/v1/admin.pb.h"
#include "engine/events/event_ledger.h"
#include "engine/events/redis_event_lag.h"
#include "engine/gateway/gateway.h"
#include "service/event_bindings.h"

namespace b24gate {

// `portal` (name, member_id or domain; "" = every portal with listed
// bindings or a consumer) into `out`, in name order. NOT_FOUND for an
// unknown portal.
// `redis_lag` null: no Redis.
absl::Status DescribeEvents(const Gateway& gateway, const EventBindings& bindings, const EventLedger& ledger,
                            RedisEventLag* redis_lag, const std::string& portal,
                            bitrix24::gateway::v1::GetEventStatusResponse* out);

}  // namespace b24gate

#endif  // B24GATE_SERVICE_EVENT_STATUS_H_
