// Files appended to a CRM record's multiple file field through the gateway
// end to end (record_field.append): the portal deletes the files an update
// of a multiple field does not name, so the gateway reads the field's ids
// first and the streamed update names them before the new file. A deal's
// field (crm.deal.update, {"id": N} and {"fileData": [...]}) and a smart
// process item's (crm.item.update, {"id": N} and [name, base64]).
#include <cstdint>
#include <string>
#include <vector>

#include <gtest/gtest.h>

#include "absl/strings/escaping.h"
#include "tests/e2e/file_helpers.h"
#include "tests/e2e/rpc_helpers.h"

namespace b24gate::e2e::multiple_field_files_test {
namespace {

constexpr char kDealFiles[] = "UF_CRM_1700000104";  // the emulator's multiple file field on deals
constexpr char kDealScan[] = "UF_CRM_1700000103";   // and its single one
constexpr int64_t kSmartProcess = 128;
constexpr char kItemFiles[] = "ufCrm1_1700000300";

int64_t NewDeal(Stack& stack) {
  json added = stack.Rest("crm.deal.add", {{"fields", {{"TITLE", "with documents"}}}});
  EXPECT_TRUE(added["result"].is_number_integer()) << added;
  return added["result"].get<int64_t>();
}

pb::RecordFileField DealField(int64_t deal, const char* field, bool append, int index = 0) {
  pb::RecordFileField f;
  f.set_entity_type("deal");
  f.set_record_id(deal);
  f.set_field(field);
  f.set_append(append);
  f.set_index(index);
  return f;
}

Uploaded UploadTo(Stack& stack, const pb::RecordFileField& field, const std::string& name,
                  int64_t size, uint64_t seed) {
  pb::UploadFileHeader header;
  *header.mutable_record_field() = field;
  header.set_name(name);
  header.set_size(size);
  return Upload(stack, header, size, 65536, seed);
}

Downloaded DownloadAt(Stack& stack, pb::RecordFileField field, int index) {
  field.set_append(false);
  field.set_index(index);
  pb::DownloadFileRequest request;
  *request.mutable_record_field() = field;
  return DownloadWith(stack, request);
}

// The ids of the files the deal's field holds, as the portal answers them.
std::vector<int64_t> IdsOf(const json& files) {
  std::vector<int64_t> ids;
  for (const json& f : files) ids.push_back(f["id"].get<int64_t>());
  return ids;
}

std::vector<std::string> MethodsRun(Stack& stack) {
  std::vector<std::string> methods;
  for (const json& c : stack.EmulatorCommands()) methods.push_back(c["method"]);
  return methods;
}

TEST(MultipleFieldFiles, AppendKeepsTheDealsFilesAndAddsTheNewOne) {
  auto stack = Up();
  ASSERT_TRUE(stack);
  const int64_t deal = NewDeal(*stack);
  // Two files written straight to the portal.
  const json pairs = json::array({{{"fileData", {"a.txt", absl::Base64Escape("first file")}}},
                                  {{"fileData", {"b.txt", absl::Base64Escape("the second")}}}});
  json written = stack->Rest("crm.deal.update", {{"id", deal}, {"fields", {{kDealFiles, pairs}}}});
  ASSERT_TRUE(written.contains("result")) << written;
  const std::vector<int64_t> before =
      IdsOf(stack->Rest("crm.deal.get", {{"id", deal}})["result"][kDealFiles]);
  ASSERT_EQ(before.size(), 2u);

  stack->ResetEmulator();
  constexpr int64_t kSize = (1 << 20) + 7;
  Uploaded up = UploadTo(*stack, DealField(deal, kDealFiles, /*append=*/true), "c.bin", kSize, 3);
  ASSERT_TRUE(up.status.ok()) << up.status.error_message();
  EXPECT_EQ(up.response.sha256(), up.sha256);
  // One read of the field's ids, the one update, the read back.
  EXPECT_EQ(MethodsRun(*stack),
            (std::vector<std::string>{"crm.deal.get", "crm.deal.update", "crm.deal.get"}));

  const json files = stack->Rest("crm.deal.get", {{"id", deal}})["result"][kDealFiles];
  ASSERT_EQ(files.size(), 3u) << files;
  const std::vector<int64_t> after = IdsOf(files);
  EXPECT_EQ(after[0], before[0]);
  EXPECT_EQ(after[1], before[1]);
  // The answer is the added file's value, not one of the kept ones.
  const json value = J(up.response.file());
  EXPECT_EQ(value["id"], after[2]) << value;
  EXPECT_EQ(value["downloadUrl"].get<std::string>().find("auth="), std::string::npos) << value;

  const pb::RecordFileField field = DealField(deal, kDealFiles, false);
  EXPECT_EQ(DownloadAt(*stack, field, 0).first_bytes, "first file");
  EXPECT_EQ(DownloadAt(*stack, field, 1).first_bytes, "the second");
  Downloaded added = DownloadAt(*stack, field, 2);
  ASSERT_TRUE(added.status.ok()) << added.status.error_message();
  EXPECT_EQ(added.bytes, kSize);
  EXPECT_EQ(added.sha256, up.sha256);
}

// From an empty field, appends accumulate; an upload without append leaves
// the multiple field holding only its file.
TEST(MultipleFieldFiles, AppendsAccumulateAndAPlainUploadReplacesThemAll) {
  auto stack = Up();
  ASSERT_TRUE(stack);
  const int64_t deal = NewDeal(*stack);
  std::vector<std::string> hashes;
  for (uint64_t seed : {11, 12, 13}) {
    Uploaded up = UploadTo(*stack, DealField(deal, kDealFiles, true), "part.bin", 5000 + seed, seed);
    ASSERT_TRUE(up.status.ok()) << up.status.error_message();
    hashes.push_back(up.sha256);
  }
  for (int i = 0; i < 3; ++i) {
    Downloaded got = DownloadAt(*stack, DealField(deal, kDealFiles, false), i);
    ASSERT_TRUE(got.status.ok()) << got.status.error_message();
    EXPECT_EQ(got.sha256, hashes[static_cast<size_t>(i)]) << "file " << i;
  }
  Uploaded only = UploadTo(*stack, DealField(deal, kDealFiles, false), "only.bin", 999, 14);
  ASSERT_TRUE(only.status.ok()) << only.status.error_message();
  const json files = stack->Rest("crm.deal.get", {{"id", deal}})["result"][kDealFiles];
  ASSERT_EQ(files.size(), 1u) << files;
  EXPECT_EQ(DownloadAt(*stack, DealField(deal, kDealFiles, false), 0).sha256, only.sha256);
}

TEST(MultipleFieldFiles, AppendToAnItemsFieldUsesTheUniversalApisForm) {
  auto stack = Up();
  ASSERT_TRUE(stack);
  json added = stack->Rest("crm.item.add", {{"entityTypeId", kSmartProcess},
                                            {"fields", {{"title", "with files"}}}});
  const int64_t item = added["result"]["item"]["id"].get<int64_t>();
  pb::RecordFileField field;
  field.set_entity_type("item");
  field.set_entity_type_id(kSmartProcess);
  field.set_record_id(item);
  field.set_field(kItemFiles);
  field.set_append(true);
  Uploaded first = UploadTo(*stack, field, "one.bin", 70000, 21);
  ASSERT_TRUE(first.status.ok()) << first.status.error_message();
  Uploaded second = UploadTo(*stack, field, "two.bin", 80000, 22);
  ASSERT_TRUE(second.status.ok()) << second.status.error_message();
  EXPECT_NE(J(first.response.file())["id"], J(second.response.file())["id"]);
  EXPECT_EQ(DownloadAt(*stack, field, 0).sha256, first.sha256);
  EXPECT_EQ(DownloadAt(*stack, field, 1).sha256, second.sha256);
}

// A single field holding a file cannot be appended to: refused before the
// update, and its file stays. A download never appends.
TEST(MultipleFieldFiles, AppendToASingleFieldIsRefusedBeforeTheUpdate) {
  auto stack = Up();
  ASSERT_TRUE(stack);
  const int64_t deal = NewDeal(*stack);
  Uploaded scan = UploadTo(*stack, DealField(deal, kDealScan, false), "scan.bin", 3000, 31);
  ASSERT_TRUE(scan.status.ok()) << scan.status.error_message();
  stack->ResetEmulator();
  Uploaded refused = UploadTo(*stack, DealField(deal, kDealScan, true), "more.bin", 3000, 32);
  EXPECT_EQ(refused.status.error_code(), grpc::StatusCode::FAILED_PRECONDITION)
      << refused.status.error_message();
  EXPECT_NE(refused.status.error_message().find("header.record_field.append"), std::string::npos)
      << refused.status.error_message();
  EXPECT_EQ(MethodsRun(*stack), std::vector<std::string>{"crm.deal.get"});
  EXPECT_EQ(DownloadAt(*stack, DealField(deal, kDealScan, false), 0).sha256, scan.sha256);

  pb::DownloadFileRequest request;
  *request.mutable_record_field() = DealField(deal, kDealScan, true);
  Downloaded down = DownloadWith(*stack, request);
  EXPECT_EQ(down.status.error_code(), grpc::StatusCode::INVALID_ARGUMENT);
  EXPECT_NE(down.status.error_message().find("record_field.append"), std::string::npos)
      << down.status.error_message();
}

}  // namespace
}  // namespace b24gate::e2e::multiple_field_files_test
