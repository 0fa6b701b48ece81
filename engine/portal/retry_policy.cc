#include "engine/portal/retry_policy.h"

#include "absl/strings/str_cat.h"
#include "engine/common/errors.h"

namespace b24gate {
namespace {

using Kind = AttemptOutcome::Kind;

Disposition Answer(absl::Status status) {
  Disposition d;
  d.action = Disposition::Action::kAnswer;
  d.status = std::move(status);
  return d;
}

// Not executed, so always safe to send again: within the deadline, and with
// backoff within max_attempts (so a call without a deadline cannot loop for
// ever on an unreachable portal). Limit answers (no backoff) wait as long as
// the deadline allows.
Disposition NotExecuted(const AttemptFacts& f, absl::Status cause, RetryReason reason,
                        bool with_backoff, absl::Time now, const RetryLimits& limits,
                        const Backoff& backoff) {
  const int attempt = f.attempts + 1;
  absl::Duration delay = with_backoff ? backoff.Delay(attempt) : absl::ZeroDuration();
  if ((with_backoff && attempt >= limits.max_attempts) || now + delay >= f.deadline) {
    return Answer(std::move(cause));
  }
  Disposition d;
  d.action = Disposition::Action::kRetry;
  d.status = std::move(cause);
  d.reason = reason;
  d.delay = delay;
  return d;
}

// A write that may have run and is not sent again: its caller is told so.
Disposition UnknownWrite(const AttemptFacts& f, const absl::Status& cause, const char* why) {
  Disposition d = Answer(GatewayError(
      absl::StatusCode::kUnavailable, kReasonOutcomeUnknown,
      absl::StrCat("outcome unknown: the request may have been executed and was not repeated "
                   "because ",
                   f.method, " ", why, " (", cause.message(), ")")));
  d.outcome_unknown = true;
  return d;
}

Disposition OutcomeUnknown(const AttemptFacts& f, const absl::Status& cause, absl::Time now,
                           const RetryLimits& limits, const Backoff& backoff) {
  if (!f.read && !f.keyed) return UnknownWrite(f, cause, "is not known to be safe to repeat");
  if (f.attempts + 1 >= limits.max_attempts) {
    return f.read ? Answer(cause) : UnknownWrite(f, cause, "ran out of attempts");
  }
  Disposition d = NotExecuted(f, cause, f.read ? RetryReason::kServerError
                                               : RetryReason::kIdempotentWrite,
                              /*with_backoff=*/true, now, limits, backoff);
  if (d.action == Disposition::Action::kAnswer && !f.read) {
    return UnknownWrite(f, cause, "ran out of time before the next attempt");
  }
  return d;
}

Disposition BitrixError(const AttemptFacts& f, const AttemptOutcome& o, absl::Time now,
                        const RetryLimits& limits, const Backoff& backoff) {
  if (o.code == "QUERY_LIMIT_EXCEEDED") {
    return NotExecuted(f, o.cause, RetryReason::kRateLimited, false, now, limits, backoff);
  }
  if (o.code == "OPERATION_TIME_LIMIT") {
    return NotExecuted(f, o.cause, RetryReason::kOperatingLimit, false, now, limits, backoff);
  }
  if ((o.code == "expired_token" || o.code == "invalid_token") && f.can_refresh &&
      f.auth_refreshes == 0) {
    Disposition d;
    d.action = Disposition::Action::kRefreshToken;
    d.status = o.cause;
    d.reason = RetryReason::kTokenRefresh;
    return d;
  }
  if (IsOutcomeUnknownCode(o.code, o.http_status)) {
    return OutcomeUnknown(f, o.cause, now, limits, backoff);
  }
  return Answer(o.cause);
}

// Decide, for a request that may be sent again.
Disposition DecideRepeatable(const AttemptFacts& facts, const AttemptOutcome& outcome,
                             absl::Time now, const RetryLimits& limits, const Backoff& backoff) {
  switch (outcome.kind) {
    case Kind::kCancelled:
    case Kind::kNotSentPermanent:
      return Answer(outcome.cause);
    case Kind::kNotSent:
      return NotExecuted(facts, outcome.cause, RetryReason::kNotSent, true, now, limits, backoff);
    case Kind::kRedirect:
      if (facts.redirects + 1 > limits.max_redirects) {
        return Answer(GatewayError(absl::StatusCode::kUnavailable, kReasonTransport,
                                   absl::StrCat("the portal redirected more than ",
                                                limits.max_redirects, " times")));
      }
      return NotExecuted(facts, outcome.cause, RetryReason::kRedirect, false, now, limits,
                         backoff);
    case Kind::kOutcomeUnknown:
      return OutcomeUnknown(facts, outcome.cause, now, limits, backoff);
    case Kind::kBitrixError:
      return BitrixError(facts, outcome, now, limits, backoff);
  }
  return Answer(outcome.cause);
}

}  // namespace

bool IsOutcomeUnknownCode(const std::string& code, int http_status) {
  if (code == "INTERNAL_SERVER_ERROR" || code == "ERROR_UNEXPECTED_ANSWER") return true;
  if (code == "OVERLOAD_LIMIT" || code == "PORTAL_DELETED") return false;
  return http_status >= 500 && code != "QUERY_LIMIT_EXCEEDED";
}

Disposition Decide(const AttemptFacts& facts, const AttemptOutcome& outcome, absl::Time now,
                   const RetryLimits& limits, const Backoff& backoff) {
  Disposition d = DecideRepeatable(facts, outcome, now, limits, backoff);
  if (facts.single_attempt && d.action != Disposition::Action::kAnswer) return Answer(d.status);
  return d;
}

}  // namespace b24gate
