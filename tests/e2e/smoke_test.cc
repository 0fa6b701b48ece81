// The walking skeleton end to end: gateway and emulator processes, one call of
// each RPC.
#include <gtest/gtest.h>

#include "tests/e2e/rpc_helpers.h"

namespace b24gate::e2e::smoke_test {
namespace {

TEST(Smoke, CallListsLeadsThroughTheGateway) {
  auto stack = Up();
  ASSERT_TRUE(stack);
  pb::CallRequest request;
  request.set_method("crm.lead.list");
  *request.mutable_params() = V({{"filter", {{">ID", 0}}}, {"select", {"ID", "TITLE"}}});
  pb::CallResponse response;
  grpc::Status status = stack->stub().Call(Ctx().get(), request, &response);
  ASSERT_TRUE(status.ok()) << status.error_message();
  nlohmann::json result = J(response.result());
  ASSERT_TRUE(result.is_array());
  EXPECT_EQ(result.size(), 50u);
  EXPECT_EQ(response.total(), 300);
  EXPECT_EQ(response.next(), 50);
}

TEST(Smoke, GetAllReadsEveryLeadOnceInIdOrder) {
  auto stack = Up();
  ASSERT_TRUE(stack);
  pb::GetAllRequest request;
  request.set_method("crm.lead.list");
  *request.mutable_params() = S({{"select", {"ID", "TITLE"}}});
  auto ctx = Ctx();
  auto reader = stack->stub().GetAll(ctx.get(), request);
  pb::GetAllResponse message;
  std::vector<long> ids;
  pb::GetAllSummary summary;
  while (reader->Read(&message)) {
    for (const auto& item : message.items()) ids.push_back(std::stol(J(item)["ID"].get<std::string>()));
    if (message.has_summary()) summary = message.summary();
  }
  grpc::Status status = reader->Finish();
  ASSERT_TRUE(status.ok()) << status.error_message();
  EXPECT_EQ(ids.size(), 300u);
  EXPECT_TRUE(std::is_sorted(ids.begin(), ids.end()));
  EXPECT_EQ(std::adjacent_find(ids.begin(), ids.end()), ids.end());
  EXPECT_EQ(summary.count(), 300);
  EXPECT_TRUE(summary.total_matched());
  EXPECT_EQ(summary.strategy(), "parallel_keyset");
}

}  // namespace
}  // namespace b24gate::e2e::smoke_test
