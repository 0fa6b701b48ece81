#include "service/tls/server_tls_options.h"

#include "absl/strings/str_cat.h"

namespace b24gate {

absl::StatusOr<ServerTlsOptions> ParseServerTls(const ConfigJson& j, const std::string& where) {
  if (!j.is_object()) return Bad(where, "must be an object");
  B24GATE_RETURN_IF_ERROR(CheckKeys(j, where,
                                    {"cert_file", "key_file", "client_ca_file",
                                     "require_client_cert", "reload_interval_seconds"}));
  ServerTlsOptions tls;
  B24GATE_RETURN_IF_ERROR(ReadString(j, "cert_file", where, &tls.cert_file));
  B24GATE_RETURN_IF_ERROR(ReadString(j, "key_file", where, &tls.key_file));
  B24GATE_RETURN_IF_ERROR(ReadString(j, "client_ca_file", where, &tls.client_ca_file));
  B24GATE_RETURN_IF_ERROR(ReadBool(j, "require_client_cert", where, &tls.require_client_cert));
  double seconds = absl::ToDoubleSeconds(tls.reload_interval);
  B24GATE_RETURN_IF_ERROR(ReadNumber(j, "reload_interval_seconds", where, &seconds));
  if (!(seconds >= 1 && seconds <= 86400)) {
    return Bad(where + ".reload_interval_seconds", "must be between 1 and 86400");
  }
  tls.reload_interval = absl::Seconds(seconds);
  return tls;
}

absl::Status ValidateServerTls(const ServerTlsOptions& tls) {
  if (tls.cert_file.empty() != tls.key_file.empty()) {
    return absl::InvalidArgumentError(
        "TLS needs both a certificate and its key: give --tls-cert and --tls-key (or tls.cert_file "
        "and tls.key_file)");
  }
  if (!tls.client_ca_file.empty() && !tls.enabled()) {
    return absl::InvalidArgumentError(
        "--tls-client-ca (tls.client_ca_file) needs TLS: give --tls-cert and --tls-key too");
  }
  if (tls.reload_interval < absl::Seconds(1)) {
    return absl::InvalidArgumentError("tls.reload_interval_seconds must be at least 1");
  }
  return absl::OkStatus();
}

}  // namespace b24gate
