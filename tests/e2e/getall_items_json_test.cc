// GetAll with items_as_json: the items travel as one JSON array per message
// instead of google.protobuf.Value, the same items, once each, in order.
#include <gtest/gtest.h>

#include "tests/e2e/rpc_helpers.h"

namespace b24gate::e2e::getall_items_json_test {
namespace {

struct JsonRead {
  grpc::Status status;
  std::vector<json> items;
  int value_items = 0;  // items that came as google.protobuf.Value
  pb::GetAllSummary summary;
};

JsonRead ReadAsJson(Stack& stack, pb::GetAllRequest request) {
  request.set_items_as_json(true);
  auto ctx = Ctx();
  auto reader = stack.stub().GetAll(ctx.get(), request);
  JsonRead out;
  pb::GetAllResponse message;
  while (reader->Read(&message)) {
    out.value_items += message.items_size();
    if (!message.items_json().empty()) {
      for (auto& item : json::parse(message.items_json())) out.items.push_back(std::move(item));
    }
    if (message.has_summary()) out.summary = message.summary();
  }
  out.status = reader->Finish();
  return out;
}

TEST(GetAllItemsJson, SameItemsAsValuesOnceEachInIdOrder) {
  auto stack = Up();
  ASSERT_TRUE(stack);
  pb::GetAllRequest request;
  request.set_method("crm.lead.list");
  *request.mutable_params() = S({{"select", {"ID", "TITLE", "OPPORTUNITY"}}});
  GetAllOut values = GetAllWith(*stack, request);
  ASSERT_TRUE(values.status.ok()) << values.status.error_message();
  JsonRead text = ReadAsJson(*stack, request);
  ASSERT_TRUE(text.status.ok()) << text.status.error_message();
  EXPECT_EQ(text.value_items, 0);
  ASSERT_EQ(text.items.size(), 300u);
  EXPECT_EQ(text.items, values.items);
  EXPECT_EQ(text.summary.count(), 300);
  EXPECT_TRUE(text.summary.total_matched());
}

}  // namespace
}  // namespace b24gate::e2e::getall_items_json_test
