// A throwaway TLS certificate for the tests' HTTPS servers, made with the
// openssl command.
//
// Thread-safety: safe to call from any thread (every call makes a new one).
#ifndef B24GATE_TESTS_SUPPORT_SELF_SIGNED_CERTIFICATE_H_
#define B24GATE_TESTS_SUPPORT_SELF_SIGNED_CERTIFICATE_H_

#include <string>

namespace b24gate::testing {

// A new self-signed certificate (P-256, two days) for 127.0.0.1 and
// localhost: the directory (a TempDir, removed when the process exits)
// holding cert.pem and key.pem; "" when openssl failed.
std::string SelfSignedCertificate();

}  // namespace b24gate::testing

#endif  // B24GATE_TESTS_SUPPORT_SELF_SIGNED_CERTIFICATE_H_
