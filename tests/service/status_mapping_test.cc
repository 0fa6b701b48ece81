// The one engine-status -> gRPC-status mapping keeps every text it sends
// short, so a status fits far inside gRPC's 8 KiB metadata limit whatever a
// portal or a caller wrote.
#include "service/status_mapping.h"

#include <string>

#include <gtest/gtest.h>

#include "absl/strings/match.h"
#include "engine/common/errors.h"
#include "engine/common/field_text.h"
#include "google/rpc/error_details.pb.h"
#include "google/rpc/status.pb.h"

namespace b24gate::status_mapping_test {
namespace {

std::string Cyrillic(size_t letters) {
  std::string out;
  for (size_t i = 0; i < letters; ++i) out += "\xd0\x96";  // Ж, two bytes
  return out;
}

TEST(StatusMapping, LongPortalTextIsCutWithItsLength) {
  const absl::Status long_error =
      B24ErrorStatus(std::string(20000, 'E'), Cyrillic(10000), /*http_status=*/400);
  grpc::Status status = ToGrpcStatus(long_error);
  EXPECT_LE(status.error_message().size(), kMaxStatusMessageBytes + 20);
  EXPECT_TRUE(absl::EndsWith(status.error_message(), "...(20000 bytes)")) << status.error_message();
  EXPECT_EQ(FindInvalidUtf8(status.error_message()), std::string::npos);
  // Everything that travels in metadata together stays a few KiB.
  EXPECT_LT(status.error_message().size() * 3 + status.error_details().size() * 4 / 3, 4096u);
  google::rpc::Status details;
  ASSERT_TRUE(details.ParseFromString(status.error_details()));
  google::rpc::ErrorInfo info;
  ASSERT_TRUE(details.details(0).UnpackTo(&info));
  EXPECT_TRUE(absl::EndsWith(info.reason(), "...(20000 bytes)")) << info.reason();
  EXPECT_LE(info.reason().size(), kMaxEchoBytes + 20);
  EXPECT_EQ(info.metadata().at("description"), status.error_message());

  bitrix24::gateway::v1::CommandError error = ToCommandError(long_error);
  EXPECT_EQ(error.description(), status.error_message());
  EXPECT_EQ(error.code(), info.reason());
}

TEST(StatusMapping, FieldViolationsBecomeABadRequestKeptSmall) {
  absl::Status error = B24ErrorStatus(
      "BITRIX_REST_V3_EXCEPTION_VALIDATION_REQUESTVALIDATIONEXCEPTION", Cyrillic(10000), 400);
  std::vector<FieldViolation> violations = {{"title", "Required field `title`"}};
  for (int i = 0; i < 50; ++i) violations.push_back({std::string(1000, 'f'), Cyrillic(1000)});
  AttachFieldViolations(&error, violations);
  grpc::Status status = ToGrpcStatus(error);
  EXPECT_EQ(status.error_code(), grpc::StatusCode::INVALID_ARGUMENT);
  EXPECT_LT(status.error_message().size() * 3 + status.error_details().size() * 4 / 3, 6144u);
  google::rpc::Status details;
  ASSERT_TRUE(details.ParseFromString(status.error_details()));
  ASSERT_EQ(details.details_size(), 2);
  google::rpc::BadRequest bad_request;
  ASSERT_TRUE(details.details(1).UnpackTo(&bad_request));
  ASSERT_EQ(bad_request.field_violations_size(), kMaxFieldViolations);
  EXPECT_EQ(bad_request.field_violations(0).field(), "title");
  EXPECT_EQ(bad_request.field_violations(0).description(), "Required field `title`");
  EXPECT_LE(bad_request.field_violations(1).field().size(), kMaxViolationFieldBytes + 20);
  EXPECT_EQ(FindInvalidUtf8(bad_request.field_violations(1).description()), std::string::npos);
}

TEST(StatusMapping, NoViolationsNoBadRequest) {
  google::rpc::Status details;
  ASSERT_TRUE(details.ParseFromString(
      ToGrpcStatus(B24ErrorStatus("ERROR_CORE", "bad", 400)).error_details()));
  EXPECT_EQ(details.details_size(), 1);
}

TEST(StatusMapping, ShortTextIsUnchanged) {
  grpc::Status status = ToGrpcStatus(B24ErrorStatus("NOT_FOUND", "Not found", 404));
  EXPECT_EQ(status.error_message(), "Not found");
  const std::string at_limit(kMaxStatusMessageBytes, 'x');
  EXPECT_EQ(ToGrpcStatus(absl::InvalidArgumentError(at_limit)).error_message(), at_limit);
}

}  // namespace
}  // namespace b24gate::status_mapping_test
