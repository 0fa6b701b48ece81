// Uploads whose client stops: before its first message, after its header,
// or part way through its bytes, into a Drive folder or a deal's file field.
// With a short --file-stall-timeout each ends in seconds with
// DEADLINE_EXCEEDED and reason NOT_EXECUTED, the Drive (or the field) holds
// nothing of it, and b24gate_file_failures_total counts it.
#include <cstdint>
#include <memory>
#include <string>

#include <gtest/gtest.h>

#include "tests/e2e/file_helpers.h"
#include "tests/e2e/rpc_helpers.h"

namespace b24gate::e2e::upload_stall_test {
namespace {

std::unique_ptr<Stack> UpWithShortStallBound() {
  GatewaySpec gateway;
  gateway.extra_args = {"--file-stall-timeout", "2s", "--metrics-listen", "127.0.0.1:0"};
  return Up({}, gateway);
}

// An UploadFile call opened without sending anything.
std::unique_ptr<OpenedUpload> OpenSilent(Stack& stack) {
  auto up = std::make_unique<OpenedUpload>();
  up->stub = pb::FilesService::NewStub(stack.channel());
  up->ctx = Ctx(60);
  up->writer = up->stub->UploadFile(up->ctx.get(), &up->response);
  up->open = true;
  return up;
}

// The gateway's status, with the client's stream left open (no WritesDone:
// that would end the file there and store it).
grpc::Status AwaitStatus(OpenedUpload& up) { return up.writer->Finish(); }

int DriveFiles(Stack& stack) {
  return stack.Rest("disk.folder.getchildren", {{"id", 1}})["total"].get<int>();
}

// How many commands of `method` the emulator ran.
int Ran(Stack& stack, const std::string& method) {
  int n = 0;
  for (const json& c : stack.EmulatorCommands()) n += c["method"] == method;
  return n;
}

void ExpectStalled(const grpc::Status& status, const std::string& says) {
  EXPECT_EQ(status.error_code(), grpc::StatusCode::DEADLINE_EXCEEDED) << status.error_message();
  EXPECT_EQ(ReasonOf(status), "NOT_EXECUTED") << status.error_message();
  EXPECT_NE(status.error_message().find(says), std::string::npos) << status.error_message();
}

void ExpectOneStallCounted(Stack& stack) {
  const std::string metrics = ScrapeMetrics(stack.gateway());
  for (const char* line :
       {"b24gate_file_failures_total{direction=\"up\",reason=\"DEADLINE_EXCEEDED\"} 1\n",
        "b24gate_file_transfers_total{code=\"DEADLINE_EXCEEDED\",direction=\"up\"} 1\n",
        "b24gate_file_transfers_in_progress{direction=\"up\"} 0\n"}) {
    EXPECT_NE(metrics.find(line), std::string::npos) << line;
  }
}

TEST(UploadStall, NoFirstMessageEndsAtTheBoundAndNothingReachesThePortal) {
  auto stack = UpWithShortStallBound();
  ASSERT_TRUE(stack);
  std::unique_ptr<OpenedUpload> up = OpenSilent(*stack);
  ExpectStalled(AwaitStatus(*up), "nothing arrived within 2s");
  for (const json& command : stack->EmulatorCommands()) {
    EXPECT_EQ(command["method"].get<std::string>().rfind("disk.", 0), std::string::npos) << command;
  }
  EXPECT_EQ(DriveFiles(*stack), 0);
  ExpectOneStallCounted(*stack);
}

// The first step ran (it creates nothing); the POST's form never became
// whole, so the portal stored nothing.
TEST(UploadStall, AHeaderAndThenNothingStoresNothing) {
  auto stack = UpWithShortStallBound();
  ASSERT_TRUE(stack);
  std::unique_ptr<OpenedUpload> up = OpenUpload(*stack, IntoFolder("silent.bin"));
  ASSERT_TRUE(up->open);
  ExpectStalled(AwaitStatus(*up), "nothing was stored");
  EXPECT_EQ(Ran(*stack, "disk.folder.uploadfile"), 1);
  EXPECT_EQ(DriveFiles(*stack), 0);
  ExpectOneStallCounted(*stack);
}

TEST(UploadStall, SomeBytesThenSilenceStoresNothing) {
  auto stack = UpWithShortStallBound();
  ASSERT_TRUE(stack);
  pb::UploadFileHeader header = IntoFolder("half.bin");
  header.set_size(1 << 20);
  std::unique_ptr<OpenedUpload> up = OpenUpload(*stack, header);
  ByteSource source(4);
  for (int i = 0; i < 5; ++i) ASSERT_TRUE(up->Send(source.Next(64 * 1024)));
  ExpectStalled(AwaitStatus(*up), "nothing was stored");
  EXPECT_EQ(DriveFiles(*stack), 0);
  ExpectOneStallCounted(*stack);
  // The gateway keeps serving.
  Uploaded whole = Upload(*stack, IntoFolder("whole.bin"), 1000, 100);
  ASSERT_TRUE(whole.status.ok()) << whole.status.error_message();
  EXPECT_EQ(DriveFiles(*stack), 1);
}

// A deal's field: the update's body never became whole, so the portal ran no
// update and the field stays empty.
TEST(UploadStall, SomeBytesThenSilenceLeavesADealsFieldAsItWas) {
  auto stack = UpWithShortStallBound();
  ASSERT_TRUE(stack);
  json added = stack->Rest("crm.deal.add", {{"fields", {{"TITLE", "awaits a scan"}}}});
  ASSERT_TRUE(added["result"].is_number_integer()) << added;
  const int64_t deal = added["result"].get<int64_t>();
  pb::UploadFileHeader header;
  *header.mutable_record_field() = DealFileField(deal);
  header.set_name("scan.pdf");
  std::unique_ptr<OpenedUpload> up = OpenUpload(*stack, header);
  ByteSource source(5);
  for (int i = 0; i < 5; ++i) ASSERT_TRUE(up->Send(source.Next(64 * 1024)));
  ExpectStalled(AwaitStatus(*up), "nothing was stored");
  EXPECT_EQ(Ran(*stack, "crm.deal.update"), 0);
  const json field = stack->Rest("crm.deal.get", {{"id", deal}})["result"][kDealFileField];
  EXPECT_TRUE(field.is_null()) << field;
  ExpectOneStallCounted(*stack);
}

// The other side of the boundary: the portal took the whole file, then held
// its answer past the bound. The file is stored, so the stall is not
// NOT_EXECUTED but OUTCOME_UNKNOWN, and the POST is not sent again.
TEST(UploadStall, ThePortalStallingAfterTheWholeFileIsOutcomeUnknown) {
  EmulatorSpec emulator;
  emulator.extra_args = {"--fault-delay", "6"};
  GatewaySpec gateway;
  gateway.extra_args = {"--file-stall-timeout", "2s", "--metrics-listen", "127.0.0.1:0"};
  auto stack = Up(emulator, gateway);
  ASSERT_TRUE(stack);
  stack->SetFaults("delay=@1,method=upload");
  pb::UploadFileHeader header = IntoFolder("held.bin");
  header.set_size(200000);
  Uploaded r = Upload(*stack, header, 200000, 65536);
  EXPECT_EQ(r.status.error_code(), grpc::StatusCode::UNAVAILABLE) << r.status.error_message();
  EXPECT_EQ(ReasonOf(r.status), "OUTCOME_UNKNOWN") << r.status.error_message();
  EXPECT_NE(r.status.error_message().find("may have been stored"), std::string::npos)
      << r.status.error_message();
  EXPECT_EQ(DriveFiles(*stack), 1);
  EXPECT_EQ(Ran(*stack, "disk.folder.uploadfile"), 1) << "the upload was started again";
  const std::string counted =
      "b24gate_file_failures_total{direction=\"up\",reason=\"OUTCOME_UNKNOWN\"} 1\n";
  EXPECT_NE(ScrapeMetrics(stack->gateway()).find(counted), std::string::npos);
}

}  // namespace
}  // namespace b24gate::e2e::upload_stall_test
