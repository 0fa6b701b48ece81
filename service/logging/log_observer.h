// A PortalObserver that writes one log line per upstream event worth an
// operator's attention: failed HTTP requests, Bitrix24 errors, retries,
// outcome-unknown writes, transport failures, token refreshes, redirects and
// autothrottle speed changes. Successful requests are logged at debug level.
//
// Thread-safety: thread-safe (the Logger serialises lines).
#ifndef B24GATE_SERVICE_LOGGING_LOG_OBSERVER_H_
#define B24GATE_SERVICE_LOGGING_LOG_OBSERVER_H_

#include <string>

#include "engine/portal/portal_observer.h"
#include "service/logging/logger.h"

namespace b24gate {

class LogObserver : public PortalObserver {
 public:
  // `logger` must outlive the observer.
  explicit LogObserver(Logger* logger) : logger_(logger) {}

  void OnRequestDone(const std::string& portal, HttpOutcome outcome,
                     absl::Duration latency) override;
  void OnBitrixError(const std::string& portal, const std::string& method, const std::string& code,
                     const std::string& description) override;
  void OnRetry(const std::string& portal, const std::string& method, RetryReason reason,
               absl::Duration delay) override;
  void OnOutcomeUnknown(const std::string& portal, const std::string& method,
                        const std::string& cause) override;
  void OnTransportFailure(const std::string& portal, const std::string& message) override;
  void OnTokenRefresh(const std::string& portal, bool ok) override;
  void OnRedirect(const std::string& portal) override;
  void OnRedirectRefused(const std::string& portal, const std::string& to,
                         const std::string& why) override;
  void OnAutothrottle(const std::string& portal, double rate_factor, int concurrency) override;

 private:
  Logger* const logger_;
};

}  // namespace b24gate

#endif  // B24GATE_SERVICE_LOGGING_LOG_OBSERVER_H_
