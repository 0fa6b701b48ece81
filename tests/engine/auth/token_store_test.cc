// FileTokenStore: the refresh token on the first line (a file written by
// hand, or before pairs were kept, reads as before), and with SaveTokens the
// rest of the pair with its shared version on the second.
#include "engine/auth/token_store.h"

#include <fstream>
#include <sstream>

#include <gtest/gtest.h>

#include "tests/support/temp_file.h"

namespace b24gate::token_store_test {
namespace {

std::string Read(const std::string& path) {
  std::ifstream in(path);
  std::stringstream text;
  text << in.rdbuf();
  return text.str();
}

TEST(FileTokenStoreTest, KeepsThePairWithItsVersionAndReadsAFileOfOneToken) {
  std::string path = testing::TempFile("refresh-by-hand\n");
  FileTokenStore store(path);
  absl::StatusOr<StoredTokens> tokens = store.LoadTokens();
  ASSERT_TRUE(tokens.ok());
  EXPECT_EQ(tokens->refresh_token, "refresh-by-hand");
  EXPECT_EQ(tokens->version, 0);
  EXPECT_TRUE(tokens->access_token.empty());

  ASSERT_TRUE(store.SaveTokens({"refresh-7", "access-7", "https://p.example/rest/", 7}).ok());
  EXPECT_EQ(store.Load().value_or(""), "refresh-7") << "the first line";
  tokens = FileTokenStore(path).LoadTokens();
  ASSERT_TRUE(tokens.ok());
  EXPECT_EQ(tokens->refresh_token, "refresh-7");
  EXPECT_EQ(tokens->access_token, "access-7");
  EXPECT_EQ(tokens->base_url, "https://p.example/rest/");
  EXPECT_EQ(tokens->version, 7);

  ASSERT_TRUE(store.Save("refresh-8").ok());
  EXPECT_EQ(Read(path), "refresh-8\n") << "no version, no second line";
}

}  // namespace
}  // namespace b24gate::token_store_test
