// A file for a CRM record's file field through the gateway end to end: the
// gateway base64-encodes the stream into crm.deal.update's JSON body as it
// goes (never holding the file or its text), the emulator decodes it to
// disk, and DownloadFile reads the field's link back (authorized, through
// its redirect). Faults on the update give one clear outcome and it is
// never sent twice.
#include <cstdint>
#include <memory>
#include <string>

#include <gtest/gtest.h>

#include "tests/e2e/file_helpers.h"
#include "tests/e2e/rpc_helpers.h"

namespace b24gate::e2e::field_files_test {
namespace {

constexpr const char* kField = kDealFileField;

int64_t NewDeal(Stack& stack) {
  json added = stack.Rest("crm.deal.add", {{"fields", {{"TITLE", "with a scan"}}}});
  EXPECT_TRUE(added["result"].is_number_integer()) << added;
  return added["result"].get<int64_t>();
}

pb::UploadFileHeader FieldHeader(int64_t deal, const std::string& name) {
  pb::UploadFileHeader h;
  *h.mutable_record_field() = DealFileField(deal);
  h.set_name(name);
  return h;
}

Downloaded DownloadField(Stack& stack, int64_t deal) {
  pb::DownloadFileRequest request;
  *request.mutable_record_field() = DealFileField(deal);
  return DownloadWith(stack, request);
}

// The field's value as the portal itself answers it.
json FieldOf(Stack& stack, int64_t deal) {
  return stack.Rest("crm.deal.get", {{"id", deal}})["result"][kField];
}

// How many crm.deal.update commands the emulator ran.
int Updates(Stack& stack) {
  int n = 0;
  for (const json& c : stack.EmulatorCommands()) n += c["method"] == "crm.deal.update";
  return n;
}

TEST(FieldFiles, UploadIntoADealsFieldAndDownloadItBack) {
  auto stack = Up();
  ASSERT_TRUE(stack);
  // Each length modulo 3 (the base64 padding), declared and not.
  for (int64_t size : {int64_t{1}, int64_t{2}, int64_t{3}, int64_t{1024 * 1024 + 1}}) {
    for (bool declared : {false, true}) {
      SCOPED_TRACE(std::to_string(size) + (declared ? " declared" : ""));
      const int64_t deal = NewDeal(*stack);
      pb::UploadFileHeader header = FieldHeader(deal, "scan.pdf");
      if (declared) header.set_size(size);
      Uploaded up = Upload(*stack, header, size, 100000, static_cast<uint64_t>(size) + 3);
      ASSERT_TRUE(up.status.ok()) << up.status.error_message();
      EXPECT_EQ(up.response.size(), size);
      EXPECT_EQ(up.response.sha256(), up.sha256);
      const json value = J(up.response.file());
      const json stored = FieldOf(*stack, deal);
      ASSERT_TRUE(stored.is_object()) << "the deal holds no file";
      EXPECT_EQ(value["id"], stored["id"]);
      ASSERT_TRUE(value["downloadUrl"].is_string()) << value;
      EXPECT_EQ(value["downloadUrl"].get<std::string>().find("auth="), std::string::npos)
          << "the portal's credentials left the gateway";

      Downloaded down = DownloadField(*stack, deal);
      ASSERT_TRUE(down.status.ok()) << down.status.error_message();
      EXPECT_EQ(J(down.header.file())["id"], stored["id"]);
      EXPECT_EQ(down.bytes, size);
      EXPECT_EQ(down.sha256, up.sha256);
      ASSERT_TRUE(down.summary.has_value()) << "a record's file came without the gateway's hash";
      EXPECT_EQ(down.summary->sha256(), up.sha256);
    }
  }
}

// A second file replaces the first (a single field), and the download
// reads the new one.
TEST(FieldFiles, ASecondUploadReplacesTheFieldsFile) {
  auto stack = Up();
  ASSERT_TRUE(stack);
  const int64_t deal = NewDeal(*stack);
  Uploaded first = Upload(*stack, FieldHeader(deal, "a.bin"), 5000, 1000, 1);
  ASSERT_TRUE(first.status.ok()) << first.status.error_message();
  Uploaded second = Upload(*stack, FieldHeader(deal, "b.bin"), 7000, 1000, 2);
  ASSERT_TRUE(second.status.ok()) << second.status.error_message();
  EXPECT_NE(J(first.response.file())["id"], J(second.response.file())["id"]);
  Downloaded down = DownloadField(*stack, deal);
  ASSERT_TRUE(down.status.ok()) << down.status.error_message();
  EXPECT_EQ(down.sha256, second.sha256);
}

TEST(FieldFiles, BadTargetsAreRefusedBeforeAnythingIsSent) {
  auto stack = Up();
  ASSERT_TRUE(stack);
  const int64_t deal = NewDeal(*stack);
  stack->ResetEmulator();
  struct Case {
    const char* entity;
    int64_t id;
    const char* field;
    const char* names;
  };
  for (const Case& c : {Case{"invoice", deal, kField, "header.record_field.entity_type"},
                        Case{"deal", 0, kField, "header.record_field.record_id"},
                        Case{"deal", deal, "UF_CRM\"}", "header.record_field.field"}}) {
    SCOPED_TRACE(c.names);
    pb::UploadFileHeader header = FieldHeader(deal, "x.bin");
    header.mutable_record_field()->set_entity_type(c.entity);
    header.mutable_record_field()->set_record_id(c.id);
    header.mutable_record_field()->set_field(c.field);
    Uploaded r = Upload(*stack, header, 10, 10);
    EXPECT_EQ(r.status.error_code(), grpc::StatusCode::INVALID_ARGUMENT);
    EXPECT_NE(r.status.error_message().find(c.names), std::string::npos) << r.status.error_message();
  }
  EXPECT_EQ(stack->EmulatorStats()["requests"], 0) << "a refused upload reached the portal";
  // A record without a file in the field: nothing to download.
  Downloaded none = DownloadField(*stack, deal);
  EXPECT_EQ(none.status.error_code(), grpc::StatusCode::NOT_FOUND) << none.status.error_message();
}

// The update is a write whose body is gone once sent: each fault gives one
// clear outcome, and the update is never sent a second time.
TEST(FieldFiles, FaultsGiveOneClearOutcomeAndTheUpdateIsNeverRepeated) {
  auto stack = Up();
  ASSERT_TRUE(stack);
  constexpr int64_t kSize = 2 << 20;
  // The portal drops the connection halfway through the body: it never had
  // a whole request, so nothing was stored. (Large enough that the half
  // left cannot all sit in the sockets' buffers when the cut comes.)
  {
    constexpr int64_t kCutSize = 32 << 20;
    const int64_t deal = NewDeal(*stack);
    stack->ResetEmulator();
    stack->SetFaults("cut=@1,method=crm.deal.update");
    pb::UploadFileHeader header = FieldHeader(deal, "cut.bin");
    header.set_size(kCutSize);
    Uploaded r = Upload(*stack, header, kCutSize, 1 << 20);
    EXPECT_EQ(r.status.error_code(), grpc::StatusCode::UNAVAILABLE) << r.status.error_message();
    EXPECT_EQ(ReasonOf(r.status), "NOT_EXECUTED") << r.status.error_message();
    EXPECT_TRUE(FieldOf(*stack, deal).is_null()) << "the cut update stored a file";
    EXPECT_EQ(Updates(*stack), 0) << "the update was sent again";
  }
  // The portal ran the update, then failed its answer: the file may be
  // there (it is), and the update ran exactly once.
  for (const char* fault : {"500=@1,method=crm.deal.update", "reset=@1,method=crm.deal.update"}) {
    SCOPED_TRACE(fault);
    const int64_t deal = NewDeal(*stack);
    stack->ResetEmulator();
    stack->SetFaults(fault);
    Uploaded r = Upload(*stack, FieldHeader(deal, "lost.bin"), kSize, 65536);
    EXPECT_EQ(r.status.error_code(), grpc::StatusCode::UNAVAILABLE) << r.status.error_message();
    EXPECT_EQ(ReasonOf(r.status), "OUTCOME_UNKNOWN") << r.status.error_message();
    EXPECT_TRUE(FieldOf(*stack, deal).is_object());
    EXPECT_EQ(Updates(*stack), 1) << "the update was sent again";
  }
}

// The client cancels halfway through a field's file: the update's body never
// completed, so the portal ran nothing and the field stays as it was; the
// gateway keeps serving.
TEST(FieldFiles, ClientCancelledMidUploadStoresNothing) {
  auto stack = Up();
  ASSERT_TRUE(stack);
  const int64_t deal = NewDeal(*stack);
  stack->ResetEmulator();
  pb::UploadFileHeader header = FieldHeader(deal, "cut.bin");
  header.set_size(int64_t{32} << 20);
  std::unique_ptr<OpenedUpload> cut = OpenUpload(*stack, header);
  ASSERT_TRUE(cut->open);
  ByteSource source(5);
  for (int i = 0; i < 8; ++i) ASSERT_TRUE(cut->Send(source.Next(256 * 1024)));
  cut->ctx->TryCancel();
  EXPECT_EQ(cut->Finish().error_code(), grpc::StatusCode::CANCELLED);
  EXPECT_TRUE(FieldOf(*stack, deal).is_null()) << "the cancelled upload stored a file";
  EXPECT_EQ(Updates(*stack), 0) << "an update ran";
  Uploaded after = Upload(*stack, FieldHeader(deal, "whole.bin"), 1000, 100);
  ASSERT_TRUE(after.status.ok()) << after.status.error_message();
  EXPECT_TRUE(FieldOf(*stack, deal).is_object());
}

// A 300 MiB file into a deal's field: 400 MiB of base64 text go out, made
// on the way, and neither the gateway nor the emulator holds it.
TEST(FieldFiles, LargeFieldUploadKeepsMemoryBounded) {
  auto stack = Up();
  ASSERT_TRUE(stack);
  const int64_t size = int64_t{300} << 20;
  const int64_t deal = NewDeal(*stack);
  const int64_t before = PeakRss(stack->gateway().pid());
  pb::UploadFileHeader header = FieldHeader(deal, "scan-300.bin");
  header.set_size(size);
  Uploaded up = Upload(*stack, header, size, 1 << 20, 300);
  ASSERT_TRUE(up.status.ok()) << up.status.error_message();
  EXPECT_EQ(up.response.sha256(), up.sha256);
  Downloaded down = DownloadField(*stack, deal);
  ASSERT_TRUE(down.status.ok()) << down.status.error_message();
  EXPECT_EQ(down.bytes, size);
  EXPECT_EQ(down.sha256, up.sha256);
  const int64_t peak = PeakRss(stack->gateway().pid());
  const int64_t emulator = PeakRss(stack->emulator().pid());
  std::printf("field upload of %lld MiB: gateway VmHWM %lld MiB before, %lld MiB after; "
              "emulator VmHWM %lld MiB\n",
              static_cast<long long>(size >> 20), static_cast<long long>(before >> 20),
              static_cast<long long>(peak >> 20), static_cast<long long>(emulator >> 20));
  ASSERT_GT(peak, 0);
  EXPECT_LT(peak, int64_t{96} << 20) << "the gateway held a large part of the file";
  EXPECT_LT(emulator, int64_t{128} << 20) << "the emulator held a large part of the file";
}

}  // namespace
}  // namespace b24gate::e2e::field_files_test
