// TLS on the gateway's gRPC port: the files and how often they are checked.
// Filled from --tls-cert / --tls-key / --tls-client-ca and the config file's
// "tls" object (ParseServerTls), flags winning per field.
#ifndef B24GATE_SERVICE_TLS_SERVER_TLS_OPTIONS_H_
#define B24GATE_SERVICE_TLS_SERVER_TLS_OPTIONS_H_

#include <string>

#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "absl/time/time.h"
#include "service/config_reading.h"

namespace b24gate {

struct ServerTlsOptions {
  // PEM certificate chain (leaf first) and its private key (unencrypted).
  // Both empty = plain text.
  std::string cert_file;
  std::string key_file;
  // PEM CA certificates that client certificates are verified against;
  // empty = no client certificates asked for.
  std::string client_ca_file;
  // With a client CA: refuse connections without a client certificate. When
  // false a certificate is optional, but verified whenever one is presented.
  bool require_client_cert = true;
  // How often the files are read again for a new certificate (SIGHUP reads
  // them at once).
  absl::Duration reload_interval = absl::Seconds(60);

  bool enabled() const { return !cert_file.empty(); }
  // Client certificates are checked and every connection must present one.
  bool requires_client_cert() const { return !client_ca_file.empty() && require_client_cert; }
};

// The config file's "tls" object. `where` names it ("config.tls").
absl::StatusOr<ServerTlsOptions> ParseServerTls(const ConfigJson& j, const std::string& where);

// Both files or neither; a client CA only with a certificate; a positive
// reload interval.
absl::Status ValidateServerTls(const ServerTlsOptions& tls);

}  // namespace b24gate

#endif  // B24GATE_SERVICE_TLS_SERVER_TLS_OPTIONS_H_
