// --max-file-size for a file into a CRM record's field, as for a Drive
// upload (files_test MaximumFileSizeRefusesLargerFiles): a larger declared
// size is refused before the portal hears of it, an undeclared stream that
// passes the limit is stopped before crm.deal.update's body is whole (the
// portal runs no update), and a file of exactly the limit lands. The limit
// counts the file's bytes, not the base64 text they become.
#include <cstdint>
#include <memory>
#include <string>

#include <gtest/gtest.h>

#include "tests/e2e/file_helpers.h"
#include "tests/e2e/rpc_helpers.h"

namespace b24gate::e2e::field_file_limits_test {
namespace {

pb::UploadFileHeader FieldHeader(int64_t deal, const std::string& name) {
  pb::UploadFileHeader h;
  *h.mutable_record_field() = DealFileField(deal);
  h.set_name(name);
  return h;
}

json FieldOf(Stack& stack, int64_t deal) {
  return stack.Rest("crm.deal.get", {{"id", deal}})["result"][kDealFileField];
}

TEST(FieldFileLimits, MaximumFileSizeHoldsForARecordsField) {
  GatewaySpec gateway;
  gateway.extra_args = {"--max-file-size", "100000"};
  auto stack = Up({}, gateway);
  ASSERT_TRUE(stack);
  json added = stack->Rest("crm.deal.add", {{"fields", {{"TITLE", "with a scan"}}}});
  ASSERT_TRUE(added["result"].is_number_integer()) << added;
  const int64_t deal = added["result"].get<int64_t>();
  stack->ResetEmulator();

  pb::UploadFileHeader declared = FieldHeader(deal, "declared.bin");
  declared.set_size(100001);
  Uploaded r = Upload(*stack, declared, 100001, 10000);
  EXPECT_EQ(r.status.error_code(), grpc::StatusCode::INVALID_ARGUMENT) << r.status.error_message();
  EXPECT_NE(r.status.error_message().find("header.size"), std::string::npos)
      << r.status.error_message();
  EXPECT_EQ(stack->EmulatorStats()["requests"], 0) << "a refused upload reached the portal";

  r = Upload(*stack, FieldHeader(deal, "streamed.bin"), 300000, 10000);
  EXPECT_EQ(r.status.error_code(), grpc::StatusCode::RESOURCE_EXHAUSTED)
      << r.status.error_message();
  EXPECT_NE(r.status.error_message().find("nothing was stored"), std::string::npos)
      << r.status.error_message();
  int updates = 0;
  for (const json& c : stack->EmulatorCommands()) updates += c["method"] == "crm.deal.update";
  EXPECT_EQ(updates, 0) << "the portal ran an update past the limit";
  EXPECT_TRUE(FieldOf(*stack, deal).is_null()) << FieldOf(*stack, deal);

  Uploaded fits = Upload(*stack, FieldHeader(deal, "fits.bin"), 100000, 10000);
  ASSERT_TRUE(fits.status.ok()) << fits.status.error_message();
  EXPECT_EQ(fits.response.sha256(), fits.sha256);
  EXPECT_TRUE(FieldOf(*stack, deal).is_object()) << FieldOf(*stack, deal);
}

}  // namespace
}  // namespace b24gate::e2e::field_file_limits_test
