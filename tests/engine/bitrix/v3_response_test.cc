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

// rest.documentation.openapi answers its document bare: the whole body is
// the result. A 2xx object that is no such document stays unreadable.
TEST(V3Response, ABareOpenApiDocumentIsTheResult) {
  absl::StatusOr<CommandOutcome> o = ParseV3CallResponse(
      Answer(200, R"({"openapi":"3.0.0","paths":{"\/tasks.task.get":{"post":{}}}})"));
  ASSERT_TRUE(o.ok()) << o.status();
  ASSERT_TRUE(o->reply);
  EXPECT_EQ(o->reply->result["openapi"], "3.0.0");
  EXPECT_TRUE(o->reply->result["paths"].contains("/tasks.task.get"));
  EXPECT_FALSE(ParseV3CallResponse(Answer(200, R"({"paths":{}})")).ok());
  EXPECT_FALSE(ParseV3CallResponse(Answer(502, R"({"openapi":"3.0.0"})")).ok());
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

TEST(V3Response, ABatchAnswersEachKeyInOrderWithTheBatchTime) {
  absl::StatusOr<BatchReply> r = ParseV3BatchResponse(
      Answer(200, R"({"result":[{"item":{"id":1}},{"result":true}],"time":{"operating":0.2}})"),
      {"a", "b"});
  ASSERT_TRUE(r.ok()) << r.status();
  EXPECT_FALSE(r->batch_error);
  ASSERT_EQ(r->outcomes.size(), 2u);
  EXPECT_EQ(r->outcomes["a"].reply->result["item"]["id"], 1);
  EXPECT_EQ(r->outcomes["b"].reply->result["result"], true);
  EXPECT_EQ(r->outcomes["b"].reply->time["operating"], 0.2);
  EXPECT_EQ(r->time["operating"], 0.2);
}

TEST(V3Response, ABatchErrorIsTheWholeBatchsAndAShortListIsUnreadable) {
  absl::StatusOr<BatchReply> error = ParseV3BatchResponse(
      Answer(400, R"({"error":{"code":"BITRIX_REST_V3_EXCEPTION_INVALIDSELECTEXCEPTION","message":"Path 'x.id' not found in context"}})"),
      {"a"});
  ASSERT_TRUE(error.ok()) << error.status();
  ASSERT_TRUE(error->batch_error);
  EXPECT_EQ(error->batch_error->code, "BITRIX_REST_V3_EXCEPTION_INVALIDSELECTEXCEPTION");
  EXPECT_TRUE(error->outcomes.empty());
  absl::StatusOr<BatchReply> limit = ParseV3BatchResponse(
      Answer(503, R"({"error":"QUERY_LIMIT_EXCEEDED","error_description":"Too many requests"})"),
      {"a"});
  ASSERT_TRUE(limit.ok());
  EXPECT_EQ(limit->batch_error->code, "QUERY_LIMIT_EXCEEDED");
  absl::StatusOr<BatchReply> short_list =
      ParseV3BatchResponse(Answer(200, R"({"result":[{"result":true}]})"), {"a", "b"});
  EXPECT_EQ(short_list.status().code(), absl::StatusCode::kUnavailable);
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
