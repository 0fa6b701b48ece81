#include "engine/portal/portal_events.h"

#include <utility>

namespace b24gate {

using Type = PortalEvent::Type;

void CountEvent(const PortalEvent& e, PortalStats* s) {
  switch (e.type) {
    case Type::kRequestSent:
      s->http_requests++;
      s->commands_sent += e.count;
      if (e.flag) s->batch_requests++;
      break;
    case Type::kCommandSent:
      s->client_commands[e.client]++;
      break;
    case Type::kRetry:
      s->retries++;
      break;
    case Type::kOutcomeUnknown:
      s->outcome_unknown++;
      break;
    case Type::kTokenRefresh:
      s->token_refreshes++;
      break;
    case Type::kRedirect:
      s->redirects++;
      break;
    case Type::kRateLimited:
      s->rate_limited++;
      break;
    case Type::kOperatingBlocked:
      s->operating_blocked++;
      break;
    case Type::kRequestDone:
    case Type::kRedirectRefused:
    case Type::kBitrixError:
    case Type::kTransportFailure:
    case Type::kAutothrottle:
    case Type::kRestV3Sent:
    case Type::kIdempotentReplay:
      break;
  }
}

void FireEvent(const PortalEvent& e, const std::string& portal, PortalObserver* o) {
  switch (e.type) {
    case Type::kRequestSent:
      o->OnRequestSent(portal, e.count);
      break;
    case Type::kCommandSent:
      o->OnCommandSent(portal, e.method);
      break;
    case Type::kRequestDone:
      o->OnRequestDone(portal, e.outcome, e.duration);
      break;
    case Type::kBitrixError:
      o->OnBitrixError(portal, e.method, e.code, e.text);
      break;
    case Type::kRetry:
      o->OnRetry(portal, e.method, e.reason, e.duration);
      break;
    case Type::kOutcomeUnknown:
      o->OnOutcomeUnknown(portal, e.method, e.text);
      break;
    case Type::kTransportFailure:
      o->OnTransportFailure(portal, e.text);
      break;
    case Type::kTokenRefresh:
      o->OnTokenRefresh(portal, e.flag);
      break;
    case Type::kRedirect:
      o->OnRedirect(portal);
      break;
    case Type::kRedirectRefused:
      o->OnRedirectRefused(portal, e.code, e.text);
      break;
    case Type::kAutothrottle:
      o->OnAutothrottle(portal, e.rate, e.count);
      break;
    case Type::kRestV3Sent:
      o->OnRestV3Sent(portal, e.method);
      break;
    case Type::kIdempotentReplay:
      o->OnIdempotentReplay(portal, e.method);
      break;
    case Type::kRateLimited:
    case Type::kOperatingBlocked:
      break;  // counters only; the observer hears of them as Bitrix24 errors
  }
}

void Outbox::Add(PortalEvent e, PortalStats* stats) {
  CountEvent(e, stats);
  events_.push_back(std::move(e));
}

void Outbox::Deliver() {
  std::vector<PortalEvent> events;
  std::vector<Completion> completions;
  events.swap(events_);
  completions.swap(completions_);
  for (const PortalEvent& e : events) FireEvent(e, portal_, observer_);
  for (Completion& c : completions) c();
}

}  // namespace b24gate
