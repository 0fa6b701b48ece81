// What to do with one piece of work after an attempt that did not succeed:
// answer its caller, send it again (when and why), or get a new token first.
//
// The rules, in one place:
//   - not executed (transport failure before sending, 503
//     QUERY_LIMIT_EXCEEDED, 429 OPERATION_TIME_LIMIT, a redirect): sent
//     again within the caller's deadline; transport failures back off and
//     are bounded by max_attempts, limit answers wait as long as the
//     deadline allows;
//   - outcome unknown (timeout or reset after sending, 500, a 5xx page):
//     reads (and calls marked idempotent) are sent again with backoff; so
//     are REST 3.0 writes that carry an Idempotency-Key (the portal keeps
//     the first successful answer per key and replays it instead of running
//     the write again), within the deadline and max_attempts, after which
//     they are answered OUTCOME_UNKNOWN; other writes are answered
//     UNAVAILABLE / OUTCOME_UNKNOWN, never repeated;
//   - an expired or invalid token: one refresh, then sent again;
//   - anything else (auth, access, bad parameters) is final;
//   - a request whose body was streamed (AttemptFacts::single_attempt) is
//     never sent again: the cause of a retry is its caller's answer.
//
// Thread-safety: Decide is a pure function.
#ifndef B24GATE_ENGINE_PORTAL_RETRY_POLICY_H_
#define B24GATE_ENGINE_PORTAL_RETRY_POLICY_H_

#include <string>

#include "absl/status/status.h"
#include "absl/time/time.h"
#include "engine/portal/portal_observer.h"
#include "engine/throttle/backoff.h"

namespace b24gate {

// How one attempt of one piece of work ended (the whole request, or its
// entry in a batch answer).
struct AttemptOutcome {
  enum class Kind {
    kNotSent,           // never reached the portal; may heal
    kNotSentPermanent,  // never reached it and never will (bad certificate)
    kOutcomeUnknown,    // may have run: timeout, reset, 5xx page, garbage
    kRedirect,          // the portal moved; nothing ran
    kBitrixError,       // the portal answered with an error code
    kCancelled,         // every caller gave up and the transfer was aborted
  };
  Kind kind = Kind::kNotSent;
  absl::Status cause;  // what the caller is told if this is final
  std::string code;    // kBitrixError: Bitrix24's error code
  int http_status = 0;  // kBitrixError
};

// What Decide needs to know of the work.
struct AttemptFacts {
  std::string method;  // for messages
  bool read = false;  // safe to repeat when the outcome is unknown
  // A REST 3.0 write sent with an Idempotency-Key: the portal runs it at most
  // once per key, so it may be sent again (with the same key) when its
  // outcome is unknown.
  bool keyed = false;
  int attempts = 0;   // attempts before this one failed
  int auth_refreshes = 0;
  int redirects = 0;  // redirects before this one
  absl::Time deadline = absl::InfiniteFuture();
  bool can_refresh = false;  // the credentials can get a new token
  // The request cannot be sent again (its body was streamed and is gone):
  // whatever the outcome, it is the caller's answer.
  bool single_attempt = false;
};

struct RetryLimits {
  int max_attempts = 8;
  int max_redirects = 3;
};

struct Disposition {
  enum class Action { kAnswer, kRetry, kRefreshToken };
  Action action = Action::kAnswer;
  // kAnswer: the caller's answer; kRetry: why it is sent again.
  absl::Status status;
  // kRetry: why, and how long to wait first.
  RetryReason reason = RetryReason::kNotSent;
  absl::Duration delay;
  // kAnswer: a write answered OUTCOME_UNKNOWN (it may have run).
  bool outcome_unknown = false;
};

// The disposition of `facts`' work after `outcome` at `now`. `backoff` gives
// the wait before a repeat with backoff (attempt numbers from 1).
Disposition Decide(const AttemptFacts& facts, const AttemptOutcome& outcome, absl::Time now,
                   const RetryLimits& limits, const Backoff& backoff);

// Whether a Bitrix24 error code (with its HTTP status) leaves the outcome
// unknown: the portal failed while running the command.
bool IsOutcomeUnknownCode(const std::string& code, int http_status);

}  // namespace b24gate

#endif  // B24GATE_ENGINE_PORTAL_RETRY_POLICY_H_
