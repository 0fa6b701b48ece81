#include "service/auth/permissions.h"

#include "absl/strings/ascii.h"
#include "absl/strings/str_cat.h"
#include "engine/bitrix/method_traits.h"

namespace b24gate {

bool MatchesPattern(absl::string_view pattern, absl::string_view text) {
  // Greedy glob with one backtrack point: the last `*` seen takes one more
  // character whenever the rest fails. Linear in practice, never recursive.
  size_t p = 0, t = 0;
  size_t star = absl::string_view::npos, star_text = 0;
  while (t < text.size()) {
    if (p < pattern.size() && pattern[p] == '*') {
      star = p++;
      star_text = t;
    } else if (p < pattern.size() &&
               absl::ascii_tolower(static_cast<unsigned char>(pattern[p])) ==
                   absl::ascii_tolower(static_cast<unsigned char>(text[t]))) {
      ++p;
      ++t;
    } else if (star != absl::string_view::npos) {
      p = star + 1;
      t = ++star_text;
    } else {
      return false;
    }
  }
  while (p < pattern.size() && pattern[p] == '*') ++p;
  return p == pattern.size();
}

absl::Status CheckCommand(const ClientSpec& client, const std::string& portal,
                          absl::string_view method) {
  bool portal_allowed = false;
  for (const std::string& p : client.portals) portal_allowed = portal_allowed || p == "*" || p == portal;
  if (!portal_allowed) {
    return absl::PermissionDeniedError(
        absl::StrCat("client \"", client.name, "\" may not use portal \"", portal, "\""));
  }
  const std::string normal = NormalizeMethod(method);
  for (const std::string& pattern : client.deny) {
    if (MatchesPattern(pattern, normal)) {
      return absl::PermissionDeniedError(absl::StrCat("client \"", client.name,
                                                      "\" may not call ", normal,
                                                      " (denied by \"", pattern, "\")"));
    }
  }
  bool allowed = false;
  for (const std::string& pattern : client.allow) allowed = allowed || MatchesPattern(pattern, normal);
  if (!allowed) {
    return absl::PermissionDeniedError(absl::StrCat("client \"", client.name, "\" may not call ",
                                                    normal, " (no allow pattern matches)"));
  }
  if (client.has_role(kRoleReadOnly) && !IsReadMethod(normal)) {
    return absl::PermissionDeniedError(
        absl::StrCat("client \"", client.name, "\" may not call ", normal,
                     " (role read-only allows only methods known as reads)"));
  }
  return absl::OkStatus();
}

absl::Status CheckAdmin(const ClientSpec& client) {
  if (client.has_role(kRoleAdmin)) return absl::OkStatus();
  return absl::PermissionDeniedError(
      absl::StrCat("client \"", client.name, "\" may not use AdminService (needs role admin)"));
}

}  // namespace b24gate
