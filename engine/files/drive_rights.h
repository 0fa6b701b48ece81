// Access rights on a file uploaded to Bitrix24's Drive: the `rights` of
// disk.folder.uploadfile / disk.storage.uploadfile, a list of
// {TASK_ID, ACCESS_CODE} (docs/bitrix24-protocol.md, "Files"). TASK_ID is an
// access level's id as disk.rights.getTasks lists it (read, edit, full
// access); ACCESS_CODE says who gets it ("U35" user 35, "G2" group 2, "DR12"
// department 12 with its subdepartments, "AU" every authorized user, ...).
//
// Thread-safety: pure functions.
#ifndef B24GATE_ENGINE_FILES_DRIVE_RIGHTS_H_
#define B24GATE_ENGINE_FILES_DRIVE_RIGHTS_H_

#include <cstdint>
#include <string>
#include <vector>

#include <nlohmann/json.hpp>

#include "absl/status/status.h"
#include "absl/strings/string_view.h"

namespace b24gate {

struct DriveRight {
  int64_t task_id = 0;
  std::string access_code;
};

// INVALID_ARGUMENT naming the entry (e.g. "header.rights[1].access_code")
// unless each task id is positive and each access code is a kind in
// capitals followed by capitals, digits and _ (at most 64 bytes).
absl::Status CheckDriveRights(const std::vector<DriveRight>& rights, absl::string_view where);

// The `rights` parameter's value. REQUIRES: CheckDriveRights ok.
nlohmann::ordered_json DriveRightsParam(const std::vector<DriveRight>& rights);

}  // namespace b24gate

#endif  // B24GATE_ENGINE_FILES_DRIVE_RIGHTS_H_
