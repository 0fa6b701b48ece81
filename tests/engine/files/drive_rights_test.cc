// A Drive upload's access rights: checked entry by entry, named where they
// are wrong, and sent as Bitrix24's {TASK_ID, ACCESS_CODE} list.
#include "engine/files/drive_rights.h"

#include <gtest/gtest.h>

#include <string>
#include <vector>

namespace b24gate::drive_rights_test {
namespace {

TEST(DriveRights, GoodRightsBecomeTheRightsParameter) {
  const std::vector<DriveRight> rights = {{42, "U35"}, {38, "DR12"}, {40, "SG4_A"}, {38, "AU"}};
  EXPECT_TRUE(CheckDriveRights(rights, "header.rights").ok());
  EXPECT_TRUE(CheckDriveRights({}, "header.rights").ok());
  EXPECT_EQ(DriveRightsParam(rights).dump(),
            R"([{"TASK_ID":42,"ACCESS_CODE":"U35"},{"TASK_ID":38,"ACCESS_CODE":"DR12"},)"
            R"({"TASK_ID":40,"ACCESS_CODE":"SG4_A"},{"TASK_ID":38,"ACCESS_CODE":"AU"}])");
}

TEST(DriveRights, EachBadEntryIsNamed) {
  struct Case {
    std::vector<DriveRight> rights;
    const char* names;
  };
  for (const Case& c : {Case{{{0, "U1"}}, "header.rights[0].task_id"},
                        Case{{{42, "U1"}, {-5, "U2"}}, "header.rights[1].task_id"},
                        Case{{{42, ""}}, "header.rights[0].access_code"},
                        Case{{{42, "u35"}}, "header.rights[0].access_code"},
                        Case{{{42, "35"}}, "header.rights[0].access_code"},
                        Case{{{42, "U1"}, {42, "U 2"}}, "header.rights[1].access_code"},
                        Case{{{42, "U1\"}"}}, "header.rights[0].access_code"},
                        Case{{{42, "U" + std::string(64, '1')}}, "header.rights[0].access_code"}}) {
    absl::Status s = CheckDriveRights(c.rights, "header.rights");
    EXPECT_EQ(s.code(), absl::StatusCode::kInvalidArgument) << c.names;
    EXPECT_EQ(s.message().substr(0, std::string(c.names).size()), c.names) << s;
  }
}

}  // namespace
}  // namespace b24gate::drive_rights_test
