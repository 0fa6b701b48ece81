#include "engine/http/redirect_policy.h"

#include <gmock/gmock.h>
#include <gtest/gtest.h>

namespace b24gate::redirect_policy_test {
namespace {

using ::testing::HasSubstr;
using ::testing::Not;

constexpr char kFrom[] = "https://old.bitrix24.ru/rest/1/s3cr3t/crm.lead.list";

TEST(UrlOriginTest, KeepsSchemeHostAndPortOnly) {
  EXPECT_EQ(UrlOrigin("https://New.Bitrix24.ru/rest/1/s3cr3t/x?auth=t#f"), "https://new.bitrix24.ru");
  EXPECT_EQ(UrlOrigin("HTTPS://host:443/x"), "https://host");
  EXPECT_EQ(UrlOrigin("http://host:80"), "http://host");
  EXPECT_EQ(UrlOrigin("https://host:8443?x"), "https://host:8443");
  EXPECT_EQ(UrlOrigin("https://user:pw@host/x"), "https://host");
  EXPECT_EQ(UrlOrigin("http://[::1]:9/x"), "http://[::1]:9");
  EXPECT_EQ(UrlOrigin("/rest/1/x"), std::nullopt);
  EXPECT_EQ(UrlOrigin("ftp://host/x"), std::nullopt);
  EXPECT_EQ(UrlOrigin("https:///x"), std::nullopt);
  EXPECT_EQ(UrlOrigin("https://ho st/x"), std::nullopt);
  EXPECT_EQ(UrlOrigin("https://host\r\nX-Injected: 1/"), std::nullopt);
}

TEST(DecideRedirectTest, FollowsOnlyToAListedOrigin) {
  RedirectDecision listed = DecideRedirect(
      kFrom, "https://NEW.bitrix24.ru:443/rest/1/s3cr3t/crm.lead.list", {"https://new.bitrix24.ru"});
  EXPECT_TRUE(listed.follow);
  EXPECT_EQ(listed.to, "https://new.bitrix24.ru");

  RedirectDecision other =
      DecideRedirect(kFrom, "https://evil.example/rest/1/s3cr3t/crm.lead.list", {"https://new.bitrix24.ru"});
  EXPECT_FALSE(other.follow);
  EXPECT_EQ(other.to, "https://evil.example");
  EXPECT_THAT(other.why, HasSubstr("redirect_to"));

  // Another port of the same host is another address (a dead port too).
  EXPECT_FALSE(DecideRedirect(kFrom, "https://new.bitrix24.ru:9/x", {"https://new.bitrix24.ru"}).follow);
  // Nothing listed: nothing followed, not even the portal's own address.
  EXPECT_FALSE(DecideRedirect(kFrom, "https://old.bitrix24.ru/x", {}).follow);
}

TEST(DecideRedirectTest, NeverFromHttpsToHttp) {
  RedirectDecision down =
      DecideRedirect(kFrom, "http://old.bitrix24.ru/rest/1/s3cr3t/crm.lead.list", {"http://old.bitrix24.ru"});
  EXPECT_FALSE(down.follow) << "even when listed";
  EXPECT_THAT(down.why, HasSubstr("cleartext"));
  // From plain http (a test or self-hosted portal) to a listed http address.
  EXPECT_TRUE(DecideRedirect("http://127.0.0.1:8080/rest/1/c/x", "http://127.0.0.1:9090/rest/1/c/x",
                             {"http://127.0.0.1:9090"})
                  .follow);
}

TEST(DecideRedirectTest, ARelativeOrMalformedLocationIsRefusedWithoutQuotingIt) {
  RedirectDecision relative = DecideRedirect(kFrom, "/rest/1/s3cr3t/other", {"https://old.bitrix24.ru"});
  EXPECT_FALSE(relative.follow);
  EXPECT_EQ(relative.to, "");
  EXPECT_THAT(relative.why, Not(HasSubstr("s3cr3t")));
}

TEST(DecideDownloadRedirectTest, NeverFromHttpsToHttpNorToAnotherScheme) {
  const char kLink[] = "https://old.bitrix24.ru/disk/downloadFile/10/?auth=s3cr3t";
  RedirectDecision down = DecideDownloadRedirect(kLink, "http://storage.example/f?auth=s3cr3t");
  EXPECT_FALSE(down.follow);
  EXPECT_EQ(down.to, "http://storage.example");
  EXPECT_THAT(down.why, HasSubstr("cleartext"));
  EXPECT_THAT(down.why, Not(HasSubstr("s3cr3t")));
  EXPECT_FALSE(DecideDownloadRedirect(kLink, " HTTP://storage.example/f").follow);
  EXPECT_FALSE(DecideDownloadRedirect(kLink, "ftp://storage.example/f").follow);
  // A plain-http link (a test or self-hosted portal) may go on in http.
  EXPECT_TRUE(DecideDownloadRedirect("http://127.0.0.1:8080/x", "http://127.0.0.1:9090/y").follow);
}

TEST(DecideDownloadRedirectTest, FollowsToAStorageHostInHttpsAndRelativeLocations) {
  const char kLink[] = "https://old.bitrix24.ru/disk/downloadFile/10/?auth=s3cr3t";
  EXPECT_TRUE(DecideDownloadRedirect(kLink, "https://storage.example/bucket/f?sig=1").follow);
  EXPECT_TRUE(DecideDownloadRedirect(kLink, "/disk/showFile/10/").follow);
  EXPECT_TRUE(DecideDownloadRedirect(kLink, "//storage.example/f").follow) << "keeps https";
  EXPECT_TRUE(DecideDownloadRedirect(kLink, "f?x=a:b").follow);
}

}  // namespace
}  // namespace b24gate::redirect_policy_test
