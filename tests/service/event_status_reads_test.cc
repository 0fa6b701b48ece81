// AdminService.GetEventStatus with --redis reads Redis (a SCAN, a script per
// portal) off gRPC's callback threads and a bounded number at a time: with
// a Redis that takes connections and never answers, kMaxEventStatusReads
// calls wait on it, the next is answered UNAVAILABLE at once, another
// AdminService call is answered meanwhile, and the waiting ones are
// answered (with this replica's figures) once Redis goes away.
#include <atomic>
#include <chrono>
#include <memory>
#include <sstream>
#include <string>
#include <utility>
#include <vector>

#include <grpcpp/grpcpp.h>
#include <gtest/gtest.h>

#include "absl/strings/str_cat.h"
#include "engine/common/blocking_pool.h"
#include "engine/events/event_ledger.h"
#include "engine/events/poll_timer.h"
#include "engine/events/redis_event_lag.h"
#include "service/admin_service.h"
#include "service/event_bindings.h"
#include "service/logging/logger.h"
#include "tests/support/listening_socket.h"
#include "tests/support/one_portal_gateway.h"
#include "tests/support/wait_for.h"

namespace b24gate::event_status_reads_test {
namespace {

namespace pb = bitrix24::gateway::v1;
using ::b24gate::testing::WaitFor;

class EventStatusReadsTest : public ::testing::Test {
 protected:
  void SetUp() override {
    ASSERT_GT(redis_.port(), 0);
    RedisOptions redis;
    redis.address.host = "127.0.0.1";
    redis.address.port = redis_.port();
    // Long enough that a read waits on Redis for the whole test.
    redis.connect_timeout = absl::Minutes(5);
    redis.command_timeout = absl::Minutes(5);
    lag_ = std::make_unique<RedisEventLag>(redis, "b24gate:", Clock::Real());
    admin_ = std::make_unique<AdminService>(
        main_.gateway.get(), nullptr, AdminService::Events{&bindings_, &ledger_, lag_.get()}, &pool_);
    grpc::ServerBuilder builder;
    builder.AddListeningPort("127.0.0.1:0", grpc::InsecureServerCredentials(), &port_);
    builder.RegisterService(admin_.get());
    server_ = builder.BuildAndStart();
    ASSERT_TRUE(server_ && port_ > 0);
    stub_ = pb::AdminService::NewStub(
        grpc::CreateChannel(absl::StrCat("127.0.0.1:", port_), grpc::InsecureChannelCredentials()));
  }

  void TearDown() override {
    redis_.Close();  // the reads waiting on it end
    if (server_) server_->Shutdown();
  }

  // One GetEventStatus call in flight, answered into `status`.
  struct Call {
    grpc::ClientContext context;
    pb::GetEventStatusRequest request;
    pb::GetEventStatusResponse response;
    grpc::Status status;
    std::atomic<bool> done{false};
  };
  void Start(Call* call) {
    call->context.set_deadline(std::chrono::system_clock::now() + std::chrono::minutes(2));
    stub_->async()->GetEventStatus(&call->context, &call->request, &call->response,
                                   [call](grpc::Status s) {
                                     call->status = std::move(s);
                                     call->done = true;
                                   });
  }

  // A Redis that never answers: nobody accepts, so connections complete in
  // the kernel's backlog, commands are sent, and no reply ever comes.
  // Closing it resets them.
  testing::ListeningSocket redis_{64};
  std::ostringstream log_;
  Logger logger_{LogOptions{}, &log_};
  PollTimer timer_{Clock::Real()};
  EventBindings bindings_{&logger_, Clock::Real(), &timer_};
  EventLedger ledger_{Clock::Real()};
  testing::OnePortalGateway main_;
  std::unique_ptr<RedisEventLag> lag_;
  std::unique_ptr<AdminService> admin_;
  // Goes before the service its jobs answer for.
  BlockingPool pool_{BlockingPool::Options{}};
  std::unique_ptr<grpc::Server> server_;
  std::unique_ptr<pb::AdminService::Stub> stub_;
  int port_ = 0;
};

TEST_F(EventStatusReadsTest, ReadsOfAStuckRedisAreBoundedAndHoldUpNoOtherCall) {
  std::vector<std::unique_ptr<Call>> calls;
  for (int i = 0; i < AdminService::kMaxEventStatusReads + 1; ++i) {
    calls.push_back(std::make_unique<Call>());
    Start(calls.back().get());
  }
  auto answered = [&] {
    int n = 0;
    for (const auto& call : calls) n += call->done ? 1 : 0;
    return n;
  };
  // kMaxEventStatusReads wait on Redis; the one beyond the bound is
  // refused at once.
  // EXPECT, not ASSERT: the calls must be answered (below) before they go.
  EXPECT_TRUE(WaitFor([&] { return answered() >= 1; }, 60)) << "every call waits on Redis";
  for (const auto& call : calls) {
    if (!call->done) continue;
    EXPECT_EQ(call->status.error_code(), grpc::StatusCode::UNAVAILABLE) << call->status.error_message();
  }

  grpc::ClientContext context;
  context.set_deadline(std::chrono::system_clock::now() + std::chrono::seconds(60));
  pb::ListPortalsResponse portals;
  EXPECT_TRUE(stub_->ListPortals(&context, {}, &portals).ok()) << "another call is answered meanwhile";
  EXPECT_EQ(answered(), 1) << "the others still wait on Redis";

  redis_.Close();
  // Bounded by the calls' own deadline, so none outlives `calls`.
  ASSERT_TRUE(WaitFor([&] { return answered() == static_cast<int>(calls.size()); }, 180));
  int ok = 0;
  for (const auto& call : calls) ok += call->status.ok() ? 1 : 0;
  EXPECT_EQ(ok, AdminService::kMaxEventStatusReads) << "with this replica's figures";
}

}  // namespace
}  // namespace b24gate::event_status_reads_test
