// The Gateway as the engine's one entry point: input is validated before
// anything is queued, GetById is expanded in id order, the unary bulk form is
// capped, and a planned CallBatch runs chunk after chunk with NOT_EXECUTED for
// what a halt or a failed request left unsent.
#include "engine/gateway/gateway.h"

#include <algorithm>
#include <memory>
#include <string>
#include <vector>

#include <gtest/gtest.h>

#include "absl/strings/match.h"
#include "absl/synchronization/notification.h"
#include "engine/common/clock.h"
#include "engine/common/errors.h"
#include "tests/support/fake_dispatcher.h"

namespace b24gate::gateway_test {
namespace {

using Json = nlohmann::ordered_json;

// A gateway in front of one fake portal, "main", on a clock nobody moves.
class GatewayTest : public ::testing::Test {
 protected:
  GatewayTest() {
    GatewayOptions options;
    options.limits.max_bulk_items = 10;
    gateway_ = std::make_unique<Gateway>(std::vector<Dispatcher*>{&portal_}, &clock_, options);
  }

  FakeClock clock_;
  FakeDispatcher portal_{"main"};
  std::unique_ptr<Gateway> gateway_;
};

// A sink that is never run in these tests.
class NoSink : public FanoutSink {
 public:
  void OnResults(size_t, std::vector<absl::StatusOr<CallReply>>) override {}
  void OnDone(absl::Status) override {}
};

BulkSpec Adds(int n) {
  BulkSpec bulk;
  bulk.method = "crm.lead.add";
  for (int i = 0; i < n; ++i) bulk.params.push_back({{"fields", {{"TITLE", std::to_string(i)}}}});
  return bulk;
}

TEST_F(GatewayTest, UnaryBulkAboveTheCapIsRefusedNamingCallMany) {
  NoSink sink;
  auto refused = gateway_->PrepareBulk(Adds(11), BulkForm::kUnary, {}, &sink);
  ASSERT_EQ(refused.status().code(), absl::StatusCode::kInvalidArgument);
  EXPECT_TRUE(absl::StrContains(refused.status().message(), "CallMany")) << refused.status();
  EXPECT_TRUE(absl::StrContains(refused.status().message(), "10")) << refused.status();
  EXPECT_TRUE(gateway_->PrepareBulk(Adds(10), BulkForm::kUnary, {}, &sink).ok());
  EXPECT_TRUE(gateway_->PrepareBulk(Adds(11), BulkForm::kStreaming, {}, &sink).ok());
  EXPECT_EQ(portal_.requests(), 0);
}

TEST_F(GatewayTest, BulkNamesTheFirstBadParameterSetAndField) {
  NoSink sink;
  BulkSpec bulk = Adds(5);
  bulk.params[3] = "text";
  bulk.params_field = "params_json";
  auto refused = gateway_->PrepareBulk(bulk, BulkForm::kStreaming, {}, &sink);
  EXPECT_EQ(refused.status().code(), absl::StatusCode::kInvalidArgument);
  EXPECT_TRUE(absl::StrContains(refused.status().message(), "params_json[3]")) << refused.status();
  EXPECT_EQ(gateway_->PrepareBulk(Adds(0), BulkForm::kStreaming, {}, &sink).status().code(),
            absl::StatusCode::kInvalidArgument);
}

TEST_F(GatewayTest, UnknownPortalIsNotFoundBeforeAnythingIsSent) {
  absl::Notification done;
  absl::Status status;
  CallSpec call;
  call.portal = "nope";
  call.method = "crm.lead.list";
  gateway_->Call(call, {}, [&](absl::StatusOr<CallReply> r) {
    status = r.status();
    done.Notify();
  });
  ASSERT_TRUE(done.HasBeenNotified());
  EXPECT_EQ(status.code(), absl::StatusCode::kNotFound);
  EXPECT_EQ(ReasonOf(status), kReasonUnknownPortal);
  EXPECT_EQ(portal_.requests(), 0);
}

TEST(GetById, ExpandsEachIdIntoTheIdFieldKeepingParamOrder) {
  GetByIdSpec request;
  request.method = "tasks.task.get";
  request.ids = {3, "7", 3};
  request.id_field = "taskId";
  request.params = Json::parse(R"({"select":["ID","TITLE"],"order":{"B":"ASC","A":"DESC"}})");
  auto calls = ExpandGetById(request);
  ASSERT_TRUE(calls.ok()) << calls.status();
  ASSERT_EQ(calls->size(), 3u);
  EXPECT_EQ((*calls)[0].dump(), R"({"select":["ID","TITLE"],"order":{"B":"ASC","A":"DESC"},"taskId":3})");
  EXPECT_EQ((*calls)[1]["taskId"], "7");
  EXPECT_EQ((*calls)[2]["taskId"], 3);
}

TEST(GetById, RefusesBadIdsAndAnIdAlreadyInParams) {
  GetByIdSpec request;
  request.method = "crm.deal.get";
  EXPECT_EQ(ExpandGetById(request).status().code(), absl::StatusCode::kInvalidArgument);
  request.ids = {1, ""};
  auto empty_id = ExpandGetById(request);
  EXPECT_TRUE(absl::StrContains(empty_id.status().message(), "ids[1]")) << empty_id.status();
  request.ids = {1};
  request.params = {{"ID", 5}};
  auto twice = ExpandGetById(request);
  EXPECT_TRUE(absl::StrContains(twice.status().message(), "params.ID")) << twice.status();
  request.params = Json::object();
  request.method = "batch";
  EXPECT_EQ(ExpandGetById(request).status().code(), absl::StatusCode::kInvalidArgument);
}

TEST(GetById, IdsAreWholeNumbersFromOneTo2Pow53OrStrings) {
  GetByIdSpec request;
  request.method = "crm.deal.get";
  for (const Json& bad : {Json(1.5), Json(1e20), Json(-1), Json(0), Json(uint64_t{1} << 54)}) {
    request.ids = {7, bad};
    auto refused = ExpandGetById(request);
    EXPECT_EQ(refused.status().code(), absl::StatusCode::kInvalidArgument) << bad.dump();
    EXPECT_TRUE(absl::StrContains(refused.status().message(), "ids[1]: ")) << refused.status();
  }
  request.ids = {1, Json(uint64_t{1} << 53), "C_42"};
  EXPECT_TRUE(ExpandGetById(request).ok());
}

class NoListSink : public ListSink {
 public:
  void OnPage(ListPage) override {}
  void OnDone(absl::Status, ListSummary) override {}
};

// GetAll and GetById would run a write once per page or id, and again after
// each fault: a method not known as a read needs the caller's word.
TEST_F(GatewayTest, ListAndIdReadsRefuseWritesUnlessVouchedFor) {
  NoSink sink;
  NoListSink list_sink;
  for (const char* method : {"crm.lead.add", "crm.lead.delete", "some.custom.method"}) {
    GetByIdSpec ids;
    ids.method = method;
    ids.ids = {1};
    auto refused = gateway_->PrepareGetById(ids, {}, &sink);
    EXPECT_EQ(refused.status().code(), absl::StatusCode::kInvalidArgument) << method;
    EXPECT_TRUE(absl::StrContains(refused.status().message(), "GetById reads")) << refused.status();
    ListRequest list;
    list.method = method;
    auto list_refused = gateway_->PrepareGetAll("", list, &list_sink);
    EXPECT_EQ(list_refused.status().code(), absl::StatusCode::kInvalidArgument) << method;
    EXPECT_TRUE(absl::StrContains(list_refused.status().message(), "idempotent"))
        << list_refused.status();
    CallOptions vouched;
    vouched.idempotent = true;
    EXPECT_TRUE(gateway_->PrepareGetById(ids, vouched, &sink).ok()) << method;
    list.options = vouched;
    EXPECT_TRUE(gateway_->PrepareGetAll("", list, &list_sink).ok()) << method;
  }
  GetByIdSpec get;
  get.method = "crm.deal.get";
  get.ids = {1};
  EXPECT_TRUE(gateway_->PrepareGetById(get, {}, &sink).ok());
  ListRequest list;
  list.method = "tasks.task.list";
  EXPECT_TRUE(gateway_->PrepareGetAll("", list, &list_sink).ok());
  EXPECT_EQ(portal_.requests(), 0);
}

TEST(Gateway, MethodNamesAreAtMost128Bytes) {
  const std::string longest = "crm." + std::string(119, 'x') + ".list";
  ASSERT_EQ(longest.size(), 128u);
  EXPECT_TRUE(Gateway::ValidateCall(longest, Json::object(), "params").ok());
  absl::Status refused = Gateway::ValidateCall(longest + "x", Json::object(), "params");
  EXPECT_EQ(refused.code(), absl::StatusCode::kInvalidArgument);
  EXPECT_TRUE(absl::StrContains(refused.message(), "129 bytes, above the limit of 128")) << refused;
  // The name is quoted cut, with its length.
  refused = Gateway::ValidateCall(std::string(9000, 'm'), Json::object(), "params");
  EXPECT_TRUE(absl::StrContains(refused.message(), "m...(9000 bytes)\"")) << refused;
  EXPECT_LT(refused.message().size(), 300u);
}

std::vector<BatchCommandSpec> Gets(int n) {
  std::vector<BatchCommandSpec> commands;
  for (int i = 0; i < n; ++i) {
    commands.push_back({"c" + std::to_string(i), "crm.lead.get", {{"id", i}}});
  }
  return commands;
}

struct BatchOutcome {
  absl::Notification done;
  absl::StatusOr<std::vector<KeyedOutcome>> results = absl::UnknownError("not called");
  CallBatchCallback Callback() {
    return [this](absl::StatusOr<std::vector<KeyedOutcome>> r) {
      results = std::move(r);
      done.Notify();
    };
  }
};

TEST_F(GatewayTest, HaltInTheFirstChunkLeavesTheSecondUnsent) {
  BatchOutcome out;
  gateway_->CallBatch("", Gets(55), /*halt=*/true, {}, out.Callback());
  auto first = portal_.Take();
  ASSERT_TRUE(first);
  ASSERT_EQ(first->commands.size(), 50u);
  EXPECT_TRUE(first->halt);
  BatchResult result;
  for (int i = 0; i < 10; ++i) {
    result.outcomes["c" + std::to_string(i)] = CallReply{{{"ID", std::to_string(i)}}};
  }
  // The portal halted at c10: c11..c49 are absent from its answer.
  result.outcomes["c10"] = absl::NotFoundError("Not found");
  first->batch_done(std::move(result));
  ASSERT_TRUE(out.done.HasBeenNotified());
  ASSERT_TRUE(out.results.ok()) << out.results.status();
  ASSERT_EQ(out.results->size(), 55u);
  EXPECT_TRUE((*out.results)[9].outcome.ok());
  EXPECT_EQ((*out.results)[10].outcome.status().code(), absl::StatusCode::kNotFound);
  for (size_t i : {11u, 49u, 50u, 54u}) {
    EXPECT_EQ((*out.results)[i].key, "c" + std::to_string(i));
    EXPECT_EQ(ReasonOf((*out.results)[i].outcome.status()), kReasonNotExecuted) << i;
  }
  EXPECT_EQ(portal_.requests(), 1);
}

TEST_F(GatewayTest, WithoutHaltEveryChunkIsSentInOrder) {
  BatchOutcome out;
  gateway_->CallBatch("", Gets(55), /*halt=*/false, {}, out.Callback());
  for (int chunk = 0; chunk < 2; ++chunk) {
    auto e = portal_.Take();
    ASSERT_TRUE(e) << "chunk " << chunk;
    // One chunk at a time: the next is sent once this one is answered.
    EXPECT_EQ(portal_.waiting(), 0u);
    BatchResult result;
    for (const BatchCommandSpec& c : e->commands) result.outcomes[c.key] = CallReply{{{"ID", c.key}}};
    EXPECT_EQ(result.outcomes.size(), chunk == 0 ? 50u : 5u);
    e->batch_done(std::move(result));
  }
  ASSERT_TRUE(out.done.HasBeenNotified());
  ASSERT_TRUE(out.results.ok());
  ASSERT_EQ(out.results->size(), 55u);
  for (size_t i = 0; i < 55; ++i) {
    ASSERT_TRUE((*out.results)[i].outcome.ok()) << i;
    EXPECT_EQ((*out.results)[i].outcome->result["ID"], "c" + std::to_string(i));
  }
}

// The authorize hook sees every command in its final form (portal name,
// normal method, the caller's client_id) before anything is queued, from
// every entry point; one refused command refuses its whole batch.
class AuthorizeHookTest : public ::testing::Test {
 protected:
  AuthorizeHookTest() {
    GatewayOptions options;
    options.authorize = [this](const std::string& client, const std::string& portal,
                               const std::string& method) {
      seen_.push_back(client + "|" + portal + "|" + method);
      return method == "crm.deal.delete" ? absl::PermissionDeniedError("no deletes")
                                         : absl::OkStatus();
    };
    gateway_ = std::make_unique<Gateway>(std::vector<Dispatcher*>{&portal_}, &clock_, options);
  }

  CallOptions As(const std::string& client) {
    CallOptions o;
    o.client_id = client;
    return o;
  }

  FakeClock clock_;
  FakeDispatcher portal_{"main"};
  std::unique_ptr<Gateway> gateway_;
  std::vector<std::string> seen_;
};

TEST_F(AuthorizeHookTest, EveryEntryPointAsksBeforeQueueing) {
  absl::Status call_status;
  CallSpec call;
  call.method = "CRM.Deal.Delete.json";
  call.params = {{"id", 1}};
  gateway_->Call(call, As("app"), [&](absl::StatusOr<CallReply> r) { call_status = r.status(); });
  EXPECT_EQ(call_status.code(), absl::StatusCode::kPermissionDenied);

  NoSink sink;
  BulkSpec bulk;
  bulk.method = "crm.deal.delete";
  bulk.params = {{{"id", 1}}};
  EXPECT_EQ(gateway_->PrepareBulk(bulk, BulkForm::kStreaming, As("app"), &sink).status().code(),
            absl::StatusCode::kPermissionDenied);
  GetByIdSpec by_id;
  by_id.method = "crm.deal.delete";
  by_id.ids = {1};
  CallOptions vouched = As("app");  // else refused as no read, before the hook
  vouched.idempotent = true;
  EXPECT_EQ(gateway_->PrepareGetById(by_id, vouched, &sink).status().code(),
            absl::StatusCode::kPermissionDenied);

  BatchOutcome out;
  std::vector<BatchCommandSpec> commands = Gets(3);
  commands.push_back({"del", "Crm.Deal.DELETE?ID=1", Json::object()});
  gateway_->CallBatch("", commands, /*halt=*/false, As("app"), out.Callback());
  ASSERT_TRUE(out.done.HasBeenNotified());
  EXPECT_EQ(out.results.status().code(), absl::StatusCode::kPermissionDenied);
  EXPECT_TRUE(absl::StrContains(out.results.status().message(), "commands[3] (\"del\")"))
      << out.results.status();

  EXPECT_EQ(portal_.requests(), 0);
  ASSERT_FALSE(seen_.empty());
  EXPECT_EQ(seen_.front(), "app|main|crm.deal.delete");
  EXPECT_EQ(seen_.back(), "app|main|crm.deal.delete");
  // The batch's three allowed reads were asked about too, before the refusal.
  EXPECT_EQ(std::count(seen_.begin(), seen_.end(), "app|main|crm.lead.get"), 3);
}

}  // namespace
}  // namespace b24gate::gateway_test
