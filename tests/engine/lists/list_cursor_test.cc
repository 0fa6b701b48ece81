// Resume cursors: round trip, refused when garbled or made for another request.
#include "engine/lists/list_cursor.h"

#include <gtest/gtest.h>

namespace b24gate::list_cursor_test {
namespace {

TEST(ListCursor, RoundTrips) {
  uint64_t h = ListRequestHash("crm.lead.list", {{"select", {"ID"}}}, "");
  ListCursor c{ListStrategyKind::kParallelKeyset, 1234, {{"after", 99}}};
  absl::StatusOr<ListCursor> back = DecodeListCursor(EncodeListCursor(c, h), h);
  ASSERT_TRUE(back.ok()) << back.status();
  EXPECT_EQ(back->strategy, ListStrategyKind::kParallelKeyset);
  EXPECT_EQ(back->delivered, 1234);
  EXPECT_EQ(back->state, Json({{"after", 99}}));
}

TEST(ListCursor, TheHashIgnoresKeyOrderButNotValues) {
  Json a = Json::parse(R"({"select":["ID"],"filter":{"STATUS_ID":"NEW"}})");
  Json b = Json::parse(R"({"filter":{"STATUS_ID":"NEW"},"select":["ID"]})");
  Json c = Json::parse(R"({"filter":{"STATUS_ID":"OLD"},"select":["ID"]})");
  EXPECT_EQ(ListRequestHash("crm.lead.list", a, ""), ListRequestHash("CRM.LEAD.LIST", b, ""));
  EXPECT_NE(ListRequestHash("crm.lead.list", a, ""), ListRequestHash("crm.lead.list", c, ""));
  EXPECT_NE(ListRequestHash("crm.lead.list", a, ""), ListRequestHash("crm.deal.list", a, ""));
}

TEST(ListCursor, AnotherRequestsCursorIsRefused) {
  uint64_t h = ListRequestHash("crm.lead.list", Json::object(), "");
  std::string cursor = EncodeListCursor({ListStrategyKind::kOffset, 50, {{"start", 50}}}, h);
  absl::StatusOr<ListCursor> other = DecodeListCursor(cursor, h + 1);
  EXPECT_EQ(other.status().code(), absl::StatusCode::kInvalidArgument);
  EXPECT_NE(other.status().message().find("another request"), std::string::npos);
}

TEST(ListCursor, GarbageIsRefused) {
  for (const char* text : {"", "!!!", "bm90IGpzb24", "eyJ2IjoyfQ"}) {
    EXPECT_EQ(DecodeListCursor(text, 1).status().code(), absl::StatusCode::kInvalidArgument) << text;
  }
}

}  // namespace
}  // namespace b24gate::list_cursor_test
