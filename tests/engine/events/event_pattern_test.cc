// Event name patterns (event_pattern.h): `*` stands for any run of
// characters, case does not matter, and a pattern stands for the portal's
// event names it matches.
#include "engine/events/event_pattern.h"

#include <gtest/gtest.h>

#include <string>
#include <vector>

namespace b24gate::event_pattern_test {
namespace {

TEST(EventPatternTest, AStarStandsForAnyRunOfCharacters) {
  EXPECT_TRUE(MatchesEventPattern("ONCRMDEAL*", "ONCRMDEALUPDATE"));
  EXPECT_TRUE(MatchesEventPattern("ONCRMDEAL*", "ONCRMDEAL"));
  EXPECT_FALSE(MatchesEventPattern("ONCRMDEAL*", "ONCRMLEADADD"));
  EXPECT_TRUE(MatchesEventPattern("ONCRM*ADD", "ONCRMLEADADD"));
  EXPECT_FALSE(MatchesEventPattern("ONCRM*ADD", "ONCRMLEADADDX"));
  EXPECT_TRUE(MatchesEventPattern("*", "ONTASKADD"));
  EXPECT_TRUE(MatchesEventPattern("*DEAL*DEL*", "ONCRMDEALDELETE"));
  EXPECT_TRUE(MatchesEventPattern("oncrmdeal*", "ONCRMDEALADD")) << "case does not matter";
  EXPECT_TRUE(MatchesEventPattern("ONCRMDEALADD", "onCrmDealAdd"));
  EXPECT_FALSE(MatchesEventPattern("ONCRMDEALADD", "ONCRMDEALADDX")) << "a name is whole";
}

TEST(EventPatternTest, PatternsStandForThePortalsEventsTheyMatch) {
  const std::vector<std::string> known = {"ONCRMDEALADD", "ONCRMDEALUPDATE", "ONCRMLEADADD", "ONTASKADD"};
  std::vector<std::string> unmatched;
  EXPECT_EQ(ExpandEventPatterns({"ONCRMDEAL*", "oncrmdealadd", "OnTaskAdd", "ONFOO*", "*LEAD*"}, known,
                                &unmatched),
            (std::vector<std::string>{"ONCRMDEALADD", "ONCRMDEALUPDATE", "ONTASKADD", "ONCRMLEADADD"}));
  EXPECT_EQ(unmatched, (std::vector<std::string>{"ONFOO*"}));
  EXPECT_FALSE(IsEventPattern("ONCRMDEALADD"));
  EXPECT_TRUE(IsEventPattern("ONCRMDEAL*"));
}

}  // namespace
}  // namespace b24gate::event_pattern_test
