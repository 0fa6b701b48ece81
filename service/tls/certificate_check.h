// Checks PEM files before the gateway serves them: a certificate chain that
// parses, an unencrypted private key that belongs to its leaf, a CA bundle
// with at least one certificate. Messages name the file, never its contents.
//
// Thread-safety: free functions, no shared state.
#ifndef B24GATE_SERVICE_TLS_CERTIFICATE_CHECK_H_
#define B24GATE_SERVICE_TLS_CERTIFICATE_CHECK_H_

#include <string>

#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "absl/time/time.h"

namespace b24gate {

// What the logs and metrics say about a certificate.
struct CertificateInfo {
  std::string subject;     // one line, e.g. "CN=gateway.example.com"
  std::string serial_hex;  // upper-case hex, e.g. "1A2B"
  absl::Time not_after;
};

// The leaf (first) certificate of a PEM chain; INVALID_ARGUMENT naming
// `what` when there is none or a later one does not parse.
absl::StatusOr<CertificateInfo> InspectCertificateChain(const std::string& pem, const std::string& what);

// The chain's leaf, after checking that `key_pem` is an unencrypted private
// key whose public half is the leaf's.
absl::StatusOr<CertificateInfo> CheckKeyPair(const std::string& chain_pem, const std::string& cert_what,
                                             const std::string& key_pem, const std::string& key_what);

// At least one certificate, and nothing that fails to parse.
absl::Status CheckCaBundle(const std::string& pem, const std::string& what);

}  // namespace b24gate

#endif  // B24GATE_SERVICE_TLS_CERTIFICATE_CHECK_H_
