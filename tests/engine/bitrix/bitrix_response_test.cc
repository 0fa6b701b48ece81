#include "engine/bitrix/bitrix_response.h"

#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include <nlohmann/json.hpp>
#include <string>
#include <vector>

#include "absl/status/status.h"
#include "engine/common/errors.h"
#include "engine/common/field_text.h"

namespace b24gate::bitrix_response_test {
namespace {

using json = ::nlohmann::ordered_json;
using ::testing::HasSubstr;
using ::testing::Not;

HttpResponse Answer(int status, std::string body) {
  HttpResponse response;
  response.status = status;
  response.body = std::move(body);
  return response;
}

// ---- ParseCallResponse ----------------------------------------------------

TEST(ParseCallResponseTest, ResultWithTotalNextAndTime) {
  auto outcome = ParseCallResponse(Answer(200, R"({
    "result": [{"ID": "1"}], "total": 120, "next": 50,
    "time": {"start": 1724068028.3, "operating": 0.5, "operating_reset_at": 1724068628}})"));
  ASSERT_TRUE(outcome.ok()) << outcome.status();
  ASSERT_TRUE(outcome->reply.has_value());
  EXPECT_FALSE(outcome->error.has_value());
  EXPECT_EQ(outcome->reply->result, json::parse(R"([{"ID": "1"}])"));
  EXPECT_EQ(outcome->reply->total, 120);
  EXPECT_EQ(outcome->reply->next, 50);
  EXPECT_EQ(outcome->reply->time["operating"], 0.5);
}

TEST(ParseCallResponseTest, TotalAndNextAsStrings) {
  auto outcome = ParseCallResponse(
      Answer(200, R"({"result": [], "total": "120", "next": "50"})"));
  ASSERT_TRUE(outcome.ok()) << outcome.status();
  EXPECT_EQ(outcome->reply->total, 120);
  EXPECT_EQ(outcome->reply->next, 50);
}

TEST(ParseCallResponseTest, NextAbsentOnLastPage) {
  auto outcome =
      ParseCallResponse(Answer(200, R"({"result": [], "total": 3})"));
  ASSERT_TRUE(outcome.ok()) << outcome.status();
  EXPECT_EQ(outcome->reply->total, 3);
  EXPECT_FALSE(outcome->reply->next.has_value());
}

TEST(ParseCallResponseTest, TimeAbsentIsNull) {
  auto outcome = ParseCallResponse(Answer(200, R"({"result": true})"));
  ASSERT_TRUE(outcome.ok()) << outcome.status();
  EXPECT_EQ(outcome->reply->result, json(true));
  EXPECT_TRUE(outcome->reply->time.is_null());
  EXPECT_FALSE(outcome->reply->total.has_value());
}

TEST(ParseCallResponseTest, PartialTimeWithoutOperatingIsKept) {
  auto outcome = ParseCallResponse(Answer(
      200,
      R"({"result": 7, "time": {"start": 1.5, "finish": 2.0, "duration": 0.5}})"));
  ASSERT_TRUE(outcome.ok()) << outcome.status();
  EXPECT_EQ(outcome->reply->time["duration"], 0.5);
  EXPECT_FALSE(outcome->reply->time.contains("operating"));
}

TEST(ParseCallResponseTest, EscapedSlashesAreDecoded) {
  auto outcome = ParseCallResponse(Answer(
      200,
      R"({"result": {"client_endpoint": "https:\/\/x.bitrix24.ru\/rest\/"}})"));
  ASSERT_TRUE(outcome.ok()) << outcome.status();
  EXPECT_EQ(outcome->reply->result["client_endpoint"],
            "https://x.bitrix24.ru/rest/");
}

TEST(ParseCallResponseTest, EmptyListResultIsKeptAsIs) {
  // PHP writes an empty map as []: the caller decides what shape it expects.
  auto outcome = ParseCallResponse(Answer(200, R"({"result": []})"));
  ASSERT_TRUE(outcome.ok()) << outcome.status();
  EXPECT_EQ(outcome->reply->result, json::array());
}

TEST(ParseCallResponseTest, ErrorWithCodeAndStatus) {
  auto outcome = ParseCallResponse(Answer(
      503,
      R"({"error": "QUERY_LIMIT_EXCEEDED", "error_description": "Too many requests"})"));
  ASSERT_TRUE(outcome.ok()) << outcome.status();
  ASSERT_TRUE(outcome->error.has_value());
  EXPECT_FALSE(outcome->reply.has_value());
  EXPECT_EQ(outcome->error->code, "QUERY_LIMIT_EXCEEDED");
  EXPECT_EQ(outcome->error->description, "Too many requests");
  EXPECT_EQ(outcome->error->http_status, 503);
}

TEST(ParseCallResponseTest, EmptyErrorCodeIsStillAnError) {
  auto outcome = ParseCallResponse(
      Answer(400, R"({"error": "", "error_description": "Not found"})"));
  ASSERT_TRUE(outcome.ok()) << outcome.status();
  ASSERT_TRUE(outcome->error.has_value());
  EXPECT_EQ(outcome->error->code, "");
  EXPECT_EQ(outcome->error->description, "Not found");
  EXPECT_EQ(outcome->error->http_status, 400);
}

TEST(ParseCallResponseTest, ErrorInside200Body) {
  auto outcome = ParseCallResponse(Answer(
      200,
      R"({"error": "ACCESS_DENIED", "error_description": "Access denied."})"));
  ASSERT_TRUE(outcome.ok()) << outcome.status();
  ASSERT_TRUE(outcome->error.has_value());
  EXPECT_EQ(outcome->error->code, "ACCESS_DENIED");
  EXPECT_EQ(outcome->error->http_status, 200);
}

TEST(ParseCallResponseTest, ErrorWithoutDescription) {
  auto outcome =
      ParseCallResponse(Answer(401, R"({"error": "expired_token"})"));
  ASSERT_TRUE(outcome.ok()) << outcome.status();
  EXPECT_EQ(outcome->error->code, "expired_token");
  EXPECT_EQ(outcome->error->description, "");
}

TEST(ParseCallResponseTest, NullErrorNextToResultIsSuccess) {
  auto outcome =
      ParseCallResponse(Answer(200, R"({"result": 5, "error": null})"));
  ASSERT_TRUE(outcome.ok()) << outcome.status();
  ASSERT_TRUE(outcome->reply.has_value());
  EXPECT_EQ(outcome->reply->result, 5);
}

TEST(ParseCallResponseTest, HtmlPageIsUnavailableWithStatusAndSnippet) {
  auto outcome = ParseCallResponse(Answer(
      502,
      "<html>\r\n<head><title>502 Bad Gateway</title></head>\r\n<body>\n"
      "<center><h1>502 Bad Gateway</h1></center>\n<hr><center>nginx</center>"
      "\n</body>\n</html>\n" +
          std::string(500, 'x')));
  ASSERT_FALSE(outcome.ok());
  EXPECT_EQ(outcome.status().code(), absl::StatusCode::kUnavailable);
  std::string message(outcome.status().message());
  EXPECT_THAT(message, HasSubstr("HTTP 502"));
  EXPECT_THAT(message, HasSubstr("not JSON"));
  EXPECT_THAT(message, HasSubstr("<html> <head><title>502 Bad Gateway"));
  EXPECT_THAT(message, Not(HasSubstr("\n")));
  EXPECT_THAT(message, Not(HasSubstr("\r")));
  EXPECT_LT(message.size(), 250u);
}

TEST(ParseCallResponseTest, SnippetNeverSplitsUtf8) {
  std::string body;
  for (int i = 0; i < 200; ++i) body += "ж";  // two bytes each
  auto outcome = ParseCallResponse(Answer(500, "x" + body));
  ASSERT_FALSE(outcome.ok());
  std::string message(outcome.status().message());
  EXPECT_THAT(message, HasSubstr("жж...\""));
  // Valid UTF-8 ends each 2-byte sequence before the closing "...".
  size_t dots = message.rfind("...");
  EXPECT_EQ(static_cast<unsigned char>(message[dots - 2]), 0xD0);
}

TEST(ParseCallResponseTest, SnippetShowsBytesThatAreNotUtf8AsQuestionMarks) {
  // Stray continuation bytes, an overlong '/', a surrogate, a cut sequence:
  // the message goes into proto3 strings, which must be UTF-8.
  std::string body = "x\x80\x80\xC0\xAF\xED\xA0\x80ok\xE2\x82";
  auto outcome = ParseCallResponse(Answer(502, body + "." + std::string(10000, '\x80')));
  ASSERT_FALSE(outcome.ok());
  std::string message(outcome.status().message());
  EXPECT_THAT(message, HasSubstr("body \"x???????ok??.???"));
  EXPECT_LT(message.size(), 250u);  // a long tail of continuation bytes stays cut
}

TEST(ParseCallResponseTest, EmptyBodyIsUnavailable) {
  auto outcome = ParseCallResponse(Answer(504, ""));
  ASSERT_FALSE(outcome.ok());
  EXPECT_EQ(outcome.status().code(), absl::StatusCode::kUnavailable);
  EXPECT_THAT(outcome.status().message(), HasSubstr("HTTP 504"));
  EXPECT_THAT(outcome.status().message(), HasSubstr("empty body"));
}

TEST(ParseCallResponseTest, TruncatedJsonIsUnavailable) {
  auto outcome =
      ParseCallResponse(Answer(200, R"({"result": [{"ID": "1"}, {"ID)"));
  ASSERT_FALSE(outcome.ok());
  EXPECT_EQ(outcome.status().code(), absl::StatusCode::kUnavailable);
  EXPECT_THAT(outcome.status().message(), HasSubstr("HTTP 200"));
}

TEST(ParseCallResponseTest, JsonWithoutResultOrErrorIsUnavailable) {
  auto outcome = ParseCallResponse(Answer(200, R"({"status": "ok"})"));
  ASSERT_FALSE(outcome.ok());
  EXPECT_EQ(outcome.status().code(), absl::StatusCode::kUnavailable);
  EXPECT_THAT(outcome.status().message(), HasSubstr("neither"));
}

TEST(ParseCallResponseTest, JsonListIsUnavailable) {
  auto outcome = ParseCallResponse(Answer(200, "[1, 2]"));
  ASSERT_FALSE(outcome.ok());
  EXPECT_EQ(outcome.status().code(), absl::StatusCode::kUnavailable);
}

TEST(ParseCallResponseTest, TransportFailureIsUnavailableWithItsMessage) {
  HttpResponse response;
  response.failure = TransportFailure::kNotSent;
  response.failure_message = "Couldn't connect to server";
  auto outcome = ParseCallResponse(response);
  ASSERT_FALSE(outcome.ok());
  EXPECT_EQ(outcome.status().code(), absl::StatusCode::kUnavailable);
  EXPECT_THAT(outcome.status().message(),
              HasSubstr("Couldn't connect to server"));
  EXPECT_THAT(outcome.status().message(), HasSubstr("before sending"));
}

// ---- Answers a portal should never send ----------------------------------

// {"result": [[[...1...]]]} with `levels` lists (or objects) in the result.
std::string Nested(int levels, bool objects) {
  std::string open = objects ? "{\"a\":" : "[";
  std::string close = objects ? "}" : "]";
  std::string text = "{\"result\":";
  for (int i = 0; i < levels; ++i) text += open;
  text += "1";
  for (int i = 0; i < levels; ++i) text += close;
  return text + "}";
}

TEST(PortalAnswerLimitsTest, DeepNestingIsABadResponseNotACrash) {
  for (bool objects : {false, true}) {
    for (int levels : {33, 5000, 30000, 200000}) {
      auto outcome = ParseCallResponse(Answer(200, Nested(levels, objects)));
      ASSERT_FALSE(outcome.ok()) << levels;
      EXPECT_EQ(outcome.status().code(), absl::StatusCode::kUnavailable);
      EXPECT_EQ(ReasonOf(outcome.status()), "BAD_RESPONSE");
      EXPECT_THAT(outcome.status().message(), HasSubstr("nested deeper than 32 levels"));
      EXPECT_LE(outcome.status().message().size(), 300u);
      auto batch = ParseBatchResponse(
          Answer(200, "{\"result\":{\"result\":{\"c0\":" + Nested(levels, objects) + "}}}"),
          {"c0"});
      ASSERT_FALSE(batch.ok());
      EXPECT_EQ(ReasonOf(batch.status()), "BAD_RESPONSE");
    }
  }
}

TEST(PortalAnswerLimitsTest, DepthLimitCountsTheBodyAsLevelOne) {
  // The body is level 1, so the result may hold 31 levels.
  auto deepest = ParseCallResponse(Answer(200, Nested(31, true)));
  ASSERT_TRUE(deepest.ok()) << deepest.status();
  EXPECT_EQ(deepest->reply->result.dump().size(), 31 * 6 + 1);
  EXPECT_FALSE(ParseCallResponse(Answer(200, Nested(32, false))).ok());
}

TEST(PortalAnswerLimitsTest, IntegersBeyondTwoToThe53AreKeptAsExactText) {
  auto outcome = ParseCallResponse(Answer(200, R"({"result": {
      "big": 99999999999999999999, "negative": -99999999999999999999,
      "u64": 18446744073709551615, "i64": -9007199254740993,
      "edge": 9007199254740992, "float": 1.5e300, "small": -42}})"));
  ASSERT_TRUE(outcome.ok()) << outcome.status();
  const json& r = outcome->reply->result;
  EXPECT_EQ(r["big"], "99999999999999999999");
  EXPECT_EQ(r["negative"], "-99999999999999999999");
  EXPECT_EQ(r["u64"], "18446744073709551615");
  EXPECT_EQ(r["i64"], "-9007199254740993");
  EXPECT_EQ(r["edge"], 9007199254740992);  // 2^53 itself is exact
  EXPECT_EQ(r["float"], 1.5e300);
  EXPECT_EQ(r["small"], -42);
}

// The reader builds each object and list whole when it closes; the tree is
// the one nlohmann's own parser builds: every member in its place, every
// kind of value, lists of objects, empty containers, escapes.
TEST(ReadAnswerJsonTest, BuildsTheSameTreeAsNlohmannsParser) {
  const std::string text = R"({"result":{"result":{"p0":[{"ID":"1","TITLE":"a\u00e9\"b"},
      {"ID":"3","TITLE":"c","EMAIL":[{"VALUE":"x@y","TYPE":"WORK"}],"N":null}],
      "p1":[],"p2":{}},"result_error":[],"result_total":{"p0":"2"},
      "result_next":{"p0":50},"result_time":{"p0":{"start":1.5,"ok":true,"no":false}}},
      "time":{"start":-0.25,"list":[[1,[2,[]]],{"z":{"y":{}}},-7]}})";
  absl::StatusOr<json> read = ReadAnswerJson(text);
  ASSERT_TRUE(read.ok()) << read.status();
  const json expected = json::parse(text);
  EXPECT_EQ(*read, expected);
  EXPECT_EQ(read->dump(), expected.dump());  // the members' order too
}

// A name repeated in an object keeps its first place and takes its last
// value, as with nlohmann's parser (the tree before this reader).
TEST(ReadAnswerJsonTest, ARepeatedNameKeepsItsFirstPlaceAndItsLastValue) {
  absl::StatusOr<json> read = ReadAnswerJson(R"({"a":1,"b":{"x":1},"a":[2],"c":3,"b":4})");
  ASSERT_TRUE(read.ok()) << read.status();
  EXPECT_EQ(read->dump(), R"({"a":[2],"b":4,"c":3})");
}

TEST(ReadAnswerJsonTest, AScalarOrAnEmptyContainerIsTheWholeTree) {
  EXPECT_EQ(ReadAnswerJson("\"text\"").value(), json("text"));
  EXPECT_EQ(ReadAnswerJson(" 12 ").value(), json(12));
  EXPECT_EQ(ReadAnswerJson("null").value(), json(nullptr));
  EXPECT_EQ(ReadAnswerJson("[]").value().dump(), "[]");
  EXPECT_EQ(ReadAnswerJson("{}").value().dump(), "{}");
}

TEST(ReadAnswerJsonTest, TextAfterTheValueOrAnUnclosedContainerIsNotJson) {
  for (const char* text : {R"({"a":1} x)", R"({"a":[1,2)", R"([{"a":1},)", R"({"a" 1})", ""}) {
    absl::StatusOr<json> read = ReadAnswerJson(text);
    ASSERT_FALSE(read.ok()) << text;
    EXPECT_EQ(ReasonOf(read.status()), kReasonBadResponse) << text;
    EXPECT_THAT(read.status().message(), HasSubstr("not JSON")) << text;
  }
}

// The refusal quotes the count: without DEL or other control characters,
// and cut at a character boundary (the status must be valid UTF-8).
TEST(PortalAnswerLimitsTest, ARefusedCountIsQuotedPrintably) {
  std::string zhe;  // seven two-byte letters: the old 40-byte cut fell inside one
  for (int i = 0; i < 7; ++i) zhe += "\xd0\xb6";
  const std::string body =
      "{\"result\": [], \"total\": \"\x7f\x7f" "350" + std::string(21, 'x') + zhe + "\"}";
  auto outcome = ParseCallResponse(Answer(200, body));
  ASSERT_FALSE(outcome.ok());
  const std::string message(outcome.status().message());
  for (char c : message) {
    EXPECT_TRUE(static_cast<unsigned char>(c) >= 0x20 && c != 0x7f) << static_cast<int>(c);
  }
  EXPECT_EQ(FindInvalidUtf8(message), std::string::npos);
  EXPECT_NE(message.find("350xxx"), std::string::npos) << message;
}

TEST(PortalAnswerLimitsTest, CountsThatAreNotWholeNumbersAreRefusedNotDropped) {
  for (const char* body : {R"({"result": [], "total": 99999999999999999999})",
                           R"({"result": [], "total": 18446744073709551615})",
                           R"({"result": [], "next": 1.5})",
                           R"({"result": [], "next": "fifty"})",
                           R"({"result": [], "total": {"n": 1}})"}) {
    auto outcome = ParseCallResponse(Answer(200, body));
    ASSERT_FALSE(outcome.ok()) << body;
    EXPECT_EQ(ReasonOf(outcome.status()), "BAD_RESPONSE") << body;
  }
  auto batch = ParseBatchResponse(Answer(200, R"({"result": {"result": {"c0": []},
      "result_total": {"c0": 99999999999999999999}}})"),
                                  {"c0"});
  ASSERT_FALSE(batch.ok());
  EXPECT_EQ(ReasonOf(batch.status()), "BAD_RESPONSE");
  // The largest 64-bit count and a null one are fine.
  auto fine = ParseCallResponse(
      Answer(200, R"({"result": [], "total": 9223372036854775807, "next": null})"));
  ASSERT_TRUE(fine.ok()) << fine.status();
  EXPECT_EQ(fine->reply->total, INT64_MAX);
  EXPECT_FALSE(fine->reply->next.has_value());
}

TEST(PortalAnswerLimitsTest, AnAnswerCutShortIsABadResponseAndATimeoutATransportError) {
  HttpResponse cut;
  cut.failure = TransportFailure::kBadAnswer;
  cut.failure_message = "curl error 18: transfer closed with 10 bytes remaining";
  auto outcome = ParseCallResponse(cut);
  ASSERT_FALSE(outcome.ok());
  EXPECT_EQ(outcome.status().code(), absl::StatusCode::kUnavailable);
  EXPECT_EQ(ReasonOf(outcome.status()), "BAD_RESPONSE");
  EXPECT_THAT(outcome.status().message(), HasSubstr("10 bytes remaining"));

  HttpResponse late;
  late.failure = TransportFailure::kAfterSend;
  late.failure_message = "curl error 28: timed out";
  auto batch = ParseBatchResponse(late, {"c0"});
  ASSERT_FALSE(batch.ok());
  EXPECT_EQ(ReasonOf(batch.status()), "TRANSPORT_ERROR");
  EXPECT_THAT(batch.status().message(), HasSubstr("after sending"));
}

TEST(PortalAnswerLimitsTest, ANonJsonPageIsABadResponse) {
  auto outcome = ParseCallResponse(Answer(502, "<html>Bad Gateway</html>"));
  ASSERT_FALSE(outcome.ok());
  EXPECT_EQ(ReasonOf(outcome.status()), "BAD_RESPONSE");
}

TEST(PortalAnswerLimitsTest, A4xxPageProvesTheRequestWasNotRun) {
  auto too_long = ParseCallResponse(Answer(414, "<html>414 Request-URI Too Large</html>"));
  ASSERT_FALSE(too_long.ok());
  EXPECT_EQ(too_long.status().code(), absl::StatusCode::kInvalidArgument);
  EXPECT_EQ(ReasonOf(too_long.status()), "NOT_EXECUTED");
  EXPECT_THAT(too_long.status().message(), HasSubstr("HTTP 414"));
  auto busy = ParseBatchResponse(Answer(429, "Too Many Requests"), {"c0"});
  ASSERT_FALSE(busy.ok());
  EXPECT_EQ(busy.status().code(), absl::StatusCode::kUnavailable) << "transient: may go again";
  EXPECT_EQ(ReasonOf(busy.status()), "NOT_EXECUTED");
  // Bitrix24's own 4xx errors are JSON and stay errors.
  auto own = ParseCallResponse(Answer(400, R"({"error": "", "error_description": "Not found"})"));
  ASSERT_TRUE(own.ok());
  EXPECT_TRUE(own->error.has_value());
}

// ---- ParseBatchResponse ---------------------------------------------------

const std::vector<std::string> kThreeKeys = {"c0", "c1", "c2"};

TEST(ParseBatchResponseTest, ObjectMapsGiveEachKeyItsOutcome) {
  auto reply = ParseBatchResponse(Answer(200, R"({"result": {
      "result": {"c0": [{"ID": "1"}], "c1": 17, "c2": true},
      "result_error": [],
      "result_total": {"c0": 120},
      "result_next": {"c0": 50},
      "result_time": {"c0": {"operating": 1.5}, "c1": {"operating": 0.1}}},
    "time": {"start": 1.0, "duration": 0.2}})"),
                                  kThreeKeys);
  ASSERT_TRUE(reply.ok()) << reply.status();
  EXPECT_FALSE(reply->batch_error.has_value());
  ASSERT_EQ(reply->outcomes.size(), 3u);
  const CallReply& c0 = *reply->outcomes.at("c0").reply;
  EXPECT_EQ(c0.result, json::parse(R"([{"ID": "1"}])"));
  EXPECT_EQ(c0.total, 120);
  EXPECT_EQ(c0.next, 50);
  EXPECT_EQ(c0.time["operating"], 1.5);
  const CallReply& c1 = *reply->outcomes.at("c1").reply;
  EXPECT_EQ(c1.result, 17);
  EXPECT_FALSE(c1.total.has_value());
  EXPECT_FALSE(c1.next.has_value());
  EXPECT_TRUE(reply->outcomes.at("c2").reply->time.is_null());
  EXPECT_EQ(reply->time["duration"], 0.2);
  EXPECT_TRUE(reply->unattributed_errors.empty());
}

TEST(ParseBatchResponseTest, EmptyMapsWrittenAsListsAndTotalAsString) {
  auto reply = ParseBatchResponse(Answer(200, R"({"result": {
      "result": {"c0": []}, "result_error": [], "result_total": {"c0": "0"},
      "result_next": [], "result_time": []}})"),
                                  {"c0"});
  ASSERT_TRUE(reply.ok()) << reply.status();
  const CallReply& c0 = *reply->outcomes.at("c0").reply;
  EXPECT_EQ(c0.result, json::array());
  EXPECT_EQ(c0.total, 0);
  EXPECT_FALSE(c0.next.has_value());
  EXPECT_TRUE(c0.time.is_null());
  EXPECT_TRUE(reply->time.is_null());
}

TEST(ParseBatchResponseTest, ErrorEntriesAsObjectsAndStrings) {
  auto reply = ParseBatchResponse(Answer(200, R"({"result": {
      "result": {"c0": 1},
      "result_error": {"c1": {"error": "", "error_description": "Not found"},
                       "c2": "ERROR_METHOD_NOT_FOUND"}}})"),
                                  kThreeKeys);
  ASSERT_TRUE(reply.ok()) << reply.status();
  const B24Error& c1 = *reply->outcomes.at("c1").error;
  EXPECT_EQ(c1.code, "");
  EXPECT_EQ(c1.description, "Not found");
  EXPECT_EQ(c1.http_status, 200);
  const B24Error& c2 = *reply->outcomes.at("c2").error;
  EXPECT_EQ(c2.code, "ERROR_METHOD_NOT_FOUND");
  EXPECT_FALSE(reply->outcomes.at("c0").error.has_value());
}

TEST(ParseBatchResponseTest, PlainStringErrorThatIsNotACodeIsADescription) {
  auto reply = ParseBatchResponse(Answer(200, R"({"result": {
      "result": [], "result_error": {"c0": "ID is not defined or invalid."}}})"),
                                  {"c0"});
  ASSERT_TRUE(reply.ok()) << reply.status();
  EXPECT_EQ(reply->outcomes.at("c0").error->code, "");
  EXPECT_EQ(reply->outcomes.at("c0").error->description,
            "ID is not defined or invalid.");
}

TEST(ParseBatchResponseTest, HaltLeavesLaterCommandsAbsent) {
  auto reply = ParseBatchResponse(Answer(200, R"({"result": {
      "result": {"c0": 1},
      "result_error": {"c1": {"error": "ERROR_CORE", "error_description": "x"}},
      "result_total": [], "result_next": [], "result_time": {"c0": {}}}})"),
                                  kThreeKeys);
  ASSERT_TRUE(reply.ok()) << reply.status();
  EXPECT_EQ(reply->outcomes.size(), 2u);
  EXPECT_TRUE(reply->outcomes.at("c0").reply.has_value());
  EXPECT_EQ(reply->outcomes.at("c1").error->code, "ERROR_CORE");
  EXPECT_EQ(reply->outcomes.count("c2"), 0u);
}

TEST(ParseBatchResponseTest, ErrorListWithLostKeysMapsOntoFailedCommands) {
  // The recorded real answer: result_error as a list, command keys lost.
  auto reply = ParseBatchResponse(Answer(200, R"({"result": {
      "result": {"c0": 1, "c2": 3},
      "result_error": [{"error": "E1", "error_description": "one"},
                       {"error": "E3", "error_description": "three"}]}})"),
                                  {"c0", "c1", "c2", "c3"});
  ASSERT_TRUE(reply.ok()) << reply.status();
  EXPECT_EQ(reply->outcomes.at("c1").error->code, "E1");
  EXPECT_EQ(reply->outcomes.at("c3").error->code, "E3");
  EXPECT_EQ(reply->outcomes.at("c2").reply->result, 3);
  EXPECT_TRUE(reply->unattributed_errors.empty());
}

TEST(ParseBatchResponseTest, SingleListedErrorAfterHaltGoesToFirstFailure) {
  auto reply = ParseBatchResponse(Answer(200, R"({"result": {
      "result": {"c0": 1}, "result_error": [{"error": "E1"}]}})"),
                                  kThreeKeys);
  ASSERT_TRUE(reply.ok()) << reply.status();
  EXPECT_EQ(reply->outcomes.at("c1").error->code, "E1");
  EXPECT_EQ(reply->outcomes.count("c2"), 0u);
}

TEST(ParseBatchResponseTest, AmbiguousErrorListIsUnattributed) {
  // Two commands lack a result, one error is listed, and a later command
  // succeeded, so halt cannot explain it: no guess.
  auto reply = ParseBatchResponse(Answer(200, R"({"result": {
      "result": {"c0": 1, "c2": 3}, "result_error": [{"error": "E"}]}})"),
                                  {"c0", "c1", "c2", "c3"});
  ASSERT_TRUE(reply.ok()) << reply.status();
  EXPECT_EQ(reply->outcomes.size(), 2u);
  EXPECT_EQ(reply->outcomes.count("c1"), 0u);
  EXPECT_EQ(reply->outcomes.count("c3"), 0u);
  ASSERT_EQ(reply->unattributed_errors.size(), 1u);
  EXPECT_EQ(reply->unattributed_errors[0].code, "E");
}

TEST(ParseBatchResponseTest, ResultListOfFullLengthIsPositional) {
  auto reply = ParseBatchResponse(Answer(200, R"({"result": {
      "result": ["r0", "r1"], "result_total": [10, 20]}})"),
                                  {"c0", "c1"});
  ASSERT_TRUE(reply.ok()) << reply.status();
  EXPECT_EQ(reply->outcomes.at("c0").reply->result, "r0");
  EXPECT_EQ(reply->outcomes.at("c1").reply->result, "r1");
  EXPECT_EQ(reply->outcomes.at("c1").reply->total, 20);
}

TEST(ParseBatchResponseTest, ResultListOfOtherLengthIsNotAttributed) {
  auto reply = ParseBatchResponse(Answer(200, R"({"result": {
      "result": ["r0", "r1"], "result_error": [{"error": "E"}]}})"),
                                  kThreeKeys);
  ASSERT_TRUE(reply.ok()) << reply.status();
  EXPECT_TRUE(reply->outcomes.empty());
  EXPECT_EQ(reply->unattributed_errors.size(), 1u);
}

TEST(ParseBatchResponseTest, NumericKeysAreReadByNameFromLists) {
  // PHP turned {"0": .., "1": ..} into a list; "2" failed.
  auto reply = ParseBatchResponse(Answer(200, R"({"result": {
      "result": ["r0", "r1"], "result_total": [5, 6],
      "result_error": {"2": {"error": "E2"}}}})"),
                                  {"0", "1", "2"});
  ASSERT_TRUE(reply.ok()) << reply.status();
  EXPECT_EQ(reply->outcomes.at("0").reply->result, "r0");
  EXPECT_EQ(reply->outcomes.at("1").reply->total, 6);
  EXPECT_EQ(reply->outcomes.at("2").error->code, "E2");
}

TEST(ParseBatchResponseTest, NumericKeyErrorListCollidingWithAResult) {
  // Key "0" has a result, so the listed error cannot be "0"'s: it belongs to
  // the only command without a result.
  auto reply = ParseBatchResponse(Answer(200, R"({"result": {
      "result": ["r0"], "result_error": [{"error": "E1"}]}})"),
                                  {"0", "1"});
  ASSERT_TRUE(reply.ok()) << reply.status();
  EXPECT_EQ(reply->outcomes.at("0").reply->result, "r0");
  EXPECT_EQ(reply->outcomes.at("1").error->code, "E1");
}

TEST(ParseBatchResponseTest, NullResultIsAReply) {
  auto reply = ParseBatchResponse(
      Answer(200, R"({"result": {"result": {"c0": null}}})"), {"c0"});
  ASSERT_TRUE(reply.ok()) << reply.status();
  ASSERT_TRUE(reply->outcomes.at("c0").reply.has_value());
  EXPECT_TRUE(reply->outcomes.at("c0").reply->result.is_null());
}

TEST(ParseBatchResponseTest, TopLevelErrorIsBatchError) {
  auto reply = ParseBatchResponse(Answer(401, R"({"error": "expired_token",
      "error_description": "The access token provided has expired."})"),
                                  kThreeKeys);
  ASSERT_TRUE(reply.ok()) << reply.status();
  ASSERT_TRUE(reply->batch_error.has_value());
  EXPECT_EQ(reply->batch_error->code, "expired_token");
  EXPECT_EQ(reply->batch_error->http_status, 401);
  EXPECT_TRUE(reply->outcomes.empty());
}

TEST(ParseBatchResponseTest, HtmlPageIsUnavailable) {
  auto reply = ParseBatchResponse(
      Answer(502, "<html><body>Bad Gateway</body></html>"), kThreeKeys);
  ASSERT_FALSE(reply.ok());
  EXPECT_EQ(reply.status().code(), absl::StatusCode::kUnavailable);
  EXPECT_THAT(reply.status().message(), HasSubstr("HTTP 502"));
}

TEST(ParseBatchResponseTest, PlainCallShapeIsUnavailable) {
  auto reply =
      ParseBatchResponse(Answer(200, R"({"result": [1, 2]})"), kThreeKeys);
  ASSERT_FALSE(reply.ok());
  EXPECT_EQ(reply.status().code(), absl::StatusCode::kUnavailable);
  EXPECT_THAT(reply.status().message(), HasSubstr("not a batch answer"));
}

TEST(ParseBatchResponseTest, TransportFailureIsUnavailable) {
  HttpResponse response;
  response.failure = TransportFailure::kAfterSend;
  response.failure_message = "Timeout was reached";
  auto reply = ParseBatchResponse(response, kThreeKeys);
  ASSERT_FALSE(reply.ok());
  EXPECT_EQ(reply.status().code(), absl::StatusCode::kUnavailable);
  EXPECT_THAT(reply.status().message(), HasSubstr("after sending"));
}

}  // namespace
}  // namespace b24gate::bitrix_response_test
