#include "service/auth/permissions.h"

#include "absl/strings/str_cat.h"
#include "engine/bitrix/method_traits.h"
#include "engine/common/glob.h"

namespace b24gate {

bool MatchesPattern(absl::string_view pattern, absl::string_view text) {
  return GlobMatches(pattern, text);
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
