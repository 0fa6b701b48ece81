// REST 3.0 calls through the portal dispatcher, against a hand-answered
// transport: where they go and what they carry, and the rule that makes
// writes exactly-once — a REST 3.0 write whose outcome is unknown is sent
// again with the same Idempotency-Key (the portal replays its first answer),
// while classic writes are never repeated (portal_test.cc).
#include <atomic>
#include <thread>

#include <gtest/gtest.h>

#include "absl/strings/match.h"
#include "absl/synchronization/notification.h"
#include "engine/common/errors.h"
#include "tests/engine/fake_transport.h"
#include "tests/engine/portal/portal_harness.h"

namespace b24gate::portal_v3_test {
namespace {

PortalOptions Options() {
  PortalOptions o = QuickPortalOptions();
  o.max_attempts = 3;
  return o;
}

const absl::Duration kPastBackoff = absl::Seconds(1);

CallOptions V3(std::string key = "") {
  CallOptions o;
  o.api = RestApi::kV3;
  o.idempotency_key = std::move(key);
  return o;
}

std::string KeyOf(const HttpRequest& r) {
  for (const auto& [name, value] : r.headers) {
    if (name == "Idempotency-Key") return value;
  }
  return "";
}

const nlohmann::ordered_json kAdd = {{"fields", {{"title", "t"}, {"creatorId", 1}}}};

TEST(PortalV3, AWriteGoesAloneToRestApiWithAKey) {
  PortalHarness h(Options());
  Outcome out;
  h.portal->Call("tasks.task.add", kAdd, false, V3(), out.Callback());
  auto e = h.transport.Next();
  ASSERT_TRUE(e);
  EXPECT_EQ(e->request.url, "https://portal.example/rest/api/1/secret/tasks.task.add");
  EXPECT_EQ(nlohmann::ordered_json::parse(e->request.body), kAdd);
  EXPECT_TRUE(absl::StartsWith(KeyOf(e->request), "b24gate-")) << KeyOf(e->request);
  e->done(ResultAnswer({{"item", {{"id", 5}}}}));
  ASSERT_TRUE(out.Wait());
  ASSERT_TRUE(out.reply.ok()) << out.reply.status();
  EXPECT_EQ(out.reply->result["item"]["id"], 5);
}

TEST(PortalV3, AReadCarriesNoKeyAndTheCallersKeyIsSentAsGiven) {
  PortalHarness h(Options());
  Outcome read, write;
  h.portal->Call("tasks.task.get", {{"id", 1}}, false, V3(), read.Callback());
  auto e = h.transport.Next();
  ASSERT_TRUE(e);
  EXPECT_EQ(KeyOf(e->request), "");
  e->done(ResultAnswer({{"item", {{"id", 1}}}}));
  h.portal->Call("tasks.task.add", kAdd, false, V3("order-42"), write.Callback());
  auto w = h.transport.Next();
  ASSERT_TRUE(w);
  EXPECT_EQ(KeyOf(w->request), "order-42");
  w->done(ResultAnswer({{"item", {{"id", 2}}}}));
  EXPECT_TRUE(read.Wait());
  EXPECT_TRUE(write.Wait());
}

TEST(PortalV3, GroupedCallsCarryTheirOwnKeysOrOnesThePortalMakes) {
  PortalHarness h(Options());
  Outcome a, b;
  std::vector<GroupedCall> calls;
  calls.push_back({kAdd, a.Callback(), "caller-1"});
  calls.push_back({kAdd, b.Callback(), ""});
  h.portal->Calls("tasks.task.add", std::move(calls), false, V3());
  std::vector<std::string> keys;
  for (int i = 0; i < 2; ++i) {
    auto e = h.transport.Next();
    ASSERT_TRUE(e);
    keys.push_back(KeyOf(e->request));
    e->done(ResultAnswer({{"item", {{"id", i}}}}));
  }
  EXPECT_EQ(keys[0], "caller-1");
  EXPECT_TRUE(absl::StartsWith(keys[1], "b24gate-")) << keys[1];
  EXPECT_TRUE(a.Wait());
  EXPECT_TRUE(b.Wait());
}

TEST(PortalV3, ABatchGoesToRestApiBatchAndEachKeyGetsItsResult) {
  PortalHarness h(Options());
  absl::Notification done;
  absl::StatusOr<BatchResult> result;
  h.portal->Batch({{"made", "tasks.task.add", kAdd},
                   {"got", "tasks.task.get", {{"id", {{"$ref", "made.id"}}}}}},
                  false, V3(), [&](absl::StatusOr<BatchResult> r) {
                    result = std::move(r);
                    done.Notify();
                  });
  auto e = h.transport.Next();
  ASSERT_TRUE(e);
  EXPECT_EQ(e->request.url, "https://portal.example/rest/api/1/secret/batch");
  EXPECT_EQ(KeyOf(e->request), "");
  const auto body = nlohmann::ordered_json::parse(e->request.body);
  ASSERT_TRUE(body.is_array());
  EXPECT_EQ(body[1]["as"], "got");
  e->done(ResultAnswer(nlohmann::ordered_json::array({{{"item", {{"id", 7}}}},
                                                      {{"item", {{"id", 7}}}}})));
  done.WaitForNotification();
  ASSERT_TRUE(result.ok()) << result.status();
  ASSERT_EQ(result->outcomes.size(), 2u);
  EXPECT_EQ(result->outcomes["got"]->result["item"]["id"], 7);
}

TEST(PortalV3, AWriteWithUnknownOutcomeIsSentAgainWithTheSameKey) {
  for (auto response : {ErrorAnswer(500, "INTERNAL_SERVER_ERROR"),
                        FakeTransport::Failure(TransportFailure::kAfterSend),
                        FakeTransport::Json(504, "<html>Gateway Timeout</html>")}) {
    PortalHarness h(Options());
    Outcome out;
    h.portal->Call("tasks.task.add", kAdd, false, V3(), out.Callback());
    auto first = h.transport.Next();
    ASSERT_TRUE(first);
    const std::string key = KeyOf(first->request);
    const std::string body = first->request.body;
    first->done(response);
    h.clock.Advance(kPastBackoff);
    auto again = h.transport.Next();
    ASSERT_TRUE(again) << "the write was not sent again";
    EXPECT_EQ(KeyOf(again->request), key);
    EXPECT_EQ(again->request.body, body);
    HttpResponse replay = ResultAnswer({{"item", {{"id", 9}}}});
    replay.headers["idempotent-replayed"] = "true";
    again->done(replay);
    ASSERT_TRUE(out.Wait());
    ASSERT_TRUE(out.reply.ok()) << out.reply.status();
    EXPECT_EQ(out.reply->result["item"]["id"], 9);
    EXPECT_EQ(h.portal->Stats().retries, 1);
    EXPECT_EQ(h.portal->Stats().outcome_unknown, 0);
  }
}

TEST(PortalV3, AKeyedWriteOutOfAttemptsIsOutcomeUnknown) {
  PortalHarness h(Options());
  Outcome out;
  h.portal->Call("tasks.task.add", kAdd, false, V3(), out.Callback());
  for (int i = 0; i < 3; ++i) {
    auto e = h.transport.Next();
    ASSERT_TRUE(e) << "attempt " << i;
    e->done(FakeTransport::Failure(TransportFailure::kAfterSend));
    h.clock.Advance(kPastBackoff);
  }
  ASSERT_TRUE(out.Wait());
  EXPECT_EQ(ReasonOf(out.reply.status()), kReasonOutcomeUnknown);
  ASSERT_TRUE(h.Idle());
  EXPECT_EQ(h.transport.sent(), 3);
}

TEST(PortalV3, ValidationErrorsKeepTheirFields) {
  PortalHarness h(Options());
  Outcome out;
  h.portal->Call("tasks.task.add", kAdd, false, V3(), out.Callback());
  auto e = h.transport.Next();
  ASSERT_TRUE(e);
  e->done(FakeTransport::Json(400, R"({"error":{"code":"BITRIX_REST_V3_EXCEPTION_VALIDATION_REQUESTVALIDATIONEXCEPTION","message":"Error validating the request object","validation":[{"field":"responsibleId","message":"Required field"}]}})"));
  ASSERT_TRUE(out.Wait());
  EXPECT_EQ(out.reply.status().code(), absl::StatusCode::kInvalidArgument);
  EXPECT_EQ(ReasonOf(out.reply.status()),
            "BITRIX_REST_V3_EXCEPTION_VALIDATION_REQUESTVALIDATIONEXCEPTION");
  std::vector<FieldViolation> v = FieldViolationsOf(out.reply.status());
  ASSERT_EQ(v.size(), 1u);
  EXPECT_EQ(v[0].field, "responsibleId");
  EXPECT_EQ(v[0].description, "Required field");
  ASSERT_TRUE(h.Idle());
  EXPECT_EQ(h.transport.sent(), 1);
}

TEST(PortalV3, OneKeyIsNeverInFlightTwice) {
  PortalHarness h(Options());
  Outcome first, second, later;
  h.portal->Call("tasks.task.add", kAdd, false, V3("k"), first.Callback());
  h.portal->Call("tasks.task.add", kAdd, false, V3("k"), second.Callback());
  ASSERT_TRUE(second.Wait());
  EXPECT_EQ(second.reply.status().code(), absl::StatusCode::kAborted);
  EXPECT_EQ(ReasonOf(second.reply.status()), kReasonNotExecuted);
  auto e = h.transport.Next();
  ASSERT_TRUE(e);
  e->done(ResultAnswer({{"item", {{"id", 1}}}}));
  ASSERT_TRUE(first.Wait());
  ASSERT_TRUE(h.Idle());
  EXPECT_EQ(h.transport.sent(), 1);
  // Once answered, the key is free again.
  h.portal->Call("tasks.task.add", kAdd, false, V3("k"), later.Callback());
  auto again = h.transport.Next();
  ASSERT_TRUE(again);
  again->done(ResultAnswer({{"item", {{"id", 1}}}}));
  EXPECT_TRUE(later.Wait());
}

// A Dispatcher never answers from inside Call: a caller (OrderedFanout)
// holds its own lock while it calls in, and takes it again in the callback.
TEST(PortalV3, ACallRefusedForItsKeyIsNotAnsweredInsideCall) {
  PortalHarness h(Options());
  Outcome first;
  h.portal->Call("tasks.task.add", kAdd, false, V3("k"), first.Callback());
  const std::thread::id caller = std::this_thread::get_id();
  std::atomic<bool> in_call{true};
  std::atomic<bool> answered_inside{false};
  absl::Notification answered;
  h.portal->Call("tasks.task.add", kAdd, false, V3("k"), [&](absl::StatusOr<CallReply> reply) {
    answered_inside = in_call && std::this_thread::get_id() == caller;
    EXPECT_EQ(reply.status().code(), absl::StatusCode::kAborted);
    answered.Notify();
  });
  in_call = false;
  ASSERT_TRUE(answered.WaitForNotificationWithTimeout(absl::Seconds(5)));
  EXPECT_FALSE(answered_inside);
  auto e = h.transport.Next();
  ASSERT_TRUE(e);
  e->done(ResultAnswer({{"item", {{"id", 1}}}}));
  ASSERT_TRUE(first.Wait());
}

TEST(PortalV3, AReusedKeyIsAFinalError) {
  PortalHarness h(Options());
  Outcome out;
  h.portal->Call("tasks.task.add", kAdd, false, V3("k"), out.Callback());
  auto e = h.transport.Next();
  ASSERT_TRUE(e);
  e->done(FakeTransport::Json(422, R"({"error":{"code":"BITRIX_REST_V3_EXCEPTION_IDEMPOTENCYKEYREUSEDEXCEPTION","message":"reused"}})"));
  ASSERT_TRUE(out.Wait());
  EXPECT_EQ(out.reply.status().code(), absl::StatusCode::kFailedPrecondition);
  ASSERT_TRUE(h.Idle());
  EXPECT_EQ(h.transport.sent(), 1);
}

}  // namespace
}  // namespace b24gate::portal_v3_test
