// Every filter operator, on both sides of its boundary, over leads added
// with known values (ids 1..6 in an empty portal).
#include <gtest/gtest.h>

#include "test_util.h"

namespace b24emu::data::testing::filter_test {
namespace {

class FilterTest : public ::testing::Test {
 protected:
  void SetUp() override {
    portal_ = Portal("crm.lead=0");
    Add({{"TITLE", "Alpha"}, {"OPPORTUNITY", 50}, {"STATUS_ID", "NEW"}, {"DATE_CLOSED", "2024-01-01T10:00:00+02:00"},
         {"PHONE", json::array({{{"VALUE", "+15550001"}, {"VALUE_TYPE", "WORK"}}})}});
    Add({{"TITLE", "beta"}, {"OPPORTUNITY", "200"}, {"STATUS_ID", "IN_PROCESS"}, {"DATE_CLOSED", "2024-01-02"}});
    Add({{"TITLE", "Gamma ray"}, {"OPPORTUNITY", 300.5}, {"STATUS_ID", "JUNK"}, {"COMPANY_ID", 7}});
    Add({{"TITLE", "delta"}, {"OPPORTUNITY", 1000}, {"STATUS_ID", "NEW"}, {"DATE_CLOSED", "03.01.2024 12:00:00"}});
    Add({{"TITLE", "Alphabet"}, {"OPPORTUNITY", "400.00"}, {"STATUS_ID", "CONVERTED"}, {"COMPANY_ID", "9"}});
    Add({{"TITLE", "100% sure"}, {"OPPORTUNITY", 0}, {"STATUS_ID", "NEW"}});
  }

  void Add(json fields) {
    MethodResult r = Call(*portal_, "crm.lead.add", {{"fields", std::move(fields)}});
    ASSERT_FALSE(r.is_error) << r.error_description;
  }

  std::set<int64_t> Filter(json filter) {
    MethodResult r = Call(*portal_, "crm.lead.list", {{"filter", std::move(filter)}});
    EXPECT_FALSE(r.is_error) << r.error_description;
    return IdSet(r.result);
  }

  std::unique_ptr<MethodTable> portal_;
};

using Ids = std::set<int64_t>;

TEST_F(FilterTest, EqualsIsTheDefault) {
  EXPECT_EQ(Filter({{"STATUS_ID", "NEW"}}), (Ids{1, 4, 6}));
  EXPECT_EQ(Filter({{"=STATUS_ID", "NEW"}}), (Ids{1, 4, 6}));
  EXPECT_EQ(Filter({{"OPPORTUNITY", "200.00"}}), (Ids{2}));
  EXPECT_EQ(Filter({{"OPPORTUNITY", 200}}), (Ids{2}));
  EXPECT_EQ(Filter({{"ID", "3"}}), (Ids{3}));
}

TEST_F(FilterTest, EqualsIsCaseInsensitiveForText) {
  EXPECT_EQ(Filter({{"TITLE", "ALPHA"}}), (Ids{1}));
}

TEST_F(FilterTest, EqualsWithListIsIn) {
  EXPECT_EQ(Filter({{"STATUS_ID", {"JUNK", "CONVERTED"}}}), (Ids{3, 5}));
}

TEST_F(FilterTest, NotEquals) {
  EXPECT_EQ(Filter({{"!STATUS_ID", "NEW"}}), (Ids{2, 3, 5}));
  EXPECT_EQ(Filter({{"!=STATUS_ID", "NEW"}}), (Ids{2, 3, 5}));
  EXPECT_EQ(Filter({{"!ID", 1}}), (Ids{2, 3, 4, 5, 6}));
}

TEST_F(FilterTest, GreaterExcludesEqualGreaterOrEqualIncludesIt) {
  EXPECT_EQ(Filter({{">ID", 3}}), (Ids{4, 5, 6}));
  EXPECT_EQ(Filter({{">=ID", 3}}), (Ids{3, 4, 5, 6}));
  EXPECT_EQ(Filter({{">ID", "6"}}), (Ids{}));
  EXPECT_EQ(Filter({{">=ID", "6"}}), (Ids{6}));
}

TEST_F(FilterTest, LessExcludesEqualLessOrEqualIncludesIt) {
  EXPECT_EQ(Filter({{"<ID", 3}}), (Ids{1, 2}));
  EXPECT_EQ(Filter({{"<=ID", 3}}), (Ids{1, 2, 3}));
  EXPECT_EQ(Filter({{"<ID", 1}}), (Ids{}));
}

TEST_F(FilterTest, NumericFieldsCompareAsNumbersNotText) {
  // As text "1000.00" < "150"; as numbers it is greater.
  EXPECT_EQ(Filter({{">OPPORTUNITY", 150}}), (Ids{2, 3, 4, 5}));
  EXPECT_EQ(Filter({{">OPPORTUNITY", "300.5"}}), (Ids{4, 5}));
  EXPECT_EQ(Filter({{">=OPPORTUNITY", "300.5"}}), (Ids{3, 4, 5}));
  EXPECT_EQ(Filter({{"<OPPORTUNITY", 50}}), (Ids{6}));
  EXPECT_EQ(Filter({{"<=OPPORTUNITY", 50}}), (Ids{1, 6}));
}

TEST_F(FilterTest, DatesCompareAsInstantsAcrossFormats) {
  // Lead 1 closes 2024-01-01 10:00 +02:00, 2 at 2024-01-02 00:00, 4 at 2024-01-03 12:00.
  EXPECT_EQ(Filter({{">DATE_CLOSED", "2024-01-02"}}), (Ids{4}));
  EXPECT_EQ(Filter({{">=DATE_CLOSED", "2024-01-02"}}), (Ids{2, 4}));
  EXPECT_EQ(Filter({{"<DATE_CLOSED", "2024-01-01T08:00:00Z"}}), (Ids{}));
  EXPECT_EQ(Filter({{"<=DATE_CLOSED", "2024-01-01T08:00:00Z"}}), (Ids{1}));
}

TEST_F(FilterTest, InAndNotIn) {
  EXPECT_EQ(Filter({{"@ID", {1, 3, 99}}}), (Ids{1, 3}));
  EXPECT_EQ(Filter({{"!@ID", {1, 3}}}), (Ids{2, 4, 5, 6}));
  EXPECT_EQ(Filter({{"@STATUS_ID", {"JUNK"}}}), (Ids{3}));
  // A PHP list that arrived as an object with numeric keys.
  EXPECT_EQ(Filter({{"@ID", {{"0", "2"}, {"1", "4"}}}}), (Ids{2, 4}));
  EXPECT_EQ(Filter({{"@ID", json::array()}}), (Ids{}));
}

TEST_F(FilterTest, LikeIsCaseInsensitiveSubstring) {
  EXPECT_EQ(Filter({{"%TITLE", "alpha"}}), (Ids{1, 5}));
  EXPECT_EQ(Filter({{"%TITLE", "ET"}}), (Ids{2, 5}));
  EXPECT_EQ(Filter({{"%TITLE", "100%"}}), (Ids{6}));  // % is literal for `%`
}

TEST_F(FilterTest, NotLike) {
  EXPECT_EQ(Filter({{"!%TITLE", "alpha"}}), (Ids{2, 3, 4, 6}));
}

TEST_F(FilterTest, ExplicitPatternUsesWildcards) {
  EXPECT_EQ(Filter({{"=%TITLE", "alpha%"}}), (Ids{1, 5}));
  EXPECT_EQ(Filter({{"%=TITLE", "%ray"}}), (Ids{3}));
  EXPECT_EQ(Filter({{"=%TITLE", "alpha"}}), (Ids{1}));  // no wildcard: whole value
  EXPECT_EQ(Filter({{"=%TITLE", "_eta"}}), (Ids{2}));
}

TEST_F(FilterTest, Between) {
  EXPECT_EQ(Filter({{"><OPPORTUNITY", {200, 400}}}), (Ids{2, 3, 5}));
}

TEST_F(FilterTest, EmptyValueMatchesNull) {
  EXPECT_EQ(Filter({{"COMPANY_ID", ""}}), (Ids{1, 2, 4, 6}));
  EXPECT_EQ(Filter({{"!COMPANY_ID", ""}}), (Ids{3, 5}));
  // SQL semantics: NULL is neither greater nor less.
  EXPECT_EQ(Filter({{">COMPANY_ID", 0}}), (Ids{3, 5}));
}

TEST_F(FilterTest, MultiFieldMatchesAnyItem) {
  EXPECT_EQ(Filter({{"PHONE", "+15550001"}}), (Ids{1}));
  EXPECT_EQ(Filter({{"%PHONE", "555"}}), (Ids{1}));
}

TEST_F(FilterTest, ConditionsCombineWithAnd) {
  EXPECT_EQ(Filter({{"STATUS_ID", "NEW"}, {">ID", 1}}), (Ids{4, 6}));
}

TEST_F(FilterTest, UnknownFieldsAreIgnored) {
  EXPECT_EQ(Filter({{"NO_SUCH_FIELD", "x"}}).size(), 6u);
}

TEST_F(FilterTest, FieldNamesAreCaseInsensitive) {
  EXPECT_EQ(Filter({{">id", 4}}), (Ids{5, 6}));
}

}  // namespace
}  // namespace b24emu::data::testing::filter_test
