// What the inbound endpoint does with the application's own events, posted
// to POST /app: ONAPPINSTALL registers the portal that installed the
// application (its tokens and application_token go into the portal
// registry; a portal with the same member_id gets the new ones), and
// ONAPPUNINSTALL removes it, with its stored tokens. docs/bitrix24-protocol.md
// "Installing an application" says what can be checked: the fields' shape,
// that the REST endpoint is the posted domain's, and on uninstall that the
// application_token is the one stored at install (compared in constant
// time). The tokens themselves are proved by use: the portal's first call
// refreshes them with the gateway's application (client_id/client_secret)
// at the OAuth server, which refuses tokens issued to another application.
//
// Thread-safety: thread-safe.
#ifndef B24GATE_SERVICE_APP_INSTALL_H_
#define B24GATE_SERVICE_APP_INSTALL_H_

#include "absl/strings/string_view.h"
#include "engine/events/event_ledger.h"
#include "engine/events/inbound_post.h"
#include "engine/gateway/gateway.h"
#include "service/inbound_events.h"
#include "service/logging/logger.h"

namespace b24gate {

class AppInstall {
 public:
  // Everything must outlive this object.
  AppInstall(Gateway* gateway, EventLedger* ledger, Logger* logger, InboundPostLimits limits = {})
      : gateway_(gateway), ledger_(ledger), logger_(logger), limits_(limits) {}

  // A POST to /app with `body`.
  InboundEvents::Reply Handle(absl::string_view body);

 private:
  InboundEvents::Reply Install(const InboundPost& post);
  InboundEvents::Reply Uninstall(const InboundPost& post);
  InboundEvents::Reply Refuse(int http_status, const std::string& reason, absl::string_view why);

  Gateway* const gateway_;
  EventLedger* const ledger_;
  Logger* const logger_;
  const InboundPostLimits limits_;
};

}  // namespace b24gate

#endif  // B24GATE_SERVICE_APP_INSTALL_H_
