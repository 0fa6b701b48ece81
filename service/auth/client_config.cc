#include "service/auth/client_config.h"

#include <algorithm>
#include <cmath>

#include "absl/strings/ascii.h"
#include "absl/strings/str_cat.h"

namespace b24gate {
namespace {

bool IsValidName(const std::string& name) {
  if (name.empty() || name.size() > 64) return false;
  for (unsigned char c : name) {
    if (!absl::ascii_isalnum(c) && c != '.' && c != '_' && c != '-') return false;
  }
  return true;
}

bool IsSha256Hex(const std::string& text) {
  if (text.size() != 64) return false;
  for (unsigned char c : text) {
    if (!absl::ascii_isdigit(c) && !(c >= 'a' && c <= 'f')) return false;
  }
  return true;
}

absl::StatusOr<ClientSpec> ParseClient(const ConfigJson& j, const std::string& where) {
  if (!j.is_object()) return Bad(where, "must be an object");
  B24GATE_RETURN_IF_ERROR(CheckKeys(j, where,
                                    {"name", "token_sha256", "certificate_identity", "roles", "portals",
                                     "allow", "deny", "weight"}));
  ClientSpec c;
  B24GATE_RETURN_IF_ERROR(ReadString(j, "name", where, &c.name));
  if (!IsValidName(c.name)) {
    return Bad(where + ".name", "must be 1-64 characters of letters, digits, '.', '_' or '-'");
  }
  B24GATE_RETURN_IF_ERROR(ReadString(j, "token_sha256", where, &c.token_sha256));
  c.token_sha256 = absl::AsciiStrToLower(c.token_sha256);
  if (!c.token_sha256.empty() && !IsSha256Hex(c.token_sha256)) {
    // The value is not echoed: someone may have pasted the token itself.
    return Bad(where + ".token_sha256",
               "must be 64 hex digits, the SHA-256 of the token (printf %s TOKEN | sha256sum), "
               "not the token itself");
  }
  B24GATE_RETURN_IF_ERROR(ReadString(j, "certificate_identity", where, &c.certificate_identity));
  if (c.token_sha256.empty() && c.certificate_identity.empty()) {
    return Bad(where, "needs a credential: token_sha256 or certificate_identity");
  }
  B24GATE_RETURN_IF_ERROR(ReadStringList(j, "roles", where, &c.roles));
  for (size_t i = 0; i < c.roles.size(); ++i) {
    if (c.roles[i] != kRoleReadOnly && c.roles[i] != kRoleAdmin) {
      return Bad(absl::StrCat(where, ".roles[", i, "]"),
                 absl::StrCat("unknown role \"", c.roles[i], "\" (known: read-only, admin)"));
    }
  }
  B24GATE_RETURN_IF_ERROR(ReadStringList(j, "portals", where, &c.portals));
  B24GATE_RETURN_IF_ERROR(ReadStringList(j, "allow", where, &c.allow));
  B24GATE_RETURN_IF_ERROR(ReadStringList(j, "deny", where, &c.deny));
  for (const auto* list : {&c.portals, &c.allow, &c.deny}) {
    for (const std::string& entry : *list) {
      if (entry.empty()) return Bad(where, "portals, allow and deny entries must not be empty");
    }
  }
  B24GATE_RETURN_IF_ERROR(ReadNumber(j, "weight", where, &c.weight));
  if (!(c.weight > 0) || !std::isfinite(c.weight) || c.weight > 1000) {
    return Bad(where + ".weight", "must be a number in (0, 1000]");
  }
  return c;
}

}  // namespace

bool ClientSpec::has_role(const std::string& role) const {
  return std::find(roles.begin(), roles.end(), role) != roles.end();
}

absl::StatusOr<std::vector<ClientSpec>> ParseClients(const ConfigJson& list, const std::string& where) {
  if (!list.is_array()) return Bad(where, "must be a list");
  std::vector<ClientSpec> clients;
  for (size_t i = 0; i < list.size(); ++i) {
    const std::string at = absl::StrCat(where, "[", i, "]");
    absl::StatusOr<ClientSpec> c = ParseClient(list[i], at);
    if (!c.ok()) return c.status();
    for (const ClientSpec& earlier : clients) {
      if (earlier.name == c->name) return Bad(at + ".name", absl::StrCat("\"", c->name, "\" is used twice"));
      if (!c->token_sha256.empty() && earlier.token_sha256 == c->token_sha256) {
        return Bad(at + ".token_sha256", absl::StrCat("the same token as client \"", earlier.name, "\""));
      }
      if (!c->certificate_identity.empty() && earlier.certificate_identity == c->certificate_identity) {
        return Bad(at + ".certificate_identity",
                   absl::StrCat("the same identity as client \"", earlier.name, "\""));
      }
    }
    clients.push_back(std::move(*c));
  }
  return clients;
}

}  // namespace b24gate
