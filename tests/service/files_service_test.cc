// FilesService in process, over a Gateway whose transport the test thread
// answers, with the uploads' first-message bound on a PollTimer driven by a
// FakeClock: a client that opens UploadFile and sends nothing is refused
// when the stall bound passes (nothing reaches the portal, the failure is
// counted), and one whose header comes a moment before it is not cut short.
// The bound's timer entry goes when the header comes or the call ends, not
// when the bound passes.
#include "service/files_service.h"

#include <chrono>
#include <memory>
#include <optional>
#include <string>
#include <utility>
#include <vector>

#include <grpcpp/grpcpp.h>
#include <gtest/gtest.h>
#include <prometheus/registry.h>

#include "absl/strings/match.h"
#include "engine/common/clock.h"
#include "engine/events/poll_timer.h"
#include "engine/files/stream_transport.h"
#include "engine/gateway/gateway.h"
#include "service/metrics/file_metrics.h"
#include "tests/engine/fake_transport.h"
#include "tests/support/error_reason.h"
#include "tests/support/one_portal_gateway.h"
#include "tests/support/wait_for.h"

namespace b24gate::files_service_test {
namespace {

namespace pb = bitrix24::gateway::v1;
using testing::ReasonOf;

constexpr absl::Duration kStall = absl::Seconds(60);

// The value of the series whose text form starts `name{` and holds every
// label=value of `labels` (0 when there is none).
double Metric(prometheus::Registry& registry, const std::string& name,
              const std::vector<std::pair<std::string, std::string>>& labels) {
  for (const prometheus::MetricFamily& family : registry.Collect()) {
    if (family.name != name) continue;
    for (const prometheus::ClientMetric& m : family.metric) {
      int matched = 0;
      for (const auto& [key, value] : labels) {
        for (const prometheus::ClientMetric::Label& l : m.label) {
          matched += l.name == key && l.value == value;
        }
      }
      if (matched != static_cast<int>(labels.size())) continue;
      return family.type == prometheus::MetricType::Gauge ? m.gauge.value : m.counter.value;
    }
  }
  return 0;
}

class FilesServiceTest : public ::testing::Test {
 protected:
  void SetUp() override {
    streams_ = std::make_unique<StreamTransport>(&clock_);
    files_ = std::make_unique<FileGateway>(main_.gateway.get(), streams_.get(),
                                           FileGatewayOptions{0, kStall});
    timer_ = std::make_unique<PollTimer>(&clock_);
    metrics_ = std::make_unique<FileMetrics>(registry_, std::vector<std::string>{"main"});
    service_ = std::make_unique<FilesService>(files_.get(), nullptr, metrics_.get(),
                                              FilesServiceOptions{timer_.get(), kStall});
    grpc::ServerBuilder builder;
    builder.RegisterService(service_.get());
    server_ = builder.BuildAndStart();
    stub_ = pb::FilesService::NewStub(server_->InProcessChannel(grpc::ChannelArguments()));
  }

  void TearDown() override { server_->Shutdown(); }

  // A client deadline far in real time, but short enough that a gateway
  // without the bound fails the test instead of hanging it.
  static void Bound(grpc::ClientContext* ctx) {
    ctx->set_deadline(std::chrono::system_clock::now() + std::chrono::seconds(20));
  }

  FakeClock clock_;
  // The gateway on the real clock: only the timer waits on the fake one,
  // so AwaitBlocked(1) means the timer has done what was due.
  testing::OnePortalGateway main_;
  std::unique_ptr<StreamTransport> streams_;
  std::unique_ptr<FileGateway> files_;
  std::unique_ptr<PollTimer> timer_;
  prometheus::Registry registry_;
  std::unique_ptr<FileMetrics> metrics_;
  std::unique_ptr<FilesService> service_;
  std::unique_ptr<grpc::Server> server_;
  std::unique_ptr<pb::FilesService::Stub> stub_;
};

TEST_F(FilesServiceTest, AnUploadWhoseHeaderNeverComesEndsAtTheStallBound) {
  grpc::ClientContext ctx;
  Bound(&ctx);
  pb::UploadFileResponse response;
  auto writer = stub_->UploadFile(&ctx, &response);
  // The call is open and its bound armed; nothing is sent, ever.
  ASSERT_TRUE(testing::WaitFor([&] { return timer_->pending() == 1; }));
  clock_.Advance(kStall);
  const grpc::Status status = writer->Finish();
  EXPECT_EQ(status.error_code(), grpc::StatusCode::DEADLINE_EXCEEDED) << status.error_message();
  EXPECT_TRUE(absl::StrContains(status.error_message(), "nothing arrived within 60s"))
      << status.error_message();
  EXPECT_EQ(ReasonOf(status), "NOT_EXECUTED") << "the caller must know nothing was stored";
  EXPECT_FALSE(main_.transport->Next(absl::Milliseconds(100))) << "the portal heard of the upload";
  EXPECT_EQ(Metric(registry_, "b24gate_file_failures_total",
                   {{"direction", "up"}, {"reason", "DEADLINE_EXCEEDED"}}),
            1);
  EXPECT_EQ(Metric(registry_, "b24gate_file_transfers_total",
                   {{"direction", "up"}, {"code", "DEADLINE_EXCEEDED"}}),
            1);
  EXPECT_EQ(Metric(registry_, "b24gate_file_transfers_in_progress", {{"direction", "up"}}), 0);
}

// The header a second before the bound: the bound passing later (the upload
// now waits on the portal) does not end the call; the portal's answer does.
TEST_F(FilesServiceTest, AHeaderJustInsideTheStallBoundIsNotCutShort) {
  grpc::ClientContext ctx;
  Bound(&ctx);
  pb::UploadFileResponse response;
  auto writer = stub_->UploadFile(&ctx, &response);
  ASSERT_TRUE(testing::WaitFor([&] { return timer_->pending() == 1; }));
  clock_.Advance(kStall - absl::Seconds(1));
  ASSERT_TRUE(clock_.AwaitBlocked(1));
  ASSERT_EQ(timer_->pending(), 1) << "the bound passed early";
  pb::UploadFileRequest header;
  header.mutable_header()->set_folder_id(1);
  header.mutable_header()->set_name("late.bin");
  ASSERT_TRUE(writer->Write(header));
  std::optional<FakeTransport::Exchange> first_step = main_.transport->Next();
  ASSERT_TRUE(first_step);
  EXPECT_TRUE(absl::StrContains(first_step->request.url, "disk.folder.uploadfile"))
      << first_step->request.url;
  clock_.Advance(absl::Seconds(2));
  ASSERT_TRUE(clock_.AwaitBlocked(1));
  EXPECT_EQ(timer_->pending(), 0) << "the bound did not pass";
  first_step->done(FakeTransport::Json(
      400, R"({"error":"ERROR_NOT_FOUND","error_description":"no such folder"})"));
  const grpc::Status status = writer->Finish();
  EXPECT_EQ(status.error_code(), grpc::StatusCode::NOT_FOUND) << status.error_message();
  EXPECT_EQ(Metric(registry_, "b24gate_file_failures_total",
                   {{"direction", "up"}, {"reason", "DEADLINE_EXCEEDED"}}),
            0);
  EXPECT_EQ(Metric(registry_, "b24gate_file_transfers_in_progress", {{"direction", "up"}}), 0);
}

// Without the cancel each upload would leave its entry for the whole bound
// (60 s here: the fake clock never moves).
TEST_F(FilesServiceTest, TheStallBoundsEntryGoesOnceTheHeaderCame) {
  grpc::ClientContext ctx;
  Bound(&ctx);
  pb::UploadFileResponse response;
  auto writer = stub_->UploadFile(&ctx, &response);
  ASSERT_TRUE(testing::WaitFor([&] { return timer_->pending() == 1; }));
  pb::UploadFileRequest header;
  header.mutable_header()->set_folder_id(1);
  header.mutable_header()->set_name("a.bin");
  ASSERT_TRUE(writer->Write(header));
  std::optional<FakeTransport::Exchange> first_step = main_.transport->Next();
  ASSERT_TRUE(first_step);
  EXPECT_EQ(timer_->pending(), 0) << "the header came, the bound's entry stayed";
  first_step->done(FakeTransport::Json(
      400, R"({"error":"ERROR_NOT_FOUND","error_description":"no such folder"})"));
  const grpc::Status status = writer->Finish();
  EXPECT_EQ(status.error_code(), grpc::StatusCode::NOT_FOUND) << status.error_message();
  EXPECT_EQ(timer_->pending(), 0);
}

TEST_F(FilesServiceTest, TheStallBoundsEntryGoesWithACallEndedBeforeItsHeader) {
  for (int i = 0; i < 3; ++i) {
    grpc::ClientContext ctx;
    Bound(&ctx);
    pb::UploadFileResponse response;
    auto writer = stub_->UploadFile(&ctx, &response);
    ASSERT_TRUE(testing::WaitFor([&] { return timer_->pending() == 1; }));
    if (i == 0) {
      ctx.TryCancel();  // the client gives up
    } else if (i == 1) {
      writer->WritesDone();  // a stream with no header
    } else {
      pb::UploadFileRequest chunk;  // a chunk where the header belongs
      chunk.set_chunk("x");
      writer->Write(chunk);
    }
    const grpc::Status status = writer->Finish();
    EXPECT_FALSE(status.ok());
    EXPECT_TRUE(testing::WaitFor([&] { return timer_->pending() == 0; }))
        << "case " << i << ": the ended call's entry stayed";
  }
  EXPECT_FALSE(main_.transport->Next(absl::Milliseconds(100))) << "the portal heard of an upload";
}

}  // namespace
}  // namespace b24gate::files_service_test
