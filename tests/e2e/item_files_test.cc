// A file for a record of the universal CRM API (crm.item: a smart process's
// item) through the gateway end to end: crm.item.update with the file's
// [name, base64] streamed into its body, crm.item.get's value read back
// and its urlMachine streamed by DownloadFile; a multiple field's files by
// index.
#include <cstdint>
#include <string>

#include <gtest/gtest.h>

#include "absl/strings/escaping.h"
#include "tests/e2e/file_helpers.h"
#include "tests/e2e/rpc_helpers.h"

namespace b24gate::e2e::item_files_test {
namespace {

constexpr int64_t kSmartProcess = 128;        // the emulator's seeded smart process
constexpr char kField[] = "ufCrm1_1700000300";  // its multiple file field

int64_t NewItem(Stack& stack) {
  json added = stack.Rest("crm.item.add", {{"entityTypeId", kSmartProcess},
                                           {"fields", {{"title", "with files"}}}});
  EXPECT_TRUE(added["result"]["item"]["id"].is_number_integer()) << added;
  return added["result"]["item"]["id"].get<int64_t>();
}

pb::RecordFileField ItemField(int64_t item, int index = 0) {
  pb::RecordFileField f;
  f.set_entity_type("item");
  f.set_entity_type_id(kSmartProcess);
  f.set_record_id(item);
  f.set_field(kField);
  f.set_index(index);
  return f;
}

Downloaded DownloadItemFile(Stack& stack, int64_t item, int index = 0) {
  pb::DownloadFileRequest request;
  *request.mutable_record_field() = ItemField(item, index);
  return DownloadWith(stack, request);
}

TEST(ItemFiles, UploadIntoAnItemsFieldAndDownloadItBackByUrlMachine) {
  auto stack = Up();
  ASSERT_TRUE(stack);
  const int64_t item = NewItem(*stack);
  pb::UploadFileHeader header;
  *header.mutable_record_field() = ItemField(item);
  header.set_name("contract.pdf");
  constexpr int64_t kSize = (1 << 20) + 2;
  header.set_size(kSize);
  Uploaded up = Upload(*stack, header, kSize, 100000, 17);
  ASSERT_TRUE(up.status.ok()) << up.status.error_message();
  EXPECT_EQ(up.response.sha256(), up.sha256);
  // The answer is the field's (only) value as crm.item.get gives it, its
  // link without the portal's authorization.
  const json value = J(up.response.file());
  const json stored = stack->Rest("crm.item.get", {{"entityTypeId", kSmartProcess}, {"id", item}});
  const json files = stored["result"]["item"][kField];
  ASSERT_EQ(files.size(), 1u) << stored;
  EXPECT_EQ(value["id"], files[0]["id"]);
  ASSERT_TRUE(value["urlMachine"].is_string()) << value;
  EXPECT_EQ(value["urlMachine"].get<std::string>().find("auth="), std::string::npos) << value;
  int updates = 0;
  for (const json& c : stack->EmulatorCommands()) updates += c["method"] == "crm.item.update";
  EXPECT_EQ(updates, 1);

  Downloaded down = DownloadItemFile(*stack, item);
  ASSERT_TRUE(down.status.ok()) << down.status.error_message();
  EXPECT_EQ(down.bytes, kSize);
  EXPECT_EQ(down.sha256, up.sha256);
  ASSERT_TRUE(down.summary.has_value()) << "the file came without the gateway's hash";
  EXPECT_EQ(down.summary->sha256(), up.sha256);
  EXPECT_EQ(J(down.header.file())["id"], files[0]["id"]);

  // Resumed: the range goes with the link's redirect to the bytes.
  pb::DownloadFileRequest resume;
  *resume.mutable_record_field() = ItemField(item);
  resume.set_offset(kSize - 1000);
  Downloaded tail = DownloadWith(*stack, resume);
  ASSERT_TRUE(tail.status.ok()) << tail.status.error_message();
  EXPECT_EQ(tail.bytes, 1000);
  ByteSource source(17);
  source.Next(kSize - 1000);
  EXPECT_EQ(tail.first_bytes, source.Next(64));
  ASSERT_TRUE(tail.summary.has_value());
  EXPECT_EQ(tail.summary->size(), 1000);
}

// A multiple field that holds several files (written straight to the
// portal): each comes back by its index, and past the last is NOT_FOUND.
TEST(ItemFiles, AMultipleFieldsFilesComeBackByIndex) {
  auto stack = Up();
  ASSERT_TRUE(stack);
  const int64_t item = NewItem(*stack);
  const json pairs = json::array({json::array({"a.txt", absl::Base64Escape("first file")}),
                                  json::array({"b.txt", absl::Base64Escape("the second")})});
  json written = stack->Rest("crm.item.update", {{"entityTypeId", kSmartProcess},
                                                 {"id", item},
                                                 {"fields", {{kField, pairs}}}});
  ASSERT_TRUE(written.contains("result")) << written;
  Downloaded first = DownloadItemFile(*stack, item, 0);
  ASSERT_TRUE(first.status.ok()) << first.status.error_message();
  EXPECT_EQ(first.first_bytes, "first file");
  Downloaded second = DownloadItemFile(*stack, item, 1);
  ASSERT_TRUE(second.status.ok()) << second.status.error_message();
  EXPECT_EQ(second.first_bytes, "the second");
  Downloaded none = DownloadItemFile(*stack, item, 2);
  EXPECT_EQ(none.status.error_code(), grpc::StatusCode::NOT_FOUND) << none.status.error_message();
}

// entity_type_id goes with "item" and only with it; refused before any
// request reaches the portal.
TEST(ItemFiles, AnEntityTypeIdIsNeededExactlyForItems) {
  auto stack = Up();
  ASSERT_TRUE(stack);
  stack->ResetEmulator();
  pb::UploadFileHeader header;
  header.set_name("x.bin");
  *header.mutable_record_field() = ItemField(5);
  header.mutable_record_field()->set_entity_type_id(0);
  Uploaded r = Upload(*stack, header, 10, 10);
  EXPECT_EQ(r.status.error_code(), grpc::StatusCode::INVALID_ARGUMENT);
  EXPECT_NE(r.status.error_message().find("header.record_field.entity_type_id"), std::string::npos)
      << r.status.error_message();
  header.mutable_record_field()->set_entity_type("deal");
  header.mutable_record_field()->set_entity_type_id(kSmartProcess);
  r = Upload(*stack, header, 10, 10);
  EXPECT_EQ(r.status.error_code(), grpc::StatusCode::INVALID_ARGUMENT);
  EXPECT_NE(r.status.error_message().find("header.record_field.entity_type_id"), std::string::npos)
      << r.status.error_message();
  EXPECT_EQ(stack->EmulatorStats()["requests"], 0) << "a refused upload reached the portal";
}

}  // namespace
}  // namespace b24gate::e2e::item_files_test
