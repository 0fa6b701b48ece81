// REST 3.0 requests (docs/bitrix24-protocol.md, "REST 3.0"): where they go
// (/rest/api/ beside the classic /rest/), what they carry (a JSON body, the
// OAuth token inside it as `auth`), and the Idempotency-Key that lets a write
// be sent again without running twice.
//
// Thread-safety: pure functions; NewIdempotencyKey is safe from any thread.
#ifndef B24GATE_ENGINE_PORTAL_REST_V3_H_
#define B24GATE_ENGINE_PORTAL_REST_V3_H_

#include <string>
#include <vector>

#include <nlohmann/json.hpp>

#include "absl/status/status.h"
#include "absl/strings/string_view.h"
#include "engine/auth/credentials.h"
#include "engine/http/http_transport.h"
#include "engine/portal/call_types.h"

namespace b24gate {

// The REST 3.0 URL of `method` for a classic base URL: the webhook's
// "https://h/rest/1/code/" becomes "https://h/rest/api/1/code/<method>",
// OAuth's "https://h/rest/" becomes "https://h/rest/api/<method>".
std::string V3Url(absl::string_view base_url, absl::string_view method);

// Points `request` (built for the classic API) at REST 3.0: its URL, a JSON
// body of `params` with the OAuth token as `auth` (REST 3.0 reads no query
// string), and the Idempotency-Key header when `idempotency_key` is set.
void MakeV3Request(const Auth& auth, const std::string& method,
                   const nlohmann::ordered_json& params, const std::string& idempotency_key,
                   HttpRequest* request);

// Points `request` at REST 3.0's `batch`: a JSON list of {"method", "query",
// "as"} (each command's key as its `as`, so `{"$ref": "key.field"}` finds
// it), in order. The list leaves no place for `auth`: an OAuth token goes in
// an "Authorization: Bearer" header, which the portal reads as it reads a
// body's `auth` (and which keeps it out of URLs). No Idempotency-Key: the
// docs give a batch's key no meaning.
void MakeV3BatchRequest(const Auth& auth, const std::vector<BatchCommandSpec>& commands,
                        HttpRequest* request);

// A fresh key: "b24gate-" and 32 random hex digits.
std::string NewIdempotencyKey();

// OK for 1 to 255 printable ASCII characters (what the portal accepts), else
// INVALID_ARGUMENT naming `field`.
absl::Status CheckIdempotencyKey(absl::string_view key, absl::string_view field);

}  // namespace b24gate

#endif  // B24GATE_ENGINE_PORTAL_REST_V3_H_
