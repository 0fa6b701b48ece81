// Decide(): every failure the portal meets, as a table of facts, outcome and
// expected disposition at a given `now`.
#include "engine/portal/retry_policy.h"

#include <gtest/gtest.h>

#include "engine/common/errors.h"

namespace b24gate::retry_policy_test {
namespace {

using Action = Disposition::Action;
using Kind = AttemptOutcome::Kind;

const absl::Time kNow = absl::FromUnixSeconds(1700000000);

AttemptOutcome Outcome(Kind kind, std::string code = "", int http_status = 0) {
  AttemptOutcome o;
  o.kind = kind;
  o.code = code;
  o.http_status = http_status;
  o.cause = kind == Kind::kBitrixError
                ? B24ErrorStatus(code, "simulated", http_status)
                : GatewayError(absl::StatusCode::kUnavailable, kReasonTransport, "simulated");
  return o;
}

struct Row {
  const char* name;
  bool read;
  int attempts;
  absl::Duration deadline_in;  // from kNow
  AttemptOutcome outcome;
  Action action;
  RetryReason reason;       // when kRetry
  absl::Duration delay;     // when kRetry
  std::string answer_reason;  // when kAnswer: ReasonOf(status)
  bool outcome_unknown = false;
  int redirects = 0;
  bool can_refresh = false;
  int auth_refreshes = 0;
};

TEST(RetryPolicy, Table) {
  const absl::Duration kLong = absl::Hours(1);
  const absl::Duration k0 = absl::ZeroDuration();
  // Backoff: 100 ms doubling, no jitter (uniform01 = 1 gives the full delay).
  Backoff backoff(BackoffPolicy{absl::Milliseconds(100), absl::Seconds(10), 2}, [] { return 1.0; });
  const absl::Duration first_backoff = backoff.Delay(1);
  const absl::Duration third_backoff = backoff.Delay(3);
  RetryLimits limits;
  limits.max_attempts = 4;
  limits.max_redirects = 3;
  const std::vector<Row> rows = {
      {"not sent: retried with backoff", false, 0, kLong, Outcome(Kind::kNotSent), Action::kRetry,
       RetryReason::kNotSent, first_backoff, ""},
      {"not sent: backoff grows", false, 2, kLong, Outcome(Kind::kNotSent), Action::kRetry,
       RetryReason::kNotSent, third_backoff, ""},
      {"not sent: max attempts reached", false, 3, kLong, Outcome(Kind::kNotSent), Action::kAnswer,
       {}, k0, "TRANSPORT_ERROR"},
      {"not sent: backoff would pass the deadline", false, 0, absl::Milliseconds(50),
       Outcome(Kind::kNotSent), Action::kAnswer, {}, k0, "TRANSPORT_ERROR"},
      {"not sent, permanent: answered at once", true, 0, kLong, Outcome(Kind::kNotSentPermanent),
       Action::kAnswer, {}, k0, "TRANSPORT_ERROR"},
      {"503: a write is repeated at once", false, 0, kLong,
       Outcome(Kind::kBitrixError, "QUERY_LIMIT_EXCEEDED", 503), Action::kRetry,
       RetryReason::kRateLimited, k0, ""},
      {"503: limit answers are not bounded by attempts", false, 10, kLong,
       Outcome(Kind::kBitrixError, "QUERY_LIMIT_EXCEEDED", 503), Action::kRetry,
       RetryReason::kRateLimited, k0, ""},
      {"503: but by the deadline", false, 0, k0,
       Outcome(Kind::kBitrixError, "QUERY_LIMIT_EXCEEDED", 503), Action::kAnswer, {}, k0,
       "QUERY_LIMIT_EXCEEDED"},
      {"429: repeated at once", false, 0, kLong,
       Outcome(Kind::kBitrixError, "OPERATION_TIME_LIMIT", 429), Action::kRetry,
       RetryReason::kOperatingLimit, k0, ""},
      {"outcome unknown: a write is answered, never repeated", false, 0, kLong,
       Outcome(Kind::kOutcomeUnknown), Action::kAnswer, {}, k0, "OUTCOME_UNKNOWN", true},
      {"outcome unknown: a read is repeated with backoff", true, 0, kLong,
       Outcome(Kind::kOutcomeUnknown), Action::kRetry, RetryReason::kServerError, first_backoff,
       ""},
      {"outcome unknown: a read at max attempts keeps its cause", true, 3, kLong,
       Outcome(Kind::kOutcomeUnknown), Action::kAnswer, {}, k0, "TRANSPORT_ERROR"},
      {"500 INTERNAL_SERVER_ERROR on a write: outcome unknown", false, 0, kLong,
       Outcome(Kind::kBitrixError, "INTERNAL_SERVER_ERROR", 500), Action::kAnswer, {}, k0,
       "OUTCOME_UNKNOWN", true},
      {"500 INTERNAL_SERVER_ERROR on a read: repeated", true, 0, kLong,
       Outcome(Kind::kBitrixError, "INTERNAL_SERVER_ERROR", 500), Action::kRetry,
       RetryReason::kServerError, first_backoff, ""},
      {"final error: answered with the portal's code", true, 0, kLong,
       Outcome(Kind::kBitrixError, "ACCESS_DENIED", 403), Action::kAnswer, {}, k0,
       "ACCESS_DENIED"},
      {"expired token, refreshable: refresh first", false, 0, kLong,
       Outcome(Kind::kBitrixError, "expired_token", 401), Action::kRefreshToken,
       RetryReason::kTokenRefresh, k0, "", false, 0, true},
      {"expired token after a refresh: final", false, 0, kLong,
       Outcome(Kind::kBitrixError, "expired_token", 401), Action::kAnswer, {}, k0,
       "expired_token", false, 0, true, 1},
      {"expired token, webhook: final", false, 0, kLong,
       Outcome(Kind::kBitrixError, "expired_token", 401), Action::kAnswer, {}, k0,
       "expired_token"},
      {"redirect: sent again at once", false, 0, kLong, Outcome(Kind::kRedirect), Action::kRetry,
       RetryReason::kRedirect, k0, ""},
      {"fourth redirect: answered", false, 0, kLong, Outcome(Kind::kRedirect), Action::kAnswer,
       {}, k0, "TRANSPORT_ERROR", false, 3},
      {"cancelled: answered", true, 0, kLong,
       [] {
         AttemptOutcome o;
         o.kind = Kind::kCancelled;
         o.cause = GatewayError(absl::StatusCode::kCancelled, kReasonCancelled, "cancelled");
         return o;
       }(),
       Action::kAnswer, {}, k0, "CANCELLED"},
  };
  for (const Row& row : rows) {
    SCOPED_TRACE(row.name);
    AttemptFacts facts;
    facts.method = "crm.lead.add";
    facts.read = row.read;
    facts.attempts = row.attempts;
    facts.deadline = row.deadline_in == kLong ? absl::InfiniteFuture() : kNow + row.deadline_in;
    facts.redirects = row.redirects;
    facts.can_refresh = row.can_refresh;
    facts.auth_refreshes = row.auth_refreshes;
    Disposition d = Decide(facts, row.outcome, kNow, limits, backoff);
    ASSERT_EQ(static_cast<int>(d.action), static_cast<int>(row.action));
    if (row.action == Action::kRetry) {
      EXPECT_EQ(d.reason, row.reason);
      EXPECT_EQ(d.delay, row.delay);
    }
    if (row.action == Action::kAnswer) {
      EXPECT_FALSE(d.status.ok());
      EXPECT_EQ(ReasonOf(d.status), row.answer_reason) << d.status;
      EXPECT_EQ(d.outcome_unknown, row.outcome_unknown);
    }
  }
}

// A REST 3.0 write with an Idempotency-Key: the portal runs it at most once
// per key, so an unknown outcome sends it again (with backoff, within the
// deadline and max_attempts); what is final for any call stays final.
TEST(RetryPolicy, KeyedWritesTable) {
  const absl::Duration kLong = absl::Hours(1);
  const absl::Duration k0 = absl::ZeroDuration();
  Backoff backoff(BackoffPolicy{absl::Milliseconds(100), absl::Seconds(10), 2}, [] { return 1.0; });
  RetryLimits limits;
  limits.max_attempts = 4;
  const std::vector<Row> rows = {
      {"timeout or reset after sending: sent again with backoff", false, 0, kLong,
       Outcome(Kind::kOutcomeUnknown), Action::kRetry, RetryReason::kIdempotentWrite,
       backoff.Delay(1), ""},
      {"500 INTERNAL_SERVER_ERROR: sent again", false, 1, kLong,
       Outcome(Kind::kBitrixError, "INTERNAL_SERVER_ERROR", 500), Action::kRetry,
       RetryReason::kIdempotentWrite, backoff.Delay(2), ""},
      {"out of attempts: outcome unknown", false, 3, kLong, Outcome(Kind::kOutcomeUnknown),
       Action::kAnswer, {}, k0, "OUTCOME_UNKNOWN", true},
      {"backoff would pass the deadline: outcome unknown", false, 0, absl::Milliseconds(50),
       Outcome(Kind::kOutcomeUnknown), Action::kAnswer, {}, k0, "OUTCOME_UNKNOWN", true},
      {"validation error: final", false, 0, kLong,
       Outcome(Kind::kBitrixError, "BITRIX_REST_V3_EXCEPTION_VALIDATION_REQUESTVALIDATIONEXCEPTION",
               400),
       Action::kAnswer, {}, k0, "BITRIX_REST_V3_EXCEPTION_VALIDATION_REQUESTVALIDATIONEXCEPTION"},
      {"key reused with another body: final", false, 0, kLong,
       Outcome(Kind::kBitrixError, "BITRIX_REST_V3_EXCEPTION_IDEMPOTENCYKEYREUSEDEXCEPTION", 422),
       Action::kAnswer, {}, k0, "BITRIX_REST_V3_EXCEPTION_IDEMPOTENCYKEYREUSEDEXCEPTION"},
      {"503: repeated at once as any call", false, 0, kLong,
       Outcome(Kind::kBitrixError, "QUERY_LIMIT_EXCEEDED", 503), Action::kRetry,
       RetryReason::kRateLimited, k0, ""},
      {"a keyed read is repeated as a read", true, 0, kLong, Outcome(Kind::kOutcomeUnknown),
       Action::kRetry, RetryReason::kServerError, backoff.Delay(1), ""},
  };
  for (const Row& row : rows) {
    SCOPED_TRACE(row.name);
    AttemptFacts facts;
    facts.method = "tasks.task.add";
    facts.read = row.read;
    facts.keyed = true;
    facts.attempts = row.attempts;
    facts.deadline = row.deadline_in == kLong ? absl::InfiniteFuture() : kNow + row.deadline_in;
    Disposition d = Decide(facts, row.outcome, kNow, limits, backoff);
    ASSERT_EQ(static_cast<int>(d.action), static_cast<int>(row.action));
    if (row.action == Action::kRetry) {
      EXPECT_EQ(d.reason, row.reason);
      EXPECT_EQ(d.delay, row.delay);
    }
    if (row.action == Action::kAnswer) {
      EXPECT_EQ(ReasonOf(d.status), row.answer_reason) << d.status;
      EXPECT_EQ(d.outcome_unknown, row.outcome_unknown);
    }
  }
}

TEST(RetryPolicy, AWriteLeftUnknownNamesItsMethodAndCause) {
  Backoff backoff(BackoffPolicy{}, [] { return 0.5; });
  AttemptFacts facts;
  facts.method = "crm.deal.add";
  Disposition d = Decide(facts, Outcome(Kind::kOutcomeUnknown), kNow, RetryLimits{}, backoff);
  EXPECT_EQ(d.status.code(), absl::StatusCode::kUnavailable);
  EXPECT_NE(d.status.message().find("crm.deal.add"), absl::string_view::npos) << d.status;
  EXPECT_NE(d.status.message().find("simulated"), absl::string_view::npos) << d.status;
}


// A streamed request's body is gone after one attempt: what would be a
// retry for any other call is its caller's answer, with the cause.
TEST(RetryPolicy, AStreamedRequestIsNeverRetried) {
  Backoff backoff(BackoffPolicy{}, [] { return 0.5; });
  AttemptFacts facts;
  facts.method = "crm.deal.update";
  facts.single_attempt = true;
  facts.can_refresh = true;
  const std::vector<AttemptOutcome> outcomes = {
      Outcome(Kind::kNotSent), Outcome(Kind::kBitrixError, "QUERY_LIMIT_EXCEEDED", 503),
      Outcome(Kind::kBitrixError, "OPERATION_TIME_LIMIT", 429),
      Outcome(Kind::kBitrixError, "expired_token", 401), Outcome(Kind::kRedirect)};
  for (const AttemptOutcome& o : outcomes) {
    SCOPED_TRACE(o.cause.ToString());
    Disposition d = Decide(facts, o, kNow, RetryLimits{}, backoff);
    EXPECT_EQ(static_cast<int>(d.action), static_cast<int>(Action::kAnswer));
    EXPECT_EQ(d.status, o.cause);
  }
  facts.read = true;  // even a read: the body cannot be sent again
  Disposition d = Decide(facts, Outcome(Kind::kOutcomeUnknown), kNow, RetryLimits{}, backoff);
  EXPECT_EQ(static_cast<int>(d.action), static_cast<int>(Action::kAnswer));
}

}  // namespace
}  // namespace b24gate::retry_policy_test
