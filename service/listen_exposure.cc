#include "service/listen_exposure.h"

#include "absl/strings/ascii.h"
#include "absl/strings/match.h"
#include "absl/strings/str_cat.h"

namespace b24gate {

bool IsLoopbackHost(const std::string& host) {
  std::string h = absl::AsciiStrToLower(host);
  return absl::StartsWith(h, "127.") || h == "[::1]" || h == "localhost" ||
         h == "[::ffff:127.0.0.1]";
}

absl::StatusOr<std::string> DescribeListenExposure(const std::string& listen, bool authenticated,
                                                   bool insecure_listen_any) {
  if (authenticated) return std::string("client authentication on: listening on ") + listen;
  std::string host = listen.substr(0, listen.rfind(':'));
  if (IsLoopbackHost(host)) return "no client authentication: listening on loopback only";
  if (insecure_listen_any) {
    return absl::StrCat("no client authentication: listening on ", listen,
                        " (beyond loopback) because of --insecure-listen-any");
  }
  return absl::InvalidArgumentError(absl::StrCat(
      "listen \"", listen,
      "\": no client authentication is configured, so only a loopback address (127.0.0.1, [::1]) "
      "is allowed; configure clients (or required client certificates), or pass "
      "--insecure-listen-any to accept calls from anyone who reaches the port"));
}

std::string MetricsExposureWarning(const std::string& metrics_listen) {
  return absl::StrCat("metrics beyond loopback: anyone who reaches ", metrics_listen,
                      " can read GET /metrics without authentication (portal, client and method "
                      "names, call counts); keep the port to the scraper with a firewall or "
                      "NetworkPolicy, or use a loopback address");
}

}  // namespace b24gate
