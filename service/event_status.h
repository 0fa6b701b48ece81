// AdminService.GetEventStatus's answer: per portal, the configured event
// bindings with what the start-up pass found and changed (EventBindings),
// and each consumer's lag (EventLedger). Reads state only; never calls
// Bitrix24.
//
// Thread-safety: as the objects it reads (thread-safe).
#ifndef B24GATE_SERVICE_EVENT_STATUS_H_
#define B24GATE_SERVICE_EVENT_STATUS_H_

#include <string>

#include "absl/status/status.h"
#include "bitrix24/gateway/v1/admin.pb.h"
#include "engine/events/event_ledger.h"
#include "engine/gateway/gateway.h"
#include "service/event_bindings.h"

namespace b24gate {

// `portal` (name, member_id or domain; "" = every portal with configured
// bindings or a consumer) into `out`, in name order. NOT_FOUND for an
// unknown portal.
absl::Status DescribeEvents(const Gateway& gateway, const EventBindings& bindings, const EventLedger& ledger,
                            const std::string& portal, bitrix24::gateway::v1::GetEventStatusResponse* out);

}  // namespace b24gate

#endif  // B24GATE_SERVICE_EVENT_STATUS_H_
