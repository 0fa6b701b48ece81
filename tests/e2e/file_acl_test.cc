// Files follow the caller's permissions end to end: UploadFile and
// DownloadFile are checked against the client's allow / deny patterns and
// roles by the methods they run (disk.folder.uploadfile,
// disk.storage.uploadfile, disk.file.get, disk.attachedObject.get; for a
// record's field crm.deal.update and crm.deal.get), before anything is sent:
// a refused transfer leaves the portal's request count and its Drive as they
// were, and the error (PERMISSION_DENIED) names the client and the method.
#include <cstdint>
#include <string>

#include <gtest/gtest.h>

#include "absl/strings/numbers.h"
#include "tests/e2e/auth_clients.h"
#include "tests/e2e/file_helpers.h"
#include "tests/e2e/rpc_helpers.h"

namespace b24gate::e2e::file_acl_test {
namespace {

// The files in the emulator's folder 1, as the portal itself lists them.
json FolderTotal(Stack& stack) { return stack.Rest("disk.folder.getchildren", {{"id", 1}})["total"]; }

// Every file RPC the client may not make (a deal's field; the Drive too
// unless `drive_allowed`): refused, naming the client and the method, with
// nothing sent.
void ExpectEveryFileRpcRefused(Stack& stack, const char* client, int64_t file_id, int64_t deal,
                               bool drive_allowed) {
  const int64_t before = Requests(stack);
  if (!drive_allowed) {
    ExpectDenied(Upload(stack, IntoFolder("no.bin"), 100000, 10000).status,
                 {"disk.folder.uploadfile", client});
    pb::UploadFileHeader root = IntoFolder("no.bin");
    root.set_storage_id(1);
    ExpectDenied(Upload(stack, root, 1000, 1000).status, {"disk.storage.uploadfile", client});
    ExpectDenied(Download(stack, file_id).status, {"disk.file.get", client});
    pb::DownloadFileRequest attached;
    attached.set_attached_object_id(1);
    ExpectDenied(DownloadWith(stack, attached).status, {"disk.attachedobject.get", client});
  }
  pb::UploadFileHeader field;
  *field.mutable_record_field() = DealFileField(deal);
  field.set_name("no.pdf");
  ExpectDenied(Upload(stack, field, 1000, 1000).status, {"crm.deal.update", client});
  pb::DownloadFileRequest from_field;
  *from_field.mutable_record_field() = DealFileField(deal);
  ExpectDenied(DownloadWith(stack, from_field).status, {"crm.deal.get", client});
  EXPECT_EQ(Requests(stack), before) << client << ": a refused transfer reached the portal";
}

TEST(FileAcl, TransfersAreCheckedByTheMethodsTheyRun) {
  auto stack = Up({}, WithClients(kFullToken));
  ASSERT_TRUE(stack);
  Uploaded mine = Upload(*stack, IntoFolder("mine.bin"), 50000, 10000, 3);
  ASSERT_TRUE(mine.status.ok()) << mine.status.error_message();
  int64_t file_id = 0;
  ASSERT_TRUE(absl::SimpleAtoi(J(mine.response.file())["ID"].get<std::string>(), &file_id));
  const int64_t deal = stack->Rest("crm.deal.add", {{"fields", {{"TITLE", "scan"}}}})["result"];

  // Only crm.lead.*: neither the Drive nor a deal's field.
  stack->UseToken(kNarrowToken);
  ExpectEveryFileRpcRefused(*stack, "\"narrow\"", file_id, deal, /*drive_allowed=*/false);
  EXPECT_EQ(FolderTotal(*stack), 1);

  // disk.*: the Drive both ways, but not a deal's field.
  stack->UseToken(kDriveToken);
  ExpectEveryFileRpcRefused(*stack, "\"drive\"", file_id, deal, /*drive_allowed=*/true);
  Uploaded theirs = Upload(*stack, IntoFolder("theirs.bin"), 70000, 10000, 4);
  ASSERT_TRUE(theirs.status.ok()) << theirs.status.error_message();
  Downloaded back = Download(*stack, file_id);
  ASSERT_TRUE(back.status.ok()) << back.status.error_message();
  EXPECT_EQ(back.sha256, mine.sha256);
  EXPECT_EQ(FolderTotal(*stack), 2);

  // Read-only: downloads, never uploads.
  stack->UseToken(kReaderToken);
  const int64_t before = Requests(*stack);
  ExpectDenied(Upload(*stack, IntoFolder("read.bin"), 1000, 1000).status,
               {"disk.folder.uploadfile", "read-only", "\"reader\""});
  EXPECT_EQ(Requests(*stack), before);
  back = Download(*stack, file_id);
  ASSERT_TRUE(back.status.ok()) << back.status.error_message();
  EXPECT_EQ(back.sha256, mine.sha256);
  EXPECT_EQ(FolderTotal(*stack), 2);
  const json field = stack->Rest("crm.deal.get", {{"id", deal}})["result"][kDealFileField];
  EXPECT_FALSE(field.is_object()) << "a refused upload reached the deal's field: " << field;
}

}  // namespace
}  // namespace b24gate::e2e::file_acl_test
