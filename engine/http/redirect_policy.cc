#include "engine/http/redirect_policy.h"

#include <algorithm>

#include "absl/strings/ascii.h"
#include "absl/strings/match.h"
#include "absl/strings/str_cat.h"

namespace b24gate {
namespace {

bool HostChar(char c) {
  return absl::ascii_isalnum(static_cast<unsigned char>(c)) || c == '.' || c == '-' ||
         c == '_' || c == ':' || c == '[' || c == ']';
}

// From https to plain http: whatever the request carries would travel in
// cleartext.
bool Downgrades(absl::string_view from_url, absl::string_view to_origin) {
  return absl::StartsWithIgnoreCase(from_url, "https://") && absl::StartsWith(to_origin, "http://");
}

}  // namespace

std::optional<std::string> UrlOrigin(absl::string_view url) {
  std::string scheme;
  if (absl::StartsWithIgnoreCase(url, "https://")) {
    scheme = "https";
  } else if (absl::StartsWithIgnoreCase(url, "http://")) {
    scheme = "http";
  } else {
    return std::nullopt;
  }
  absl::string_view authority = url.substr(scheme.size() + 3);
  authority = authority.substr(0, authority.find_first_of("/?#"));
  if (size_t at = authority.rfind('@'); at != absl::string_view::npos) {
    authority.remove_prefix(at + 1);
  }
  if (authority.empty() || authority.size() > 255 ||
      !std::all_of(authority.begin(), authority.end(), HostChar)) {
    return std::nullopt;
  }
  std::string host = absl::AsciiStrToLower(authority);
  const std::string default_port = scheme == "https" ? ":443" : ":80";
  if (absl::EndsWith(host, default_port)) host.resize(host.size() - default_port.size());
  return absl::StrCat(scheme, "://", host);
}

RedirectDecision DecideRedirect(absl::string_view from_url, absl::string_view location,
                                const std::vector<std::string>& allowed_origins) {
  RedirectDecision d;
  std::optional<std::string> to = UrlOrigin(location);
  if (!to) {
    d.why = "the Location is not an absolute http(s) URL";
    return d;
  }
  d.to = *to;
  if (Downgrades(from_url, d.to)) {
    d.why = "it leads from https to plain http, which would send the credentials in cleartext";
    return d;
  }
  if (std::find(allowed_origins.begin(), allowed_origins.end(), d.to) == allowed_origins.end()) {
    d.why = "that address is not in the portal's redirect_to list";
    return d;
  }
  d.follow = true;
  return d;
}

RedirectDecision DecideDownloadRedirect(absl::string_view from_url, absl::string_view location) {
  RedirectDecision d;
  const absl::string_view target = absl::StripAsciiWhitespace(location);
  const size_t colon = target.find(':');
  const bool relative = colon == absl::string_view::npos ||
                        target.find_first_of("/?#") < colon;  // a path, or "//host/..."
  if (relative) {
    d.follow = true;
    return d;
  }
  std::optional<std::string> to = UrlOrigin(target);
  if (!to) {
    d.why = "the Location is not an http(s) URL";
    return d;
  }
  d.to = *to;
  if (Downgrades(from_url, d.to)) {
    d.why = "it leads from https to plain http, which would send the link's credentials in cleartext";
    return d;
  }
  d.follow = true;
  return d;
}

}  // namespace b24gate
