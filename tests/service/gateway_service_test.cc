// The gRPC service in process, over a Gateway whose transport a test thread
// answers: the streaming reactors share one writer that keeps request order,
// numbers CallMany's messages and cuts results into messages of about 1 MiB;
// refused input never reaches the transport.
#include "service/gateway_service.h"

#include <atomic>
#include <memory>
#include <optional>
#include <string>
#include <thread>
#include <vector>

#include <grpcpp/grpcpp.h>
#include <gtest/gtest.h>

#include "absl/strings/match.h"
#include "absl/strings/numbers.h"
#include "service/json_value.h"
#include "tests/engine/fake_transport.h"
#include "tests/support/fake_dispatcher.h"
#include "tests/support/one_portal_gateway.h"
#include "tests/support/wait_for.h"

namespace b24gate::gateway_service_test {
namespace {

namespace pb = bitrix24::gateway::v1;
using Json = nlohmann::ordered_json;

// The id in "crm.lead.get?id=7" or in {"id":7}.
std::string IdIn(const std::string& query) {
  size_t at = query.find("id=");
  return at == std::string::npos ? "" : query.substr(at + 3);
}

// A Call takes at most 4 bulk items, so a test's 5 are refused.
GatewayOptions BulkOfAtMost4() {
  GatewayOptions options;
  options.limits.max_bulk_items = 4;
  return options;
}

class GatewayServiceTest : public ::testing::Test {
 protected:
  void SetUp() override {
    service_ = std::make_unique<GatewayService>(main_.gateway.get());
    grpc::ServerBuilder builder;
    builder.RegisterService(service_.get());
    server_ = builder.BuildAndStart();
    stub_ = pb::GatewayService::NewStub(server_->InProcessChannel(grpc::ChannelArguments()));
    answerer_ = std::thread([this] { Answer(); });
  }

  void TearDown() override {
    stop_ = true;
    answerer_.join();
    server_->Shutdown();
    main_.gateway.reset();
  }

  // Answers every request: each `get` returns {"ID": id, "BODY": body_bytes_ of text}.
  void Answer() {
    while (!stop_) {
      auto e = main_.transport->Next(absl::Milliseconds(20));
      if (!e) continue;
      std::string body(body_bytes_, 'x');
      if (absl::EndsWith(e->request.url, "/batch")) {
        Json results = Json::object();
        for (const auto& [key, command] : Json::parse(e->request.body)["cmd"].items()) {
          results[key] = {{"ID", IdIn(command.get<std::string>())}, {"BODY", body}};
        }
        e->done(FakeTransport::BatchAnswer(results));
      } else {
        Json params = Json::parse(e->request.body);
        Json result = {{"ID", params.value("id", Json()).dump()}, {"BODY", body}};
        e->done(FakeTransport::Json(200, Json({{"result", result}}).dump()));
      }
    }
  }

  testing::OnePortalGateway main_{BulkOfAtMost4()};
  std::unique_ptr<GatewayService> service_;
  std::unique_ptr<grpc::Server> server_;
  std::unique_ptr<pb::GatewayService::Stub> stub_;
  std::thread answerer_;
  std::atomic<bool> stop_{false};
  size_t body_bytes_ = 10;
};

TEST_F(GatewayServiceTest, CallManyStreamsResultsInRequestOrderWithTheirIndex) {
  pb::CallManyRequest request;
  request.set_method("crm.lead.get");
  for (int id = 1; id <= 7; ++id) request.add_params_json(Json({{"id", id}}).dump());
  grpc::ClientContext context;
  auto reader = stub_->CallMany(&context, request);
  pb::CallManyResponse message;
  std::vector<std::string> ids;
  while (reader->Read(&message)) {
    EXPECT_EQ(message.first_index(), static_cast<int64_t>(ids.size()));
    for (const auto& r : message.results()) ids.push_back(ToJson(r.result())["ID"]);
  }
  ASSERT_TRUE(reader->Finish().ok());
  EXPECT_EQ(ids, (std::vector<std::string>{"1", "2", "3", "4", "5", "6", "7"}));
}

TEST_F(GatewayServiceTest, GetByIdCutsLargeResultsIntoMessagesOfAboutAMebibyte) {
  body_bytes_ = 300 * 1024;
  pb::GetByIdRequest request;
  request.set_method("crm.lead.get");
  for (int id = 1; id <= 12; ++id) request.add_ids()->set_number_value(id);
  grpc::ClientContext context;
  auto reader = stub_->GetById(&context, request);
  pb::GetByIdResponse message;
  std::vector<int> ids;
  int messages = 0;
  while (reader->Read(&message)) {
    ++messages;
    EXPECT_LT(message.ByteSizeLong(), 2u * 1024 * 1024);
    for (const auto& r : message.results()) ids.push_back(static_cast<int>(r.id().number_value()));
  }
  ASSERT_TRUE(reader->Finish().ok());
  EXPECT_EQ(ids, (std::vector<int>{1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12}));
  EXPECT_GE(messages, 3) << "12 results of 300 KiB do not fit in one ~1 MiB message";
}

TEST_F(GatewayServiceTest, RefusedInputNeverReachesTheTransport) {
  pb::CallRequest bulk;
  bulk.set_method("crm.lead.add");
  for (int i = 0; i < 5; ++i) *bulk.add_bulk_params() = ToValue(Json({{"fields", {{"TITLE", "x"}}}}));
  pb::CallResponse response;
  grpc::ClientContext c1;
  grpc::Status over = stub_->Call(&c1, bulk, &response);
  EXPECT_EQ(over.error_code(), grpc::StatusCode::INVALID_ARGUMENT);
  EXPECT_TRUE(absl::StrContains(over.error_message(), "CallMany")) << over.error_message();

  pb::CallManyRequest both;
  both.set_method("crm.lead.get");
  *both.add_params() = ToValue(Json({{"id", 1}}));
  both.add_params_json(R"({"id":2})");
  grpc::ClientContext c2;
  auto reader = stub_->CallMany(&c2, both);
  pb::CallManyResponse message;
  EXPECT_FALSE(reader->Read(&message));
  grpc::Status exclusive = reader->Finish();
  EXPECT_EQ(exclusive.error_code(), grpc::StatusCode::INVALID_ARGUMENT);
  EXPECT_TRUE(absl::StrContains(exclusive.error_message(), "params and params_json"))
      << exclusive.error_message();

  pb::CallRequest single;
  single.set_method("crm.lead.list");
  single.set_params_json(R"({"order":)");
  grpc::ClientContext c3;
  grpc::Status malformed = stub_->Call(&c3, single, &response);
  EXPECT_EQ(malformed.error_code(), grpc::StatusCode::INVALID_ARGUMENT);
  EXPECT_TRUE(absl::StrContains(malformed.error_message(), "params_json: not valid JSON"))
      << malformed.error_message();

  EXPECT_EQ(main_.transport->sent(), 0);
}

// The unary Call holds no lock when it hands its call to the portal, so it
// lends its gRPC thread to the portal's dispatcher (CallOptions::lend_thread):
// on an idle portal the request leaves without waking a dispatcher thread.
TEST(GatewayServiceLending, TheUnaryCallLendsItsThread) {
  FakeDispatcher portal("main");
  Gateway gateway(std::vector<Dispatcher*>{&portal}, Clock::Real());
  GatewayService service(&gateway);
  grpc::ServerBuilder builder;
  builder.RegisterService(&service);
  std::unique_ptr<grpc::Server> server = builder.BuildAndStart();
  auto stub = pb::GatewayService::NewStub(server->InProcessChannel(grpc::ChannelArguments()));
  grpc::Status status;
  std::thread caller([&] {
    grpc::ClientContext context;
    pb::CallRequest request;
    request.set_method("crm.lead.get");
    request.set_params_json(R"({"id":7})");
    pb::CallResponse response;
    status = stub->Call(&context, request, &response);
  });
  ASSERT_TRUE(testing::WaitFor([&] { return portal.waiting() == 1; }));
  std::optional<FakeDispatcher::Request> call = portal.Take();
  ASSERT_TRUE(call);
  EXPECT_TRUE(call->options.lend_thread);
  CallReply reply;
  reply.result = {{"ID", "7"}};
  call->call_done(reply);
  caller.join();
  EXPECT_TRUE(status.ok()) << status.error_message();
  server->Shutdown();
}

}  // namespace
}  // namespace b24gate::gateway_service_test
