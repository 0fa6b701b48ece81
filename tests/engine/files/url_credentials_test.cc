// The portal's authorization is taken out of a file link; the rest of the
// link, and every other text, is left as it was.
#include "engine/files/url_credentials.h"

#include <gtest/gtest.h>

namespace b24gate::url_credentials_test {
namespace {

TEST(WithoutAuthParams, DropsAuthAndKeepsTheRestOfTheLink) {
  EXPECT_EQ(WithoutAuthParams("https://p.bitrix24.com/rest/download.json?auth=SECRET&token=disk%7C5"),
            "https://p.bitrix24.com/rest/download.json?token=disk%7C5");
  EXPECT_EQ(WithoutAuthParams("https://p/bitrix/tools/disk/uf.php?attachedId=495&auth[auth]=SECRET"
                              "&action=download&ncc=1"),
            "https://p/bitrix/tools/disk/uf.php?attachedId=495&action=download&ncc=1");
  EXPECT_EQ(WithoutAuthParams("/rest/crm.controller.item.getFile.json?AUTH%5Bauth%5D=SECRET#top"),
            "/rest/crm.controller.item.getFile.json#top");
  EXPECT_EQ(WithoutAuthParams("http://h/x?token=1&auth=SECRET"), "http://h/x?token=1");
}

TEST(WithoutAuthParams, LeavesEverythingElse) {
  EXPECT_EQ(WithoutAuthParams("https://h/x?author=ann&authority=1"), "https://h/x?author=ann&authority=1");
  EXPECT_EQ(WithoutAuthParams("auth=SECRET?not a link"), "auth=SECRET?not a link");
  EXPECT_EQ(WithoutAuthParams("https://h/x"), "https://h/x");
}

TEST(MayCarryAuthParam, IsFalseOnlyWhereNoAuthParamCanBe) {
  EXPECT_TRUE(MayCarryAuthParam("https://h/x?AUTH=1"));
  EXPECT_FALSE(MayCarryAuthParam("https://h/x?token=1"));
  EXPECT_FALSE(MayCarryAuthParam("auth without a query"));
}

}  // namespace
}  // namespace b24gate::url_credentials_test
