// The API clients allowed to call the gateway (the config file's "clients"
// list): how each proves who it is, what it may touch, and its share of each
// portal's budget. With no clients configured the gateway does no client
// authentication (and listens on loopback only unless told otherwise).
#ifndef B24GATE_SERVICE_AUTH_CLIENT_CONFIG_H_
#define B24GATE_SERVICE_AUTH_CLIENT_CONFIG_H_

#include <string>
#include <vector>

#include "absl/status/statusor.h"
#include "service/config_reading.h"

namespace b24gate {

struct ClientSpec {
  // Unique; names the client in logs, metrics and fair share
  // ([A-Za-z0-9._-], at most 64 characters).
  std::string name;
  // Lower-case hex SHA-256 of the client's bearer token (the token itself is
  // never stored); empty = no token. `printf %s TOKEN | sha256sum`.
  std::string token_sha256;
  // The identity in the client's mTLS certificate (its subject CN or a DNS/URI
  // subject alternative name); empty = no certificate login.
  std::string certificate_identity;
  // "read-only": only methods the gateway knows as reads; "admin": may use
  // AdminService.
  std::vector<std::string> roles;
  // Portal names the client may use; "*" = every portal (the default).
  std::vector<std::string> portals = {"*"};
  // Method patterns ("crm.*.list", "crm.deal.*"; `*` matches any run of
  // characters, case-insensitively). A method must match an `allow` pattern
  // (default "*") and no `deny` pattern.
  std::vector<std::string> allow = {"*"};
  std::vector<std::string> deny;
  // Relative share of each portal's budget when clients compete (> 0).
  double weight = 1;

  bool has_role(const std::string& role) const;
};

// Roles a client may have.
inline constexpr char kRoleReadOnly[] = "read-only";
inline constexpr char kRoleAdmin[] = "admin";

// Parses and checks the "clients" list: unique names and token hashes, each
// client with at least one credential, known roles, a positive weight.
absl::StatusOr<std::vector<ClientSpec>> ParseClients(const ConfigJson& list, const std::string& where);

}  // namespace b24gate

#endif  // B24GATE_SERVICE_AUTH_CLIENT_CONFIG_H_
