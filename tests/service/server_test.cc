// The Server object on a FakeClock with a fake portal transport: it starts
// serving, and its drain keeps the listener up for the pre-drain delay (or
// until cut short), refuses new calls after it, and answers a call still on
// the wire OUTCOME_UNKNOWN shortly before the grace ends, reporting that
// requests are left upstream.
#include "service/server.h"

#include <sstream>
#include <thread>

#include <gmock/gmock.h>
#include <grpcpp/grpcpp.h>
#include <grpcpp/impl/codegen/client_unary_call.h>
#include <grpcpp/impl/codegen/rpc_method.h>
#include <gtest/gtest.h>

#include "absl/synchronization/notification.h"
#include "bitrix24/gateway/v1/gateway.grpc.pb.h"
#include "grpc/health/v1/health.pb.h"
#include "service/status_mapping.h"
#include "tests/engine/fake_transport.h"

namespace b24gate::server_test {
namespace {

namespace hv1 = grpc::health::v1;
namespace pb = bitrix24::gateway::v1;

ServerConfig Config() {
  ServerConfig config;
  config.listen = "127.0.0.1:0";
  config.log.level = LogLevel::kWarn;
  PortalOptions portal;
  portal.name = "main";
  portal.webhook_url = "https://portal.example/rest/1/secret/";
  portal.linger = absl::ZeroDuration();
  config.portals = {portal};
  config.shutdown_grace = absl::Seconds(20);
  return config;
}

class ServerTest : public ::testing::Test {
 protected:
  void StartServer(const ServerConfig& config = Config()) {
    auto transport = std::make_unique<FakeTransport>();
    transport_ = transport.get();
    absl::StatusOr<std::unique_ptr<Server>> started =
        Server::Start(config, &clock_, ServerParts{std::move(transport), &log_sink_});
    ASSERT_TRUE(started.ok()) << started.status();
    server_ = std::move(*started);
    ASSERT_GT(server_->port(), 0);
    channel_ = grpc::CreateChannel("127.0.0.1:" + std::to_string(server_->port()),
                                   grpc::InsecureChannelCredentials());
    idle_waiters_ = IdleWaiters();
  }

  ~ServerTest() override {
    if (transport_ != nullptr) transport_->Close();
    if (drain_.joinable()) {
      // A failed test may leave the drain waiting for the clock.
      server_->CutShort();
      clock_.Advance(absl::Hours(1));
      drain_.join();
    }
  }

  // Threads blocked on the clock when nothing happens (the portals' own):
  // the most that settle, as threads only come to wait, never leave.
  int IdleWaiters() {
    for (int n = 4; n >= 0; --n) {
      if (clock_.AwaitBlocked(n, absl::Milliseconds(300))) return n;
    }
    ADD_FAILURE() << "the server never went idle";
    return 0;
  }

  grpc::Status Health(hv1::HealthCheckResponse* response) {
    grpc::internal::RpcMethod method("/grpc.health.v1.Health/Check",
                                     grpc::internal::RpcMethod::NORMAL_RPC);
    grpc::ClientContext ctx;
    ctx.set_deadline(std::chrono::system_clock::now() + std::chrono::seconds(5));
    hv1::HealthCheckRequest request;
    return grpc::internal::BlockingUnaryCall<hv1::HealthCheckRequest, hv1::HealthCheckResponse,
                                             grpc::protobuf::MessageLite,
                                             grpc::protobuf::MessageLite>(channel_.get(), method, &ctx,
                                                                          request, response);
  }

  // Drain(predrain) on its own thread; `drained_` is notified with its result.
  void DrainInBackground(absl::Duration predrain) {
    drain_ = std::thread([this, predrain] {
      clean_ = server_->Drain(predrain);
      drained_.Notify();
    });
  }

  FakeClock clock_;
  std::ostringstream log_;
  StreamLogSink log_sink_{&log_};
  FakeTransport* transport_ = nullptr;
  std::unique_ptr<Server> server_;
  std::shared_ptr<grpc::Channel> channel_;
  int idle_waiters_ = 0;
  std::thread drain_;
  absl::Notification drained_;
  bool clean_ = false;
};

TEST_F(ServerTest, ServesAndDrainsAtOnceWhenNothingIsInFlight) {
  StartServer();
  hv1::HealthCheckResponse health;
  ASSERT_TRUE(Health(&health).ok());
  EXPECT_EQ(health.status(), hv1::HealthCheckResponse::SERVING);
  EXPECT_TRUE(server_->Drain(absl::ZeroDuration()));
  EXPECT_FALSE(Health(&health).ok()) << "still accepting calls after the drain";
  EXPECT_EQ(transport_->sent(), 0);
}

TEST_F(ServerTest, PredrainKeepsAcceptingNotServingUntilTheDelayHasPassed) {
  StartServer();
  DrainInBackground(absl::Seconds(5));
  ASSERT_TRUE(clock_.AwaitBlocked(idle_waiters_ + 1));  // the drain waits for the clock
  hv1::HealthCheckResponse health;
  ASSERT_TRUE(Health(&health).ok()) << "the listener must stay up during the pre-drain delay";
  EXPECT_EQ(health.status(), hv1::HealthCheckResponse::NOT_SERVING);
  clock_.Advance(absl::Seconds(5) - absl::Milliseconds(1));
  ASSERT_TRUE(clock_.AwaitBlocked(idle_waiters_ + 1));
  EXPECT_FALSE(drained_.HasBeenNotified());
  clock_.Advance(absl::Milliseconds(1));
  ASSERT_TRUE(drained_.WaitForNotificationWithTimeout(absl::Seconds(10)));
  EXPECT_TRUE(clean_);
  EXPECT_FALSE(Health(&health).ok());
}

TEST_F(ServerTest, CutShortEndsThePredrainDelay) {
  StartServer();
  DrainInBackground(absl::Seconds(5));
  ASSERT_TRUE(clock_.AwaitBlocked(idle_waiters_ + 1));
  server_->CutShort();
  ASSERT_TRUE(drained_.WaitForNotificationWithTimeout(absl::Seconds(10)));
  EXPECT_TRUE(clean_);
}

TEST_F(ServerTest, ACallOnTheWireIsAnsweredOutcomeUnknownBeforeTheGraceEnds) {
  StartServer();
  pb::GatewayService::Stub stub(channel_);
  grpc::Status status;
  std::thread caller([&] {
    pb::CallRequest request;
    request.set_method("crm.lead.add");
    grpc::ClientContext ctx;
    ctx.set_deadline(std::chrono::system_clock::now() + std::chrono::seconds(30));
    pb::CallResponse response;
    status = stub.Call(&ctx, request, &response);
  });
  std::optional<FakeTransport::Exchange> held = transport_->Next();  // never answered meanwhile
  ASSERT_TRUE(held.has_value());
  DrainInBackground(absl::ZeroDuration());
  // answer_by = grace - min(grace / 4, 1 s) = 19 s after the drain began.
  ASSERT_TRUE(clock_.AwaitBlocked(idle_waiters_ + 1));
  clock_.Advance(absl::Seconds(19) - absl::Milliseconds(1));
  ASSERT_TRUE(clock_.AwaitBlocked(idle_waiters_ + 1));
  EXPECT_FALSE(drained_.HasBeenNotified());
  clock_.Advance(absl::Milliseconds(1));
  ASSERT_TRUE(drained_.WaitForNotificationWithTimeout(absl::Seconds(10)));
  caller.join();
  EXPECT_FALSE(clean_) << "a request is still on the wire";
  EXPECT_EQ(status.error_code(), grpc::StatusCode::UNAVAILABLE) << status.error_message();
  EXPECT_THAT(log_.str(), ::testing::HasSubstr("OUTCOME_UNKNOWN"));
  held->done(FakeTransport::Json(200, R"({"result": 1})"));
}

TEST_F(ServerTest, ABusyPortIsStartUpInputNamedBeforeAnythingIsLogged) {
  StartServer();
  ServerConfig config = Config();
  config.listen = "127.0.0.1:" + std::to_string(server_->port());
  std::ostringstream log;
  StreamLogSink log_sink(&log);
  absl::StatusOr<std::unique_ptr<Server>> second =
      Server::Start(config, &clock_, ServerParts{std::make_unique<FakeTransport>(), &log_sink});
  ASSERT_FALSE(second.ok());
  EXPECT_EQ(second.status().code(), absl::StatusCode::kInvalidArgument);
  EXPECT_THAT(std::string(second.status().message()), ::testing::HasSubstr("address in use"));
  EXPECT_EQ(log.str(), "");
}

}  // namespace
}  // namespace b24gate::server_test
