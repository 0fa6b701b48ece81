// Removes secrets from text bound for logs: the code of a webhook URL
// (".../rest/1/CODE/" -> ".../rest/1/***/"), user:password@ in URLs, and
// the values of auth=, access_token, refresh_token and client_secret
// parameters (query-string or JSON style).
//
// Thread-safety: a pure function.
#ifndef B24GATE_SERVICE_LOGGING_REDACT_H_
#define B24GATE_SERVICE_LOGGING_REDACT_H_

#include <string>

#include "absl/strings/string_view.h"

namespace b24gate {

std::string RedactSecrets(absl::string_view text);

}  // namespace b24gate

#endif  // B24GATE_SERVICE_LOGGING_REDACT_H_
