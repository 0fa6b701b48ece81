#include "service/auth/authenticator.h"

#include <openssl/crypto.h>
#include <openssl/evp.h>

#include "absl/strings/ascii.h"
#include "absl/strings/match.h"
#include "absl/strings/strip.h"

namespace b24gate {
namespace {

constexpr char kAuthorizationHeader[] = "authorization";

// The token of "Bearer TOKEN" (scheme case-insensitive, RFC 6750); nullopt
// for any other form.
std::optional<absl::string_view> BearerToken(absl::string_view value) {
  value = absl::StripAsciiWhitespace(value);
  constexpr absl::string_view kScheme = "bearer ";
  if (value.size() <= kScheme.size() || !absl::StartsWithIgnoreCase(value, kScheme)) {
    return std::nullopt;
  }
  absl::string_view token = absl::StripLeadingAsciiWhitespace(value.substr(kScheme.size()));
  if (token.empty()) return std::nullopt;
  return token;
}

int HexValue(char c) {
  if (c >= '0' && c <= '9') return c - '0';
  c = absl::ascii_tolower(static_cast<unsigned char>(c));
  if (c >= 'a' && c <= 'f') return c - 'a' + 10;
  return -1;
}

}  // namespace

const char* AuthFailureName(AuthFailure failure) {
  switch (failure) {
    case AuthFailure::kNone: return "";
    case AuthFailure::kMissingCredentials: return "missing_credentials";
    case AuthFailure::kMalformedCredentials: return "malformed_credentials";
    case AuthFailure::kUnknownToken: return "unknown_token";
    case AuthFailure::kUnknownCertificate: return "unknown_certificate";
  }
  return "";
}

Sha256Digest Sha256(absl::string_view text) {
  Sha256Digest digest{};
  unsigned int size = 0;
  EVP_Digest(text.data(), text.size(), digest.data(), &size, EVP_sha256(), nullptr);
  return digest;
}

std::optional<Sha256Digest> DigestFromHex(absl::string_view hex) {
  Sha256Digest digest{};
  if (hex.size() != 2 * digest.size()) return std::nullopt;
  for (size_t i = 0; i < digest.size(); ++i) {
    int high = HexValue(hex[2 * i]), low = HexValue(hex[2 * i + 1]);
    if (high < 0 || low < 0) return std::nullopt;
    digest[i] = static_cast<uint8_t>(high << 4 | low);
  }
  return digest;
}

int FindDigestConstantTime(const Sha256Digest& needle, const std::vector<Sha256Digest>& table,
                           MemCompare compare) {
  if (compare == nullptr) compare = CRYPTO_memcmp;
  int found = -1;
  for (size_t i = 0; i < table.size(); ++i) {
    // equal: 1 or 0, then a mask of all ones or all zeros.
    unsigned equal = compare(needle.data(), table[i].data(), needle.size()) == 0;
    unsigned mask = 0u - equal;
    found = static_cast<int>((static_cast<unsigned>(found) & ~mask) |
                             (static_cast<unsigned>(i) & mask));
  }
  return found;
}

std::vector<std::string> PeerCertificateIdentities(const grpc::AuthContext& auth) {
  std::vector<std::string> identities;
  // gRPC fills the x509 properties from the certificate the TLS handshake
  // verified (or, with a server that asks but does not verify, from any
  // certificate): trust them only when the server requires and verifies
  // client certificates, as --tls-client-ca does.
  if (!auth.IsPeerAuthenticated()) return identities;
  for (const char* property : {"x509_common_name", "x509_subject_alternative_name", "peer_dns",
                               "peer_uri"}) {
    for (const grpc::string_ref& value : auth.FindPropertyValues(property)) {
      identities.emplace_back(value.data(), value.size());
    }
  }
  return identities;
}

absl::Status AuthOutcome::status() const {
  switch (failure) {
    case AuthFailure::kNone:
      return absl::OkStatus();
    case AuthFailure::kMissingCredentials:
      return absl::UnauthenticatedError(
          "missing credentials: send metadata \"authorization: Bearer TOKEN\" or a client "
          "certificate");
    case AuthFailure::kMalformedCredentials:
      return absl::UnauthenticatedError(
          "malformed credentials: the authorization metadata must be \"Bearer TOKEN\"");
    case AuthFailure::kUnknownToken:
      return absl::UnauthenticatedError("unknown token");
    case AuthFailure::kUnknownCertificate:
      return absl::UnauthenticatedError("unknown client certificate");
  }
  return absl::UnauthenticatedError("refused");
}

Authenticator::Authenticator(std::vector<ClientSpec> clients) : clients_(std::move(clients)) {
  for (const ClientSpec& c : clients_) {
    if (c.token_sha256.empty()) continue;
    std::optional<Sha256Digest> digest = DigestFromHex(c.token_sha256);
    if (!digest) continue;  // ParseClients refuses such a config
    token_digests_.push_back(*digest);
    token_owners_.push_back(&c);
  }
}

AuthOutcome Authenticator::Identify(std::optional<absl::string_view> authorization,
                                    const std::vector<std::string>& certificate_identities) const {
  AuthOutcome out;
  if (!enabled()) return out;
  if (authorization) {
    std::optional<absl::string_view> token = BearerToken(*authorization);
    if (!token) {
      out.failure = AuthFailure::kMalformedCredentials;
      return out;
    }
    int at = FindDigestConstantTime(Sha256(*token), token_digests_);
    if (at < 0) {
      out.failure = AuthFailure::kUnknownToken;
    } else {
      out.client = token_owners_[at];
    }
    return out;
  }
  if (certificate_identities.empty()) {
    out.failure = AuthFailure::kMissingCredentials;
    return out;
  }
  // Identities are names, not secrets: a plain search is fine.
  for (const ClientSpec& c : clients_) {
    if (c.certificate_identity.empty()) continue;
    for (const std::string& identity : certificate_identities) {
      if (identity == c.certificate_identity) {
        out.client = &c;
        return out;
      }
    }
  }
  out.failure = AuthFailure::kUnknownCertificate;
  return out;
}

AuthOutcome Authenticator::Identify(const std::multimap<grpc::string_ref, grpc::string_ref>& metadata,
                                    const grpc::AuthContext* auth) const {
  if (!enabled()) return {};
  std::optional<absl::string_view> authorization;
  auto it = metadata.find(kAuthorizationHeader);
  if (it != metadata.end()) authorization = absl::string_view(it->second.data(), it->second.size());
  std::vector<std::string> identities;
  if (auth != nullptr) identities = PeerCertificateIdentities(*auth);
  return Identify(authorization, identities);
}

AuthOutcome Authenticator::Identify(const grpc::ServerContextBase& context) const {
  if (!enabled()) return {};
  std::shared_ptr<const grpc::AuthContext> auth = context.auth_context();
  return Identify(context.client_metadata(), auth.get());
}

}  // namespace b24gate
