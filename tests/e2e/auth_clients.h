// The API clients the authentication and permission tests configure, with
// their tokens, and the check of a refusal (header-only; not a test). Each token_sha256 was made as the
// README says: printf %s TOKEN | sha256sum.
#ifndef B24GATE_TESTS_E2E_AUTH_CLIENTS_H_
#define B24GATE_TESTS_E2E_AUTH_CLIENTS_H_

#include <string>
#include <vector>

#include <gtest/gtest.h>
#include <nlohmann/json.hpp>

#include "absl/strings/match.h"
#include "tests/e2e/harness.h"

namespace b24gate::e2e {

// Admin; may do anything.
inline constexpr char kFullToken[] = "full-token-7f3a9c";
// Everything but deleting deals and leads.
inline constexpr char kLimitedToken[] = "limited-token-2b8e41";
// Role read-only.
inline constexpr char kReaderToken[] = "reader-token-c05d77";
// Only crm.lead.* methods.
inline constexpr char kNarrowToken[] = "narrow-token-9e1f03";
// Only the Drive's methods (disk.*).
inline constexpr char kDriveToken[] = "drive-token-61c0e8";
// Only a portal named "elsewhere" (not the test's "main").
inline constexpr char kOutsiderToken[] = "outsider-token-44d2aa";
// No client has it.
inline constexpr char kWrongToken[] = "wrong-guess-5a5a5a";

inline nlohmann::json TestClients() {
  return nlohmann::json::array({
      {{"name", "full"},
       {"token_sha256", "e076e3541859c9b2b87426c163e017bef523cc31ad1590bff4079a6f955e2316"},
       {"roles", {"admin"}}},
      {{"name", "limited"},
       {"token_sha256", "9d0efee4213afab830fd70f4b7a7ebfab3fb63bd243ff854d84eedf88759783c"},
       {"deny", {"crm.deal.delete", "crm.lead.delete"}}},
      {{"name", "reader"},
       {"token_sha256", "3d2aa906d9b475ee3c4f56ef5d05b032dd51f0aa17165041e3e9e11ab1032eee"},
       {"roles", {"read-only"}}},
      {{"name", "narrow"},
       {"token_sha256", "f425d7f253408f3f1418c7e7f263ff1ceed6e3b8c8571a65640cef7fb9b6d8b0"},
       {"allow", {"crm.lead.*"}}},
      {{"name", "drive"},
       {"token_sha256", "94efd59c09735d5f24e83fb100efcb306b8b33cdce6b42cdcb3d6e68021cbf6e"},
       {"allow", {"disk.*"}}},
      {{"name", "outsider"},
       {"token_sha256", "4581c1874e919753b5ce340c3934151d68ad3808db094480baa973ca5f63d871"},
       {"portals", {"elsewhere"}}},
  });
}

// A gateway configured with TestClients(), its stub acting as `token`.
inline GatewaySpec WithClients(const std::string& token = kFullToken) {
  GatewaySpec spec;
  spec.settings["clients"] = TestClients();
  spec.token = token;
  return spec;
}

// `status` is PERMISSION_DENIED and its message names each of `named` (the
// client, the method, ...).
inline void ExpectDenied(const grpc::Status& status, const std::vector<std::string>& named) {
  EXPECT_EQ(status.error_code(), grpc::StatusCode::PERMISSION_DENIED) << status.error_message();
  for (const std::string& n : named) {
    EXPECT_TRUE(absl::StrContains(status.error_message(), n))
        << "\"" << n << "\" not in: " << status.error_message();
  }
}

}  // namespace b24gate::e2e

#endif  // B24GATE_TESTS_E2E_AUTH_CLIENTS_H_
