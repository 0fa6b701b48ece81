// What Bitrix24 posts to a handler, read defensively (inbound_post.h).
#include "engine/events/inbound_post.h"

#include <gtest/gtest.h>

#include <string>

namespace b24gate::inbound_post_test {
namespace {

TEST(InboundPost, ReadsTheDocumentedFields) {
  absl::StatusOr<InboundPost> post = ParseInboundPost(
      "event=ONCRMDEALUPDATE&event_handler_id=7&data%5BFIELDS%5D%5BID%5D=42&ts=1700000000"
      "&auth%5Bdomain%5D=x.bitrix24.com&auth%5Bmember_id%5D=m1&auth%5Bapplication_token%5D=t%2Bk"
      "&auth%5Bclient_endpoint%5D=https%3A%2F%2Fx.bitrix24.com%2Frest%2F");
  ASSERT_TRUE(post.ok()) << post.status();
  EXPECT_EQ(post->event, "ONCRMDEALUPDATE");
  EXPECT_EQ(post->handler_id, "7");
  EXPECT_EQ(post->ts, "1700000000");
  EXPECT_EQ(post->data["FIELDS"]["ID"], "42");
  EXPECT_EQ(post->domain, "x.bitrix24.com");
  EXPECT_EQ(post->member_id, "m1");
  EXPECT_EQ(post->application_token, "t+k");
  EXPECT_EQ(post->auth["client_endpoint"], "https://x.bitrix24.com/rest/");
}

TEST(InboundPost, AnEventWithoutDataHasAnEmptyObject) {
  absl::StatusOr<InboundPost> post = ParseInboundPost("event=onofflineevent&data%5B%5D=");
  ASSERT_TRUE(post.ok()) << post.status();
  EXPECT_EQ(post->event, "ONOFFLINEEVENT");
  EXPECT_TRUE(post->data.is_object());
  EXPECT_TRUE(post->application_token.empty());
}

TEST(InboundPost, RefusesWhatIsTooBigTooDeepOrNotAnEvent) {
  InboundPostLimits limits;
  limits.max_bytes = 100;
  limits.max_fields = 3;
  limits.max_depth = 2;
  auto refused = [&](const std::string& body) {
    absl::StatusOr<InboundPost> post = ParseInboundPost(body, limits);
    return post.status().code() == absl::StatusCode::kInvalidArgument;
  };
  EXPECT_TRUE(refused("event=A&" + std::string(100, 'x')));
  EXPECT_TRUE(refused("event=A&a=1&b=2&c=3"));
  EXPECT_TRUE(refused("event=A&d[a][b][c]=1"));
  EXPECT_TRUE(refused("event=A&d%5Ba%5D%5Bb%5D%5bc%5D=1")) << "brackets written as escapes count";
  EXPECT_TRUE(refused("event=A&d%ZZ=1"));
  EXPECT_TRUE(refused("event=&ts=1"));
  EXPECT_TRUE(refused("event=ON-CRM"));
  EXPECT_TRUE(refused("ts=1"));
  EXPECT_TRUE(refused("event=A&auth=flat"));
  EXPECT_TRUE(refused("event=A&auth[x][y]=1"));
  EXPECT_FALSE(refused("event=A&d[a][b]=1"));
}

}  // namespace
}  // namespace b24gate::inbound_post_test
