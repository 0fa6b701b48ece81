// Which redirects a portal's answer may make the gateway follow.
//
// A portal whose domain changed answers 302 with a Location; following it
// blindly hands the request -- its URL holds the webhook code or OAuth token --
// to whatever address the answer names, and keeping that address points every
// later call there too. So a redirect is followed only to an origin the
// operator listed for the portal (`redirect_to`), never from https to http,
// and everything else is refused: the call fails, nothing is re-sent, and the
// configured address stays.
//
// Thread-safety: pure functions.
#ifndef B24GATE_ENGINE_HTTP_REDIRECT_POLICY_H_
#define B24GATE_ENGINE_HTTP_REDIRECT_POLICY_H_

#include <optional>
#include <string>
#include <vector>

#include "absl/strings/string_view.h"

namespace b24gate {

// "scheme://host[:port]" of an absolute http(s) URL, lower-cased, without
// user info, default port, path, query or fragment; nullopt when `url` is not
// one (relative, another scheme, a host with characters no host has). Safe to
// log: the secrets of a webhook URL live in its path and query.
std::optional<std::string> UrlOrigin(absl::string_view url);

struct RedirectDecision {
  bool follow = false;
  // Where the redirect points (UrlOrigin), or "" when it names no origin.
  std::string to;
  // Why it is refused, for the caller's error and the log (no URL path).
  std::string why;
};

// Decides on a redirect from `from_url` to `location` (a Location header),
// given the origins the operator allows (each a UrlOrigin value).
RedirectDecision DecideRedirect(absl::string_view from_url, absl::string_view location,
                                const std::vector<std::string>& allowed_origins);

// Decides on one redirect of a file download from `from_url` (the first
// URL of the chain) to `location`. A portal's file link answers with a
// redirect to where the bytes are -- which Bitrix24's docs do not name; a
// cloud portal may serve them from a storage host, not a moved portal --
// so another origin is followed without `redirect_to`: what
// reaches it is only the Location the portal itself wrote (the download
// carries no Authorization header and no Referer). Never from https to
// plain http: the chain's URLs carry the link's `auth` token. A relative
// Location stays on the current scheme and is followed.
RedirectDecision DecideDownloadRedirect(absl::string_view from_url, absl::string_view location);

}  // namespace b24gate

#endif  // B24GATE_ENGINE_HTTP_REDIRECT_POLICY_H_
