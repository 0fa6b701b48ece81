#include "service/tls/server_tls.h"

#include <fcntl.h>
#include <stdlib.h>
#include <unistd.h>

#include <cerrno>
#include <cstdio>
#include <cstring>

#include <grpcpp/security/tls_certificate_provider.h>
#include <grpcpp/security/tls_credentials_options.h>

#include "absl/strings/str_cat.h"
#include "absl/time/clock.h"
#include "service/config_reading.h"

namespace b24gate {
namespace {

// How often gRPC's watcher reads the private copies: a new certificate
// reaches new handshakes at most this long after Reload().
constexpr unsigned kWatcherRefreshSeconds = 1;

constexpr char kIdentityFile[] = "identity.pem";
constexpr char kClientCaFile[] = "client-ca.pem";

std::string Quoted(const char* what, const std::string& path) {
  return absl::StrCat(what, " \"", path, "\"");
}

// Writes `text` to DIR/NAME through a temporary file and a rename, so a
// reader sees the old or the new contents, never a mix.
absl::Status WriteAtomically(const std::string& dir, const char* name, const std::string& text) {
  std::string tmp = absl::StrCat(dir, "/.", name, ".tmp");
  std::string path = absl::StrCat(dir, "/", name);
  int fd = open(tmp.c_str(), O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0600);
  if (fd < 0) return absl::InternalError(absl::StrCat("cannot write ", tmp, ": ", std::strerror(errno)));
  size_t written = 0;
  while (written < text.size()) {
    ssize_t n = write(fd, text.data() + written, text.size() - written);
    if (n < 0 && errno == EINTR) continue;
    if (n <= 0) break;
    written += static_cast<size_t>(n);
  }
  bool ok = written == text.size() && fsync(fd) == 0;
  ok = close(fd) == 0 && ok;
  if (!ok || rename(tmp.c_str(), path.c_str()) != 0) {
    unlink(tmp.c_str());
    return absl::InternalError(absl::StrCat("cannot write ", path, ": ", std::strerror(errno)));
  }
  return absl::OkStatus();
}

std::string TempRoot() {
  const char* tmpdir = std::getenv("TMPDIR");
  return tmpdir != nullptr && *tmpdir != '\0' ? tmpdir : "/tmp";
}

}  // namespace

absl::StatusOr<std::unique_ptr<ServerTls>> ServerTls::Start(const ServerTlsOptions& options,
                                                            Logger* logger, TlsMetrics* metrics) {
  std::unique_ptr<ServerTls> tls(new ServerTls(options, logger, metrics));
  absl::StatusOr<Files> files = tls->ReadFiles();
  if (!files.ok()) return files.status();
  std::string pattern = TempRoot() + "/b24gate-tls-XXXXXX";
  if (mkdtemp(pattern.data()) == nullptr) {
    return absl::InternalError(absl::StrCat("cannot create a private directory under ", TempRoot(),
                                            " for the TLS files: ", std::strerror(errno)));
  }
  tls->dir_ = pattern;  // mkdtemp makes it 0700
  {
    absl::MutexLock lock(&tls->mu_);
    absl::StatusOr<CertificateInfo> info = tls->Install(*files);
    if (!info.ok()) return info.status();
    tls->installed_ = *files;
    tls->serving_ = *info;
    if (metrics != nullptr) metrics->Serving(*info);
  }

  // The watcher reads the copies once here, so the credentials are complete
  // before the server starts.
  auto provider = std::make_shared<grpc::experimental::FileWatcherCertificateProvider>(
      absl::StrCat(tls->dir_, "/", kIdentityFile), absl::StrCat(tls->dir_, "/", kIdentityFile),
      options.client_ca_file.empty() ? "" : absl::StrCat(tls->dir_, "/", kClientCaFile),
      kWatcherRefreshSeconds);
  grpc::experimental::TlsServerCredentialsOptions credentials(provider);
  credentials.watch_identity_key_cert_pairs();
  if (options.client_ca_file.empty()) {
    credentials.set_cert_request_type(GRPC_SSL_DONT_REQUEST_CLIENT_CERTIFICATE);
  } else {
    credentials.watch_root_certs();
    // Optional certificates are still verified when presented, so a
    // certificate's identity on a call is always one the CA signed.
    credentials.set_cert_request_type(options.require_client_cert
                                          ? GRPC_SSL_REQUEST_AND_REQUIRE_CLIENT_CERTIFICATE_AND_VERIFY
                                          : GRPC_SSL_REQUEST_CLIENT_CERTIFICATE_AND_VERIFY);
  }
  tls->credentials_ = grpc::experimental::TlsServerCredentials(credentials);
  {
    absl::MutexLock lock(&tls->mu_);
    tls->LogServing("TLS on the gRPC port");
  }
  tls->watcher_ = std::thread([t = tls.get()] { t->WatchLoop(); });
  return tls;
}

ServerTls::~ServerTls() {
  stop_.Notify();
  if (watcher_.joinable()) watcher_.join();
  if (!dir_.empty()) {
    unlink(absl::StrCat(dir_, "/", kIdentityFile).c_str());
    unlink(absl::StrCat(dir_, "/", kClientCaFile).c_str());
    rmdir(dir_.c_str());
  }
}

absl::StatusOr<ServerTls::Files> ServerTls::ReadFiles() const {
  Files files;
  absl::StatusOr<std::string> chain = ReadFile(options_.cert_file, "TLS certificate");
  if (!chain.ok()) return chain.status();
  files.chain = std::move(*chain);
  absl::StatusOr<std::string> key = ReadFile(options_.key_file, "TLS key");
  if (!key.ok()) return key.status();
  files.key = std::move(*key);
  if (!options_.client_ca_file.empty()) {
    absl::StatusOr<std::string> ca = ReadFile(options_.client_ca_file, "TLS client CA");
    if (!ca.ok()) return ca.status();
    files.client_ca = std::move(*ca);
  }
  return files;
}

absl::StatusOr<CertificateInfo> ServerTls::Install(const Files& files) {
  absl::StatusOr<CertificateInfo> info =
      CheckKeyPair(files.chain, Quoted("TLS certificate", options_.cert_file), files.key,
                   Quoted("TLS key", options_.key_file));
  if (!info.ok()) return info.status();
  if (!options_.client_ca_file.empty()) {
    B24GATE_RETURN_IF_ERROR(
        CheckCaBundle(files.client_ca, Quoted("TLS client CA", options_.client_ca_file)));
  }
  // The chain first: OpenSSL takes the first certificate as the leaf.
  std::string identity = files.chain;
  if (!identity.empty() && identity.back() != '\n') identity.push_back('\n');
  identity += files.key;
  B24GATE_RETURN_IF_ERROR(WriteAtomically(dir_, kIdentityFile, identity));
  if (!options_.client_ca_file.empty()) {
    B24GATE_RETURN_IF_ERROR(WriteAtomically(dir_, kClientCaFile, files.client_ca));
  }
  return info;
}

absl::Status ServerTls::Reload(bool forced) {
  absl::StatusOr<Files> files = ReadFiles();
  absl::MutexLock lock(&mu_);
  if (files.ok() && *files == installed_) {
    if (forced) logger_->Log(LogLevel::kInfo, "TLS files unchanged", {{"serial", serving_.serial_hex}});
    return absl::OkStatus();
  }
  absl::StatusOr<CertificateInfo> info =
      files.ok() ? Install(*files) : absl::StatusOr<CertificateInfo>(files.status());
  if (!info.ok()) {
    // A file being replaced piece by piece fails once and is picked up at
    // the next check; a file that stays bad is reported once.
    std::string error(info.status().message());
    bool repeated = error == last_error_ && (!files.ok() || *files == last_failed_);
    last_error_ = error;
    if (files.ok()) last_failed_ = *files;
    if (!repeated || forced) {
      if (metrics_ != nullptr) metrics_->ReloadFailed();
      logger_->Log(LogLevel::kWarn, "TLS reload failed: still serving the previous certificate",
                   {{"error", std::string(info.status().message())},
                    {"serial", serving_.serial_hex}});
    }
    return info.status();
  }
  installed_ = std::move(*files);
  serving_ = *info;
  last_failed_ = {};
  last_error_.clear();
  if (metrics_ != nullptr) {
    metrics_->Reloaded();
    metrics_->Serving(serving_);
  }
  LogServing("TLS certificate reloaded: new connections get it, open ones keep theirs");
  return absl::OkStatus();
}

CertificateInfo ServerTls::serving() const {
  absl::MutexLock lock(&mu_);
  return serving_;
}

void ServerTls::LogServing(const char* message) {
  bool expired = serving_.not_after < absl::Now();
  logger_->Log(expired ? LogLevel::kWarn : LogLevel::kInfo, message,
               {{"subject", serving_.subject},
                {"serial", serving_.serial_hex},
                {"not_after", absl::FormatTime(absl::RFC3339_sec, serving_.not_after, absl::UTCTimeZone())},
                {"expired", expired},
                {"client_certificates", options_.client_ca_file.empty() ? "not asked for"
                                        : options_.require_client_cert ? "required"
                                                                       : "optional"}});
}

void ServerTls::WatchLoop() {
  while (!stop_.WaitForNotificationWithTimeout(options_.reload_interval)) {
    (void)Reload(/*forced=*/false);  // logged and counted inside
  }
}

}  // namespace b24gate
