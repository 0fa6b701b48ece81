// TLS credentials of the gRPC port whose certificate can be replaced while
// the gateway runs, without dropping connections.
//
// gRPC's FileWatcherCertificateProvider re-reads files every second and hands
// new contents to new handshakes (open connections keep theirs). It takes
// whatever the files hold, though: a half-written or wrong key would break
// every new handshake. So it watches private copies instead, in a 0700
// directory of our own: Reload() reads the operator's files, checks them
// (certificate chain, key belongs to it, client CA parses) and only then
// replaces the copy, with one rename, so the watcher never sees a key of one
// certificate next to another. A bad file leaves the served certificate as it
// was; the failure is logged once per content and counted.
//
// The certificate and key are copied into one file: gRPC and OpenSSL read
// the certificates and the key out of the same PEM, and one rename swaps both.
//
// Thread-safety: thread-safe. Reload() runs from the SIGHUP handler and from
// the periodic check; calls are serialised.
#ifndef B24GATE_SERVICE_TLS_SERVER_TLS_H_
#define B24GATE_SERVICE_TLS_SERVER_TLS_H_

#include <memory>
#include <string>
#include <thread>

#include <grpcpp/security/server_credentials.h>

#include "absl/base/thread_annotations.h"
#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "absl/synchronization/mutex.h"
#include "absl/synchronization/notification.h"
#include "service/logging/logger.h"
#include "service/tls/certificate_check.h"
#include "service/tls/server_tls_options.h"
#include "service/tls/tls_metrics.h"

namespace b24gate {

class ServerTls {
 public:
  // Reads and checks the files and starts the periodic check. Fails with
  // INVALID_ARGUMENT naming the file (never quoting it) when a file is
  // unreadable or bad. `logger` must outlive this object; `metrics` may be
  // null.
  static absl::StatusOr<std::unique_ptr<ServerTls>> Start(const ServerTlsOptions& options, Logger* logger,
                                                          TlsMetrics* metrics);
  // Stops the periodic check and removes the private copies.
  ~ServerTls();

  // For grpc::ServerBuilder::AddListeningPort.
  std::shared_ptr<grpc::ServerCredentials> credentials() const { return credentials_; }

  // Reads the files again. Unchanged: nothing happens. Changed and good: new
  // handshakes use them within a second. Bad: the served certificate stays,
  // a warning is logged and counted (once per bad content unless `forced`, as
  // on SIGHUP), and the error is returned.
  absl::Status Reload(bool forced);

  // The certificate new handshakes get.
  CertificateInfo serving() const;

 private:
  struct Files {
    std::string chain, key, client_ca;
    bool operator==(const Files& o) const {
      return chain == o.chain && key == o.key && client_ca == o.client_ca;
    }
  };

  ServerTls(const ServerTlsOptions& options, Logger* logger, TlsMetrics* metrics)
      : options_(options), logger_(logger), metrics_(metrics) {}
  absl::StatusOr<Files> ReadFiles() const;
  // Checks `files` and writes the private copies.
  absl::StatusOr<CertificateInfo> Install(const Files& files) ABSL_EXCLUSIVE_LOCKS_REQUIRED(mu_);
  void LogServing(const char* message) ABSL_EXCLUSIVE_LOCKS_REQUIRED(mu_);
  void WatchLoop();

  const ServerTlsOptions options_;
  Logger* const logger_;
  TlsMetrics* const metrics_;
  std::string dir_;  // the private copies
  std::shared_ptr<grpc::ServerCredentials> credentials_;

  mutable absl::Mutex mu_;
  Files installed_ ABSL_GUARDED_BY(mu_);
  CertificateInfo serving_ ABSL_GUARDED_BY(mu_);
  // Contents that failed last, so a periodic check warns about them once.
  Files last_failed_ ABSL_GUARDED_BY(mu_);
  std::string last_error_ ABSL_GUARDED_BY(mu_);

  absl::Notification stop_;
  std::thread watcher_;
};

}  // namespace b24gate

#endif  // B24GATE_SERVICE_TLS_SERVER_TLS_H_
