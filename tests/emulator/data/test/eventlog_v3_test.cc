// REST 3.0 event log ("v3/main.eventlog.*"): computed entries, list pages in
// id order both ways with the silent 1000 cap, the tail cursor in both
// directions, and the documented errors.
#include <gtest/gtest.h>

#include "test_util.h"

namespace b24emu::data::testing::eventlog_v3_test {
namespace {

std::vector<int64_t> Range(int64_t from, int64_t to) {  // inclusive, either direction
  std::vector<int64_t> out;
  for (int64_t i = from; from <= to ? i <= to : i >= to; i += from <= to ? 1 : -1) out.push_back(i);
  return out;
}

class EventLogV3Test : public ::testing::Test {
 protected:
  std::unique_ptr<MethodTable> p_ = Portal("main.eventlog=2500");
};

TEST_F(EventLogV3Test, GetReturnsTheSameTypedEntryEveryTime) {
  MethodResult a = Call(*p_, "v3/main.eventlog.get", {{"id", 7}});
  ASSERT_FALSE(a.is_error) << a.error_description;
  EXPECT_EQ(a.result["item"]["id"], 7);
  EXPECT_TRUE(a.result["item"]["userId"].is_number_integer());
  EXPECT_TRUE(a.result["item"]["timestampX"].is_string());
  EXPECT_EQ(Call(*p_, "v3/main.eventlog.get", {{"id", 7}}).result, a.result);
  EXPECT_EQ(Call(*p_, "v3/main.eventlog.get", {{"id", 2501}}).error,
            "BITRIX_REST_V3_EXCEPTION_ENTITYNOTFOUNDEXCEPTION");
}

TEST_F(EventLogV3Test, ListPagesInIdOrderAndCapsAtAThousand) {
  MethodResult first = Call(*p_, "v3/main.eventlog.list", {{"select", {"id"}}});
  EXPECT_EQ(Ids(first.result["items"]), Range(1, 50));
  MethodResult desc = Call(*p_, "v3/main.eventlog.list",
                           {{"order", {{"id", "DESC"}}}, {"pagination", {{"page", 2}, {"limit", 10}}}});
  EXPECT_EQ(Ids(desc.result["items"]), Range(2490, 2481));
  MethodResult big = Call(*p_, "v3/main.eventlog.list", {{"pagination", {{"limit", 5000}}}});
  EXPECT_EQ(big.result["items"].size(), 1000u);
  MethodResult filtered = Call(*p_, "v3/main.eventlog.list",
                               {{"filter", {{"id", ">", 2495}}}, {"select", {"id"}}});
  EXPECT_EQ(Ids(filtered.result["items"]), Range(2496, 2500));
  EXPECT_EQ(Call(*p_, "v3/main.eventlog.list", {{"order", {{"userId", "ASC"}}}}).error,
            "BITRIX_REST_V3_EXCEPTION_INVALIDORDEREXCEPTION");
}

TEST_F(EventLogV3Test, TailReadsAfterTheCursorEitherWay) {
  MethodResult asc = Call(*p_, "v3/main.eventlog.tail",
                          {{"cursor", {{"field", "id"}, {"value", 100}, {"limit", 3}}}});
  EXPECT_EQ(Ids(asc.result["items"]), Range(101, 103));
  MethodResult desc = Call(*p_, "v3/main.eventlog.tail",
                           {{"cursor", {{"value", 100}, {"order", "DESC"}, {"limit", 3}}}});
  EXPECT_EQ(Ids(desc.result["items"]), Range(99, 97));
  MethodResult defaults = Call(*p_, "v3/main.eventlog.tail", {{"select", {"id"}}});
  EXPECT_EQ(Ids(defaults.result["items"]), Range(1, 50));
  MethodResult end = Call(*p_, "v3/main.eventlog.tail", {{"cursor", {{"value", 2500}}}});
  EXPECT_TRUE(end.result["items"].empty());
  EXPECT_EQ(Call(*p_, "v3/main.eventlog.tail", {{"filter", {{"id", ">", 5}}}}).error,
            "BITRIX_REST_V3_EXCEPTION_INVALIDFILTEREXCEPTION");
  EXPECT_EQ(Call(*p_, "v3/main.eventlog.tail", {{"cursor", {{"limit", 0}}}}).error,
            "BITRIX_REST_V3_EXCEPTION_INVALIDPAGINATIONEXCEPTION");
}

}  // namespace
}  // namespace b24emu::data::testing::eventlog_v3_test
