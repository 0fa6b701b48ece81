#include "engine/portal/portal_observer.h"

namespace b24gate {

// The names are metric label values and log fields: README "Metrics" lists them.
const char* HttpOutcomeName(HttpOutcome outcome) {
  switch (outcome) {
    case HttpOutcome::kOk: return "ok";
    case HttpOutcome::kBitrixError: return "b24_error";
    case HttpOutcome::kNotSent: return "not_sent";
    case HttpOutcome::kOutcomeUnknown: return "outcome_unknown";
    case HttpOutcome::kRedirect: return "redirect";
  }
  return "unknown";
}

const char* RetryReasonName(RetryReason reason) {
  switch (reason) {
    case RetryReason::kRateLimited: return "rate_limited";
    case RetryReason::kOperatingLimit: return "operating_limit";
    case RetryReason::kNotSent: return "not_sent";
    case RetryReason::kServerError: return "server_error";
    case RetryReason::kRedirect: return "redirect";
    case RetryReason::kTokenRefresh: return "token_refresh";
    case RetryReason::kIdempotentWrite: return "idempotent_write";
  }
  return "unknown";
}

PortalObserver* PortalObserver::Null() {
  static PortalObserver* const kNull = new PortalObserver();
  return kNull;
}

}  // namespace b24gate
