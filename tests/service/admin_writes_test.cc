// AdminService's registry writes (AddPortal, UpdatePortal, RemovePortal, a
// registered portal's UpdatePortalTuning) run on the blocking pool, never on
// gRPC's callback threads: with a portal registry whose writes block, the
// writes wait (kMaxRegistryWrites at a time, one more answered UNAVAILABLE
// at once), other calls on other portals are answered meanwhile, and the
// writes complete once the store answers.
#include <chrono>
#include <memory>
#include <string>
#include <utility>
#include <vector>

#include <grpcpp/grpcpp.h>
#include <gtest/gtest.h>

#include "absl/strings/str_cat.h"
#include "absl/synchronization/mutex.h"
#include "absl/synchronization/notification.h"
#include "engine/common/blocking_pool.h"
#include "engine/registry/portal_registry.h"
#include "service/admin_service.h"
#include "tests/engine/fake_transport.h"
#include "tests/support/wait_for.h"

namespace b24gate::admin_writes_test {
namespace {

namespace pb = bitrix24::gateway::v1;
using ::b24gate::testing::WaitFor;

// A memory registry whose writes wait while it is held, as a disk or Redis
// that stopped answering would.
class GatedRegistry : public MemoryPortalRegistry {
 public:
  absl::Status Put(const PortalRecord& record) override {
    Pass();
    return MemoryPortalRegistry::Put(record);
  }
  absl::Status Remove(const std::string& name) override {
    Pass();
    return MemoryPortalRegistry::Remove(name);
  }
  void Hold() {
    absl::MutexLock lock(&mu_);
    held_ = true;
  }
  void Release() {
    absl::MutexLock lock(&mu_);
    held_ = false;
  }
  // Writes waiting in the store now.
  int waiting() const {
    absl::MutexLock lock(&mu_);
    return waiting_;
  }

 private:
  void Pass() {
    absl::MutexLock lock(&mu_);
    ++waiting_;
    mu_.Await(absl::Condition(+[](bool* held) { return !*held; }, &held_));
    --waiting_;
  }

  mutable absl::Mutex mu_;
  bool held_ ABSL_GUARDED_BY(mu_) = false;
  int waiting_ ABSL_GUARDED_BY(mu_) = 0;
};

// One unary call, answered into `status`. The fixture owns every call
// (NewCall), so none dies while gRPC may still write into it: a test that
// stops early (a failed ASSERT) leaves its calls to TearDown, which cancels
// and waits for them.
struct CallBase {
  virtual ~CallBase() = default;
  bool done() const { return answered.HasBeenNotified(); }

  grpc::ClientContext context;
  grpc::Status status;
  bool started = false;
  absl::Notification answered;
};
template <typename Request, typename Response>
struct Call : CallBase {
  Request request;
  Response response;
};
using Add = Call<pb::AddPortalRequest, pb::AddPortalResponse>;

class AdminWritesTest : public ::testing::Test {
 protected:
  void SetUp() override {
    PortalOptions portal;
    portal.name = "configured";
    portal.webhook_url = "https://configured.example/rest/1/secret/";
    auto registry = std::make_unique<GatedRegistry>();
    registry_ = registry.get();
    gateway_ = std::make_unique<Gateway>(std::vector<PortalOptions>{portal}, std::make_unique<FakeTransport>(),
                                         Clock::Real(), PortalObserver::Null(), GatewayOptions{}, nullptr,
                                         RegistryParts{std::move(registry), {}});
    ASSERT_TRUE(gateway_->directory().Load().ok());
    admin_ = std::make_unique<AdminService>(gateway_.get(), nullptr, std::nullopt, &pool_);
    // In process: what is tested is where the service runs the writes, not
    // the sockets.
    grpc::ServerBuilder builder;
    builder.RegisterService(admin_.get());
    server_ = builder.BuildAndStart();
    ASSERT_TRUE(server_);
    stub_ = pb::AdminService::NewStub(server_->InProcessChannel(grpc::ChannelArguments()));
    // Registered through the service, one write after another as a client
    // would: once a write is answered its place among the
    // kMaxRegistryWrites is free, so each test's writes that follow at once
    // are taken (not refused) up to that bound.
    for (const char* name : {"other", "spare"}) {
      grpc::ClientContext context;
      Bound(&context);
      pb::AddPortalResponse added;
      grpc::Status s = stub_->AddPortal(&context, Request(name), &added);
      ASSERT_TRUE(s.ok()) << s.error_message();
    }
  }

  void TearDown() override {
    registry_->Release();  // the writes waiting on it end
    // Whatever path the test took, no call is left in flight: each started
    // call's callback runs (at once, if cancelled) before the calls go.
    for (const auto& call : calls_) call->context.TryCancel();
    for (const auto& call : calls_) {
      if (call->started) call->answered.WaitForNotification();
    }
    if (server_) server_->Shutdown();
  }

  template <typename C>
  C* NewCall() {
    calls_.push_back(std::make_unique<C>());
    return static_cast<C*>(calls_.back().get());
  }

  static void Bound(grpc::ClientContext* context) {
    context->set_deadline(std::chrono::system_clock::now() + std::chrono::seconds(60));
  }

  static pb::AddPortalRequest Request(const std::string& name) {
    pb::AddPortalRequest request;
    request.set_name(name);
    request.mutable_credentials()->set_webhook_url(absl::StrCat("https://", name, ".example/rest/1/code/"));
    return request;
  }

  template <typename C, typename Start>
  void Begin(C* call, Start start) {
    Bound(&call->context);
    call->started = true;
    start(&call->context, &call->request, &call->response, [call](grpc::Status s) {
      call->status = std::move(s);
      call->answered.Notify();
    });
  }
  void BeginAdd(Add* call) {
    Begin(call, [this](auto... args) { stub_->async()->AddPortal(args...); });
  }

  // Other calls, on other portals, answered while the store is held.
  void ExpectReadsAnswered() {
    grpc::ClientContext get_context;
    Bound(&get_context);
    pb::GetPortalRequest get;
    get.set_portal("other");
    pb::GetPortalResponse got;
    grpc::Status s = stub_->GetPortal(&get_context, get, &got);
    EXPECT_TRUE(s.ok()) << s.error_message();
    EXPECT_EQ(got.portal().name(), "other");
    grpc::ClientContext list_context;
    Bound(&list_context);
    pb::ListPortalsResponse listed;
    s = stub_->ListPortals(&list_context, {}, &listed);
    EXPECT_TRUE(s.ok()) << s.error_message();
  }

  GatedRegistry* registry_ = nullptr;
  std::unique_ptr<Gateway> gateway_;
  std::unique_ptr<AdminService> admin_;
  // Goes before the service its jobs answer for.
  BlockingPool pool_{BlockingPool::Options{}};
  std::unique_ptr<grpc::Server> server_;
  std::unique_ptr<pb::AdminService::Stub> stub_;
  std::vector<std::unique_ptr<CallBase>> calls_;  // NewCall's
};


// Two writes wait in the store (the pool's two threads), two more wait for
// a thread; the fifth is refused at once; reads of other portals are
// answered meanwhile; the four complete once the store answers.
TEST_F(AdminWritesTest, AddPortalsWaitingOnAStuckStoreHoldUpNoOtherCall) {
  registry_->Hold();
  std::vector<Add*> adds;
  for (int i = 0; i < AdminService::kMaxRegistryWrites; ++i) {
    adds.push_back(NewCall<Add>());
    adds.back()->request = Request(absl::StrCat("new", i));
    BeginAdd(adds.back());
  }
  ASSERT_TRUE(WaitFor([&] { return registry_->waiting() == 2 && pool_.queued() == 2; }))
      << "the writes wait on the pool: " << registry_->waiting() << " in the store, " << pool_.queued()
      << " queued";
  Add* beyond = NewCall<Add>();
  beyond->request = Request("beyond");
  BeginAdd(beyond);
  ASSERT_TRUE(WaitFor([&] { return beyond->done(); }));
  EXPECT_EQ(beyond->status.error_code(), grpc::StatusCode::UNAVAILABLE) << beyond->status.error_message();

  ExpectReadsAnswered();
  int answered = 0;
  for (const Add* add : adds) answered += add->done() ? 1 : 0;
  EXPECT_EQ(answered, 0) << "a write finished before its store answered";

  registry_->Release();
  ASSERT_TRUE(WaitFor([&] {
    for (const Add* add : adds) {
      if (!add->done()) return false;
    }
    return true;
  }, 120));
  for (const Add* add : adds) {
    EXPECT_TRUE(add->status.ok()) << add->status.error_message();
    EXPECT_EQ(add->response.portal().name(), add->request.name());
    EXPECT_TRUE(gateway_->directory().Get(add->request.name()).ok());
  }
  EXPECT_FALSE(gateway_->directory().Get("beyond").ok()) << "a refused write was kept";
}

// UpdatePortal, UpdatePortalTuning and RemovePortal of registered portals
// take the same lane; a configured portal's tuning (memory only) does not
// wait for it.
TEST_F(AdminWritesTest, EveryRegistryWriteWaitsOffTheCallbackThreads) {
  registry_->Hold();
  // The pool's two threads wait in the store.
  Add* first = NewCall<Add>();
  Add* second = NewCall<Add>();
  first->request = Request("first");
  second->request = Request("second");
  BeginAdd(first);
  BeginAdd(second);
  ASSERT_TRUE(WaitFor([&] { return registry_->waiting() == 2; }));

  auto* update = NewCall<Call<pb::UpdatePortalRequest, pb::UpdatePortalResponse>>();
  update->request.set_portal("other");
  update->request.set_plan("enterprise");
  Begin(update, [this](auto... args) { stub_->async()->UpdatePortal(args...); });
  EXPECT_TRUE(WaitFor([&] { return pool_.queued() == 1; })) << "UpdatePortal did not wait on the pool";
  auto* tune = NewCall<Call<pb::UpdatePortalTuningRequest, pb::UpdatePortalTuningResponse>>();
  tune->request.set_portal("other");
  tune->request.mutable_tuning()->set_max_concurrency(3);
  Begin(tune, [this](auto... args) { stub_->async()->UpdatePortalTuning(args...); });
  EXPECT_TRUE(WaitFor([&] { return pool_.queued() == 2; })) << "UpdatePortalTuning did not wait on the pool";
  // The lane is full: RemovePortal, were it in it, is refused at once.
  auto* remove = NewCall<Call<pb::RemovePortalRequest, pb::RemovePortalResponse>>();
  remove->request.set_portal("spare");
  Begin(remove, [this](auto... args) { stub_->async()->RemovePortal(args...); });
  ASSERT_TRUE(WaitFor([&] { return remove->done(); }));
  EXPECT_EQ(remove->status.error_code(), grpc::StatusCode::UNAVAILABLE) << remove->status.error_message();

  grpc::ClientContext configured_context;
  Bound(&configured_context);
  pb::UpdatePortalTuningRequest configured;
  configured.set_portal("configured");
  configured.mutable_tuning()->set_max_concurrency(2);
  pb::UpdatePortalTuningResponse configured_out;
  grpc::Status s = stub_->UpdatePortalTuning(&configured_context, configured, &configured_out);
  EXPECT_TRUE(s.ok()) << s.error_message();
  EXPECT_EQ(configured_out.portal().tuning().max_concurrency(), 2);

  registry_->Release();
  ASSERT_TRUE(WaitFor([&] { return first->done() && second->done() && update->done() && tune->done(); }, 120));
  EXPECT_TRUE(update->status.ok()) << update->status.error_message();
  EXPECT_EQ(update->response.portal().plan(), "enterprise");
  EXPECT_TRUE(tune->status.ok()) << tune->status.error_message();
  EXPECT_EQ(tune->response.portal().tuning().max_concurrency(), 3);
  grpc::ClientContext remove_context;
  Bound(&remove_context);
  pb::RemovePortalResponse removed;
  s = stub_->RemovePortal(&remove_context, remove->request, &removed);
  EXPECT_TRUE(s.ok()) << s.error_message();
  EXPECT_FALSE(gateway_->directory().Get("spare").ok());
}

}  // namespace
}  // namespace b24gate::admin_writes_test
