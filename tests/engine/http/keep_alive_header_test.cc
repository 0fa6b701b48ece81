#include "engine/http/keep_alive_header.h"

#include <gtest/gtest.h>

namespace b24gate::keep_alive_header_test {
namespace {

TEST(KeepAliveTimeout, ReadsTheTimeoutParameter) {
  EXPECT_EQ(KeepAliveTimeout("timeout=5, max=1073741824"), absl::Seconds(5));  // the emulator's
  EXPECT_EQ(KeepAliveTimeout("timeout=75"), absl::Seconds(75));                // nginx's
  EXPECT_EQ(KeepAliveTimeout("max=100,  Timeout = 15 "), absl::Seconds(15));
}

// Twice in one answer (joined with ", "), the server closes at the first.
TEST(KeepAliveTimeout, TheSmallerOfTwo) {
  EXPECT_EQ(KeepAliveTimeout("timeout=3, timeout=60, max=1000"), absl::Seconds(3));
}

TEST(KeepAliveTimeout, NoneWhereNothingParses) {
  for (const char* value : {"", "max=5", "timeout=", "timeout=abc", "timeout=0", "timeout=-5",
                            "timeout=2.5", "timeout=999999", "timeouts=5"}) {
    EXPECT_EQ(KeepAliveTimeout(value), std::nullopt) << value;
  }
}

}  // namespace
}  // namespace b24gate::keep_alive_header_test
