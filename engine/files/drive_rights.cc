#include "engine/files/drive_rights.h"

#include "absl/strings/ascii.h"
#include "absl/strings/str_cat.h"
#include "engine/common/field_text.h"

namespace b24gate {
namespace {

bool IsAccessCode(const std::string& code) {
  if (code.empty() || code.size() > 64 || !absl::ascii_isupper(code[0])) return false;
  for (char c : code) {
    if (!absl::ascii_isupper(c) && !absl::ascii_isdigit(c) && c != '_') return false;
  }
  return true;
}

}  // namespace

absl::Status CheckDriveRights(const std::vector<DriveRight>& rights, absl::string_view where) {
  for (size_t i = 0; i < rights.size(); ++i) {
    const std::string entry = absl::StrCat(where, "[", i, "]");
    if (rights[i].task_id <= 0) {
      return absl::InvalidArgumentError(absl::StrCat(
          entry, ".task_id: must be a positive access level id (disk.rights.getTasks)"));
    }
    if (!IsAccessCode(rights[i].access_code)) {
      return absl::InvalidArgumentError(absl::StrCat(
          entry, ".access_code: \"", EchoText(rights[i].access_code),
          "\" is not an access code (capitals, then capitals, digits and _, e.g. U35, G2, DR12)"));
    }
  }
  return absl::OkStatus();
}

nlohmann::ordered_json DriveRightsParam(const std::vector<DriveRight>& rights) {
  nlohmann::ordered_json list = nlohmann::ordered_json::array();
  for (const DriveRight& right : rights) {
    list.push_back({{"TASK_ID", right.task_id}, {"ACCESS_CODE", right.access_code}});
  }
  return list;
}

}  // namespace b24gate
