// What the inbound endpoint does with one post, apart from HTTP: finds the
// portal the URL names, reads the form body (engine/events/inbound_post.h),
// compares auth[application_token] with the portal's in constant time, and
// only then acts on it: ONOFFLINEEVENT makes the portal's offline streams
// read at once, any other event goes to the online consumers that named it
// (OnlineEventStore) and is answered 200 once it is stored durably (503
// when the events log or Redis cannot take it, so a retrying sender sends
// it again). A refused post is counted by reason and
// never reaches a consumer.
//
// Thread-safety: thread-safe.
#ifndef B24GATE_SERVICE_INBOUND_EVENTS_H_
#define B24GATE_SERVICE_INBOUND_EVENTS_H_

#include <string>

#include "absl/strings/string_view.h"
#include "engine/events/event_ledger.h"
#include "engine/events/inbound_post.h"
#include "engine/events/online_event_store.h"
#include "engine/gateway/gateway.h"
#include "service/event_service.h"
#include "service/logging/logger.h"

namespace b24gate {

class InboundEvents {
 public:
  struct Reply {
    int http_status = 200;
    std::string body;
  };

  // Everything must outlive this object.
  InboundEvents(Gateway* gateway, OnlineEventStore* hub, EventService* events, EventLedger* ledger,
                Logger* logger, InboundPostLimits limits = {})
      : gateway_(gateway), hub_(hub), events_(events), ledger_(ledger), logger_(logger), limits_(limits) {}

  // A POST to /events/`portal` with `body`.
  Reply Handle(const std::string& portal, absl::string_view body);

  // A post or connection refused by what the HTTP layer saw of it, before
  // Handle: counted under `reason`, one of the metric's fixed reasons
  // (too_large, truncated, malformed, headers_too_large, slow, busy).
  Reply Refused(int http_status, const std::string& reason, absl::string_view why) {
    return Refuse(http_status, reason, "", why);
  }

  const InboundPostLimits& limits() const { return limits_; }

  // Equal texts, compared in time that does not depend on where they differ.
  static bool SameSecret(absl::string_view a, absl::string_view b);

 private:
  std::string ExpectedToken(const Portal& portal) const;
  Reply Refuse(int http_status, const std::string& reason, const std::string& portal,
               absl::string_view why);

  Gateway* const gateway_;
  OnlineEventStore* const hub_;
  EventService* const events_;
  EventLedger* const ledger_;
  Logger* const logger_;
  const InboundPostLimits limits_;
};

}  // namespace b24gate

#endif  // B24GATE_SERVICE_INBOUND_EVENTS_H_
