// A Drive upload's access rights and media type through the gateway end to
// end: `rights` goes to disk.folder.uploadfile / disk.storage.uploadfile as
// Bitrix24's {TASK_ID, ACCESS_CODE} list and the emulator keeps it on the
// file; the content type goes on the multipart part, the emulator serves
// the file with it, and DownloadFile's header carries what the portal
// served. Bad values are refused before anything reaches the portal.
#include <cstdint>
#include <string>

#include <gtest/gtest.h>

#include "absl/strings/numbers.h"
#include "tests/e2e/file_helpers.h"
#include "tests/e2e/rpc_helpers.h"

namespace b24gate::e2e::file_rights_test {
namespace {

void AddRight(pb::UploadFileHeader* h, int64_t task_id, const std::string& code) {
  pb::DriveRight* right = h->add_rights();
  right->set_task_id(task_id);
  right->set_access_code(code);
}

int64_t FileId(const pb::UploadFileResponse& response) {
  int64_t id = 0;
  EXPECT_TRUE(absl::SimpleAtoi(J(response.file())["ID"].get<std::string>(), &id)) << J(response.file());
  return id;
}

TEST(FileRights, RightsAndTheContentTypeReachTheDriveAndComeBack) {
  auto stack = Up();
  ASSERT_TRUE(stack);
  stack->ResetEmulator();
  pb::UploadFileHeader header = IntoFolder("report.pdf");
  AddRight(&header, 42, "U1");
  AddRight(&header, 38, "AU");
  header.set_content_type("application/pdf");
  Uploaded up = Upload(*stack, header, 300000, 65536);
  ASSERT_TRUE(up.status.ok()) << up.status.error_message();
  // The first step named the rights as the docs spell them.
  const json commands = stack->EmulatorCommands();
  ASSERT_EQ(commands.size(), 1u) << commands;
  EXPECT_EQ(commands[0]["method"], "disk.folder.uploadfile");
  EXPECT_EQ(commands[0]["params"]["rights"],
            json::parse(R"([{"TASK_ID":42,"ACCESS_CODE":"U1"},{"TASK_ID":38,"ACCESS_CODE":"AU"}])"))
      << commands[0];
  // The portal keeps both with the file.
  const int64_t id = FileId(up.response);
  const json kept = stack->EmulatorGet("disk/files/" + std::to_string(id));
  EXPECT_EQ(kept["rights"],
            json::parse(R"([{"TASK_ID":"42","ACCESS_CODE":"U1"},{"TASK_ID":"38","ACCESS_CODE":"AU"}])"))
      << kept;
  EXPECT_EQ(kept["content_type"], "application/pdf") << kept;
  Downloaded down = Download(*stack, id);
  ASSERT_TRUE(down.status.ok()) << down.status.error_message();
  EXPECT_EQ(down.sha256, up.sha256);
  EXPECT_EQ(down.header.content_type(), "application/pdf");
  EXPECT_EQ(down.header.name(), "report.pdf");

  // Without a type the part is application/octet-stream, and so is the file.
  pb::UploadFileHeader plain = IntoFolder("data.bin");
  plain.clear_folder_id();
  plain.set_storage_id(1);
  AddRight(&plain, 40, "DR12");
  Uploaded untyped = Upload(*stack, plain, 0, 1);
  ASSERT_TRUE(untyped.status.ok()) << untyped.status.error_message();
  const json second = stack->EmulatorGet("disk/files/" + std::to_string(FileId(untyped.response)));
  EXPECT_EQ(second["content_type"], "application/octet-stream") << second;
  EXPECT_EQ(second["rights"][0]["ACCESS_CODE"], "DR12") << second;
  Downloaded empty = Download(*stack, FileId(untyped.response));
  ASSERT_TRUE(empty.status.ok()) << empty.status.error_message();
  EXPECT_EQ(empty.bytes, 0);
  EXPECT_EQ(empty.header.content_type(), "application/octet-stream");
}

TEST(FileRights, BadRightsAndTypesAreRefusedBeforeAnythingIsSent) {
  auto stack = Up();
  ASSERT_TRUE(stack);
  stack->ResetEmulator();
  struct Case {
    pb::UploadFileHeader header;
    const char* names;
  };
  std::vector<Case> cases;
  cases.push_back({IntoFolder("a.pdf"), "header.rights[0].task_id"});
  AddRight(&cases.back().header, 0, "U1");
  cases.push_back({IntoFolder("a.pdf"), "header.rights[1].access_code"});
  AddRight(&cases.back().header, 42, "U1");
  AddRight(&cases.back().header, 42, "u1; DROP");
  cases.push_back({IntoFolder("a.pdf"), "header.content_type"});
  cases.back().header.set_content_type("text/plain\r\nX-Injected: 1");
  cases.push_back({IntoFolder("a.pdf"), "header.content_type"});
  cases.back().header.set_content_type("pdf");
  // A record's field keeps no rights and no type.
  cases.push_back({IntoFolder("a.pdf"), "header.rights"});
  {
    pb::RecordFileField* field = cases.back().header.mutable_record_field();
    field->set_entity_type("deal");
    field->set_record_id(1);
    field->set_field("UF_CRM_1700000103");
    AddRight(&cases.back().header, 42, "U1");
  }
  for (const Case& c : cases) {
    SCOPED_TRACE(c.names);
    Uploaded r = Upload(*stack, c.header, 10, 10);
    EXPECT_EQ(r.status.error_code(), grpc::StatusCode::INVALID_ARGUMENT) << r.status.error_message();
    EXPECT_NE(r.status.error_message().find(c.names), std::string::npos) << r.status.error_message();
  }
  EXPECT_EQ(stack->EmulatorStats()["requests"], 0) << "a refused upload reached the portal";
  // Accepted: a type with parameters.
  pb::UploadFileHeader ok = IntoFolder("notes.txt");
  ok.set_content_type("text/plain; charset=\"utf-8\"");
  Uploaded fine = Upload(*stack, ok, 10, 10);
  ASSERT_TRUE(fine.status.ok()) << fine.status.error_message();
  EXPECT_EQ(Download(*stack, FileId(fine.response)).header.content_type(),
            "text/plain; charset=\"utf-8\"");
}

// The emulator checks rights as a portal would: an unknown access level or
// a malformed entry is refused (and disk.rights.getTasks lists the levels).
TEST(FileRights, TheEmulatorRefusesRightsAPortalWouldNot) {
  auto stack = Up();
  ASSERT_TRUE(stack);
  const json tasks = stack->Rest("disk.rights.getTasks", json::object());
  ASSERT_TRUE(tasks["result"].is_array()) << tasks;
  EXPECT_EQ(tasks["result"].size(), 3u) << tasks;
  for (const json& rights : {json::parse(R"([{"TASK_ID":7,"ACCESS_CODE":"U1"}])"),
                             json::parse(R"([{"TASK_ID":42}])"), json::parse(R"("U1")")}) {
    json answer = stack->Rest("disk.folder.uploadfile",
                              {{"id", 1}, {"data", {{"NAME", "x.txt"}}}, {"rights", rights}});
    EXPECT_EQ(answer["error"], "ERROR_ARGUMENT") << rights << answer;
  }
}

}  // namespace
}  // namespace b24gate::e2e::file_rights_test
