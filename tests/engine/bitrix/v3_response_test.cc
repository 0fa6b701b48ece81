// REST 3.0 answers: results as classic, v3 error objects with validation,
// and system errors still in the classic flat shape.
#include "engine/bitrix/v3_response.h"

#include <gtest/gtest.h>

namespace b24gate::v3_response_test {
namespace {

HttpResponse Answer(int status, const std::string& body) {
  HttpResponse r;
  r.status = status;
  r.body = body;
  return r;
}

TEST(V3Response, ResultAndTime) {
  absl::StatusOr<CommandOutcome> o =
      ParseV3CallResponse(Answer(200, R"({"result":{"item":{"id":3}},"time":{"operating":0.5}})"));
  ASSERT_TRUE(o.ok()) << o.status();
  ASSERT_TRUE(o->reply);
  EXPECT_EQ(o->reply->result["item"]["id"], 3);
  EXPECT_EQ(o->reply->time["operating"], 0.5);
}

TEST(V3Response, ErrorObjectWithValidation) {
  absl::StatusOr<CommandOutcome> o = ParseV3CallResponse(Answer(
      400, R"({"error":{"code":"BITRIX_REST_V3_EXCEPTION_VALIDATION_REQUESTVALIDATIONEXCEPTION","message":"Error validating","validation":[{"field":"id","message":"Required"},{"message":"no field"}]}})"));
  ASSERT_TRUE(o.ok()) << o.status();
  ASSERT_TRUE(o->error);
  EXPECT_EQ(o->error->code, "BITRIX_REST_V3_EXCEPTION_VALIDATION_REQUESTVALIDATIONEXCEPTION");
  EXPECT_EQ(o->error->description, "Error validating");
  EXPECT_EQ(o->error->http_status, 400);
  ASSERT_EQ(o->error->violations.size(), 2u);
  EXPECT_EQ(o->error->violations[0].field, "id");
  EXPECT_EQ(o->error->violations[0].description, "Required");
  EXPECT_EQ(o->error->violations[1].field, "");
}

TEST(V3Response, SystemErrorsInTheClassicShape) {
  absl::StatusOr<CommandOutcome> o = ParseV3CallResponse(
      Answer(503, R"({"error":"QUERY_LIMIT_EXCEEDED","error_description":"Too many requests"})"));
  ASSERT_TRUE(o.ok()) << o.status();
  ASSERT_TRUE(o->error);
  EXPECT_EQ(o->error->code, "QUERY_LIMIT_EXCEEDED");
  EXPECT_TRUE(o->error->violations.empty());
}

TEST(V3Response, NonJsonIsUnavailable) {
  absl::StatusOr<CommandOutcome> o = ParseV3CallResponse(Answer(502, "<html>bad gateway</html>"));
  EXPECT_EQ(o.status().code(), absl::StatusCode::kUnavailable);
}

}  // namespace
}  // namespace b24gate::v3_response_test
