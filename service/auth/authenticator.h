// Who is calling: matches a call's credentials against the configured API
// clients (client_config.h). A client proves itself with a bearer token
// (metadata `authorization: Bearer TOKEN`) or with a verified mTLS client
// certificate whose identity (subject CN or a subject alternative name)
// equals its `certificate_identity`. With no clients configured there is no
// client authentication: every call is anonymous and allowed.
//
// Tokens are never stored: each client's SHA-256 is, and a presented token is
// hashed and compared with every configured hash in constant time, so neither
// the comparison nor the search reveals how close a guess came or which
// client it matched. Refusal messages never contain the token.
//
// Thread-safety: immutable after construction; thread-safe.
#ifndef B24GATE_SERVICE_AUTH_AUTHENTICATOR_H_
#define B24GATE_SERVICE_AUTH_AUTHENTICATOR_H_

#include <array>
#include <cstddef>
#include <cstdint>
#include <map>
#include <optional>
#include <string>
#include <vector>

#include <grpcpp/security/auth_context.h>
#include <grpcpp/server_context.h>

#include "absl/status/status.h"
#include "absl/strings/string_view.h"
#include "service/auth/client_config.h"

namespace b24gate {

// Why a call was refused: the `reason` label of b24gate_auth_failures_total.
enum class AuthFailure {
  kNone,
  kMissingCredentials,   // no authorization metadata and no client certificate
  kMalformedCredentials, // authorization metadata that is not "Bearer TOKEN"
  kUnknownToken,         // a token no client has
  kUnknownCertificate,   // a verified certificate no client has
};
inline constexpr AuthFailure kAllAuthFailures[] = {
    AuthFailure::kMissingCredentials, AuthFailure::kMalformedCredentials,
    AuthFailure::kUnknownToken, AuthFailure::kUnknownCertificate};
// "missing_credentials", "malformed_credentials", "unknown_token",
// "unknown_certificate" ("" for kNone).
const char* AuthFailureName(AuthFailure failure);

using Sha256Digest = std::array<uint8_t, 32>;

// SHA-256 of `text`.
Sha256Digest Sha256(absl::string_view text);

// 64 hex digits (either case) as a digest; nullopt otherwise.
std::optional<Sha256Digest> DigestFromHex(absl::string_view hex);

// The index of `needle` in `table`, or -1. Compares every entry in full with
// `compare` (CRYPTO_memcmp: time independent of the contents) and selects the
// match without branching on it, so the time taken depends only on the
// table's size.
using MemCompare = int (*)(const void*, const void*, size_t);
int FindDigestConstantTime(const Sha256Digest& needle, const std::vector<Sha256Digest>& table,
                           MemCompare compare = nullptr);

// The identities of a verified client certificate on the call's connection
// (x509 subject CN and subject alternative names); empty when the peer is
// not authenticated by TLS.
std::vector<std::string> PeerCertificateIdentities(const grpc::AuthContext& auth);

struct AuthOutcome {
  // The caller; null when anonymous (no clients configured) or refused.
  const ClientSpec* client = nullptr;
  AuthFailure failure = AuthFailure::kNone;

  bool ok() const { return failure == AuthFailure::kNone; }
  // OK, or UNAUTHENTICATED saying why (never quoting a credential).
  absl::Status status() const;
};

class Authenticator {
 public:
  // REQUIRES: `clients` as ParseClients checked them (valid token hashes).
  explicit Authenticator(std::vector<ClientSpec> clients);

  // False when no clients are configured: every call is anonymous.
  bool enabled() const { return !clients_.empty(); }
  const std::vector<ClientSpec>& clients() const { return clients_; }

  // The client behind a call. `authorization` is the value of the call's
  // `authorization` metadata (nullopt when absent); `certificate_identities`
  // those of its verified client certificate. A token, when given, decides
  // alone: a wrong token is refused even on a known certificate.
  AuthOutcome Identify(std::optional<absl::string_view> authorization,
                       const std::vector<std::string>& certificate_identities) const;
  // The same, reading the metadata and the TLS identity of a server call.
  AuthOutcome Identify(const std::multimap<grpc::string_ref, grpc::string_ref>& metadata,
                       const grpc::AuthContext* auth) const;
  AuthOutcome Identify(const grpc::ServerContextBase& context) const;

 private:
  std::vector<ClientSpec> clients_;
  // Token digests and, at the same index, the client that owns each.
  std::vector<Sha256Digest> token_digests_;
  std::vector<const ClientSpec*> token_owners_;
};

}  // namespace b24gate

#endif  // B24GATE_SERVICE_AUTH_AUTHENTICATOR_H_
