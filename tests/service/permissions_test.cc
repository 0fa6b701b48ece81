// Permission rules: the method pattern matcher and each rule of a client's
// spec (portals, allow, deny wins, read-only, admin), without gRPC.
#include "service/auth/permissions.h"

#include <gtest/gtest.h>

#include "absl/strings/match.h"

namespace b24gate::permissions_test {
namespace {

TEST(MatchesPattern, StarMatchesAnyRunIgnoringCase) {
  EXPECT_TRUE(MatchesPattern("*", ""));
  EXPECT_TRUE(MatchesPattern("*", "crm.deal.list"));
  EXPECT_TRUE(MatchesPattern("crm.deal.*", "crm.deal.list"));
  EXPECT_TRUE(MatchesPattern("crm.deal.*", "crm.deal.productrows.get"));
  EXPECT_TRUE(MatchesPattern("crm.*.list", "crm.deal.list"));
  EXPECT_TRUE(MatchesPattern("crm.*.list", "crm.timeline.comment.list"));
  EXPECT_TRUE(MatchesPattern("CRM.Deal.*", "crm.deal.DELETE"));
  EXPECT_TRUE(MatchesPattern("*.delete", "crm.deal.delete"));
  EXPECT_TRUE(MatchesPattern("*deal*", "crm.deal.add"));
  EXPECT_TRUE(MatchesPattern("crm.deal.list", "crm.deal.list"));
  EXPECT_TRUE(MatchesPattern("a**b", "ab"));
  EXPECT_TRUE(MatchesPattern("*a*a*a", "aaaa"));
}

TEST(MatchesPattern, EverythingElseMustMatchExactly) {
  EXPECT_FALSE(MatchesPattern("crm.deal.*", "crm.deal"));
  EXPECT_FALSE(MatchesPattern("crm.deal.*", "crm.dealx.list"));
  EXPECT_FALSE(MatchesPattern("crm.*.list", "crm.deal.list.extra"));
  EXPECT_FALSE(MatchesPattern("crm.*.list", "tasks.task.list"));
  EXPECT_FALSE(MatchesPattern("crm.deal.list", "crm.deal.lis"));
  EXPECT_FALSE(MatchesPattern("crm.deal.list", "crm.deal.listx"));
  EXPECT_FALSE(MatchesPattern("", "x"));
  EXPECT_FALSE(MatchesPattern("*a*a*a", "aab"));
  // `?` and `.` are literal, not wildcards.
  EXPECT_FALSE(MatchesPattern("crm?deal", "crmxdeal"));
  EXPECT_FALSE(MatchesPattern("crm.deal", "crmxdeal"));
}

TEST(MatchesPattern, ManyStarsStayFast) {
  // A backtracking matcher that recursed per star would take ages here.
  std::string text(5000, 'a');
  EXPECT_FALSE(MatchesPattern("*a*a*a*a*a*a*a*a*a*a*b", text));
}

ClientSpec Client() {
  ClientSpec c;
  c.name = "reports";
  c.token_sha256 = std::string(64, 'a');
  return c;
}

TEST(CheckCommand, DefaultsAllowEverything) {
  EXPECT_TRUE(CheckCommand(Client(), "main", "crm.deal.delete").ok());
}

TEST(CheckCommand, PortalsAreListed) {
  ClientSpec c = Client();
  c.portals = {"main"};
  EXPECT_TRUE(CheckCommand(c, "main", "crm.deal.list").ok());
  absl::Status s = CheckCommand(c, "other", "crm.deal.list");
  EXPECT_EQ(s.code(), absl::StatusCode::kPermissionDenied);
  EXPECT_TRUE(absl::StrContains(s.message(), "portal \"other\"")) << s;
  EXPECT_TRUE(absl::StrContains(s.message(), "\"reports\"")) << s;
}

TEST(CheckCommand, DenyWinsOverAllow) {
  ClientSpec c = Client();
  c.allow = {"crm.deal.*"};
  c.deny = {"crm.deal.delete"};
  EXPECT_TRUE(CheckCommand(c, "main", "crm.deal.update").ok());
  absl::Status s = CheckCommand(c, "main", "crm.deal.delete");
  EXPECT_EQ(s.code(), absl::StatusCode::kPermissionDenied);
  EXPECT_TRUE(absl::StrContains(s.message(), "crm.deal.delete")) << s;
  EXPECT_TRUE(absl::StrContains(s.message(), "\"reports\"")) << s;
  // The method's spelling does not matter: it is compared in normal form.
  for (const char* m : {"CRM.DEAL.DELETE", "Crm.Deal.Delete", "crm.deal.delete.json", " crm.deal.delete"}) {
    EXPECT_EQ(CheckCommand(c, "main", m).code(), absl::StatusCode::kPermissionDenied) << m;
  }
  EXPECT_EQ(CheckCommand(c, "main", "crm.lead.list").code(), absl::StatusCode::kPermissionDenied);
}

TEST(CheckCommand, ReadOnlyAllowsOnlyKnownReads) {
  ClientSpec c = Client();
  c.roles = {kRoleReadOnly};
  EXPECT_TRUE(CheckCommand(c, "main", "crm.deal.list").ok());
  EXPECT_TRUE(CheckCommand(c, "main", "crm.deal.get").ok());
  EXPECT_TRUE(CheckCommand(c, "main", "server.time").ok());
  EXPECT_EQ(CheckCommand(c, "main", "crm.deal.add").code(), absl::StatusCode::kPermissionDenied);
  EXPECT_EQ(CheckCommand(c, "main", "crm.deal.update").code(), absl::StatusCode::kPermissionDenied);
  // Unknown names count as writes.
  EXPECT_EQ(CheckCommand(c, "main", "some.custom.thing").code(),
            absl::StatusCode::kPermissionDenied);
}

TEST(CheckAdmin, NeedsTheAdminRole) {
  ClientSpec c = Client();
  EXPECT_EQ(CheckAdmin(c).code(), absl::StatusCode::kPermissionDenied);
  c.roles = {kRoleAdmin};
  EXPECT_TRUE(CheckAdmin(c).ok());
}

}  // namespace
}  // namespace b24gate::permissions_test
