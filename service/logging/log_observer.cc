#include "service/logging/log_observer.h"

#include <cmath>

namespace b24gate {
namespace {

// Milliseconds with microsecond precision, for compact lines.
double Ms(absl::Duration d) { return std::round(absl::ToDoubleMicroseconds(d)) / 1e3; }

}  // namespace

void LogObserver::OnRequestDone(const std::string& portal, HttpOutcome outcome,
                                absl::Duration latency) {
  // A Bitrix24 error answer gets its own line (OnBitrixError), with the code.
  bool failed = outcome == HttpOutcome::kNotSent || outcome == HttpOutcome::kOutcomeUnknown;
  logger_->Log(failed ? LogLevel::kWarn : LogLevel::kDebug,
               failed ? "upstream request failed" : "upstream request",
               {{"portal", portal}, {"outcome", HttpOutcomeName(outcome)},
                {"duration_ms", Ms(latency)}});
}

void LogObserver::OnBitrixError(const std::string& portal, const std::string& method,
                                const std::string& code, const std::string& description) {
  logger_->Log(LogLevel::kWarn, "bitrix24 error",
               {{"portal", portal}, {"method", method}, {"outcome", "b24_error"}, {"code", code},
                {"description", description}});
}

void LogObserver::OnRetry(const std::string& portal, const std::string& method, RetryReason reason,
                          absl::Duration delay) {
  logger_->Log(LogLevel::kInfo, "retry",
               {{"portal", portal}, {"method", method}, {"reason", RetryReasonName(reason)},
                {"delay_ms", Ms(delay)}});
}

void LogObserver::OnOutcomeUnknown(const std::string& portal, const std::string& method,
                                   const std::string& cause) {
  logger_->Log(LogLevel::kError, "write outcome unknown; not repeated",
               {{"portal", portal}, {"method", method}, {"outcome", "outcome_unknown"},
                {"cause", cause}});
}

void LogObserver::OnTransportFailure(const std::string& portal, const std::string& message) {
  logger_->Log(LogLevel::kWarn, "transport failure",
               {{"portal", portal}, {"outcome", "transport_error"}, {"error", message}});
}

void LogObserver::OnTokenRefresh(const std::string& portal, bool ok) {
  logger_->Log(ok ? LogLevel::kInfo : LogLevel::kError,
               ok ? "oauth token refreshed" : "oauth token refresh failed",
               {{"portal", portal}, {"outcome", ok ? "ok" : "failed"}});
}

void LogObserver::OnRedirect(const std::string& portal) {
  logger_->Log(LogLevel::kWarn, "portal redirected to a new address", {{"portal", portal}});
}

void LogObserver::OnRedirectRefused(const std::string& portal, const std::string& to,
                                    const std::string& why) {
  logger_->Log(LogLevel::kWarn, "portal redirect refused", {{"portal", portal}, {"to", to}, {"why", why}});
}

void LogObserver::OnAutothrottle(const std::string& portal, double rate_factor, int concurrency) {
  logger_->Log(LogLevel::kWarn, "autothrottle speed changed",
               {{"portal", portal}, {"rate_factor", rate_factor}, {"concurrency", concurrency}});
}

}  // namespace b24gate
