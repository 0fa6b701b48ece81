// Fitting a unary answer under the message limit: read bodies go, largest
// first; write results stay.
#include "service/message_limit.h"

#include <string>

#include <gtest/gtest.h>

namespace b24gate::message_limit_test {
namespace {

namespace pb = bitrix24::gateway::v1;

void SetBody(pb::CallResult* r, size_t bytes) {
  r->mutable_result()->set_string_value(std::string(bytes, 'x'));
  (*r->mutable_time()->mutable_fields())["duration"].set_number_value(0.5);
}

TEST(MessageLimit, ReadBodiesAreLeftOutLargestFirstUntilItFits) {
  pb::CallResponse response;
  for (size_t mib : {1, 2, 1, 1}) SetBody(response.add_results(), mib * 1024 * 1024);
  std::vector<FittableResult> parts;
  for (auto& r : *response.mutable_results()) parts.push_back({&r, /*is_read=*/true});
  FitUnderMessageLimit(parts, response.ByteSizeLong());
  EXPECT_LE(response.ByteSizeLong(), kMaxMessageBytes);
  EXPECT_TRUE(response.results(1).has_error()) << "the largest goes first";
  EXPECT_EQ(response.results(1).error().code(), kReasonResultTooLarge);
  EXPECT_EQ(response.results(1).error().grpc_code(),
            static_cast<int>(absl::StatusCode::kResourceExhausted));
  int kept = 0;
  for (const auto& r : response.results()) kept += r.has_result();
  EXPECT_EQ(kept, 3) << "no more than needed is left out";
}

TEST(MessageLimit, WriteResultsAreNeverLeftOut) {
  pb::CallResponse response;
  for (int i = 0; i < 5; ++i) SetBody(response.add_results(), 1024 * 1024);
  std::vector<FittableResult> parts;
  for (auto& r : *response.mutable_results()) parts.push_back({&r, /*is_read=*/false});
  FitUnderMessageLimit(parts, response.ByteSizeLong());
  for (const auto& r : response.results()) {
    EXPECT_TRUE(r.has_result());
    EXPECT_FALSE(r.has_time()) << "bookkeeping goes before results";
  }
}

TEST(MessageLimit, AnAnswerThatFitsIsUntouched) {
  pb::CallResponse response;
  SetBody(response.add_results(), 1000);
  std::string before = response.SerializeAsString();
  FitUnderMessageLimit({{response.mutable_results(0), true}}, response.ByteSizeLong());
  EXPECT_EQ(response.SerializeAsString(), before);
}

}  // namespace
}  // namespace b24gate::message_limit_test
