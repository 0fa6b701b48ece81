// Events of one portal's traffic, for metrics and logs.
//
// The dispatcher reports what happens to each HTTP request and command; an
// observer turns the events into Prometheus series and log lines. The
// default observer ignores everything, so the engine runs without one.
//
// Thread-safety: methods are called from the dispatcher and transport
// threads, sometimes while the portal's lock is held. Implementations must be
// thread-safe, must not block, and must never call back into the Portal.
#ifndef B24GATE_ENGINE_PORTAL_PORTAL_OBSERVER_H_
#define B24GATE_ENGINE_PORTAL_PORTAL_OBSERVER_H_

#include <string>

#include "absl/time/time.h"

namespace b24gate {

// How an HTTP request to the portal ended.
enum class HttpOutcome {
  kOk,              // a JSON answer without a top-level error
  kBitrixError,     // a JSON error answer (the whole request failed)
  kNotSent,         // never reached the portal (connect, TLS, DNS)
  kOutcomeUnknown,  // may have been executed: timeout, reset, 5xx page, garbage
  kRedirect,        // 3xx domain change
};
const char* HttpOutcomeName(HttpOutcome outcome);

// Why a command was put back in the queue.
enum class RetryReason {
  kRateLimited,     // 503 QUERY_LIMIT_EXCEEDED
  kOperatingLimit,  // 429 OPERATION_TIME_LIMIT
  kNotSent,         // transport failure before sending
  kServerError,     // outcome unknown, safe to repeat (a read)
  kRedirect,        // the portal moved
  kTokenRefresh,    // expired or invalid token, refreshed
  kIdempotentWrite, // outcome unknown, a REST 3.0 write sent again with its key
};
const char* RetryReasonName(RetryReason reason);

class PortalObserver {
 public:
  virtual ~PortalObserver() = default;
  // An HTTP request carrying `commands` commands is about to be sent.
  virtual void OnRequestSent(const std::string& portal, int commands) {}
  // One command of that request (the batch itself is not a command).
  virtual void OnCommandSent(const std::string& portal, const std::string& method) {}
  // The request ended after `latency`.
  virtual void OnRequestDone(const std::string& portal, HttpOutcome outcome,
                             absl::Duration latency) {}
  // The portal answered a command (or a whole request) with an error. `code`
  // is Bitrix24's ("" for old CRM methods).
  virtual void OnBitrixError(const std::string& portal, const std::string& method,
                             const std::string& code, const std::string& description) {}
  virtual void OnRetry(const std::string& portal, const std::string& method, RetryReason reason,
                       absl::Duration delay) {}
  // A write failed as OUTCOME_UNKNOWN: it may have been executed.
  virtual void OnOutcomeUnknown(const std::string& portal, const std::string& method,
                                const std::string& cause) {}
  // The transport failed (message has no secrets: URLs are not included).
  virtual void OnTransportFailure(const std::string& portal, const std::string& message) {}
  virtual void OnTokenRefresh(const std::string& portal, bool ok) {}
  // A redirect was followed: the portal moved to an address the operator
  // allowed (redirect_to).
  virtual void OnRedirect(const std::string& portal) {}
  // A redirect was refused: the call failed, the portal's address stayed.
  // `to` is the scheme, host and port the portal pointed at (no path), or ""
  // when the Location named none; `why` says what rule refused it.
  virtual void OnRedirectRefused(const std::string& portal, const std::string& to,
                                 const std::string& why) {}
  // A REST 3.0 request (/rest/api/) is about to be sent.
  virtual void OnRestV3Sent(const std::string& portal, const std::string& method) {}
  // The portal answered a REST 3.0 write from its idempotency store
  // (Idempotent-Replayed: true): an earlier attempt had run it.
  virtual void OnIdempotentReplay(const std::string& portal, const std::string& method) {}
  // The autothrottle changed speed.
  virtual void OnAutothrottle(const std::string& portal, double rate_factor, int concurrency) {}

  // An observer that ignores everything.
  static PortalObserver* Null();
};

}  // namespace b24gate

#endif  // B24GATE_ENGINE_PORTAL_PORTAL_OBSERVER_H_
