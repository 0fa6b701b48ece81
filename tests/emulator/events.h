// Bitrix24's classic event methods over any MethodTable: `event.bind`,
// `event.unbind`, `event.get`, `events`, and the offline queue
// (`event.offline.get`, `.clear`, `.error`, `.list`). Successful CRM writes
// made through the wrapped table (crm.{lead,deal,contact,company}.
// {add,update,delete}, directly or inside a batch) fire ONCRM<ENTITY><ACTION>
// with data {"FIELDS": {"ID": id}}; a fired event is queued once for an
// offline binding of its name unless the call carried the binding's
// `auth_connector`; a change of an object whose event is still queued and not
// taken by a reader only updates that row's time (the queue holds the latest
// change per object, not every change). A binding with a `handler` URL is
// online: each fired event is posted to it (EventPoster) with the portal's
// auth[application_token]; ONOFFLINEEVENT bound so is posted whenever the
// offline queue goes from empty to not empty. README "Events".
//
// Thread-safety: thread-safe; the wrapped table is called without the lock.
#ifndef B24EMU_EVENTS_H_
#define B24EMU_EVENTS_H_

#include <cstdint>
#include <deque>
#include <string>
#include <utility>
#include <vector>

#include <nlohmann/json.hpp>

#include "absl/base/thread_annotations.h"
#include "absl/synchronization/mutex.h"
#include "tests/emulator/clock.h"
#include "tests/emulator/method_api.h"
#include "tests/emulator/online_sender.h"

namespace b24emu {

// What the posts say about the portal (their auth[...] fields).
struct PortalIdentity {
  std::string domain = "b24-emulator.test";
  std::string member_id = "b24emulatormember";
  std::string application_token = "emulator-application-token";
};

class EventingMethods : public MethodTable {
 public:
  // `inner`, `clock` and `poster` must outlive this table; `poster` null:
  // online binds are refused.
  EventingMethods(MethodTable* inner, const Clock* clock, EventPoster* poster = nullptr,
                  PortalIdentity identity = {})
      : inner_(inner), clock_(clock), poster_(poster), identity_(std::move(identity)) {}

  bool HasMethod(const std::string& method) const override;
  MethodResult Invoke(const MethodCall& call) override;
  bool IsWrite(const std::string& method) const override { return inner_->IsWrite(method); }
  // The inner table's, with the event methods this table adds to it (none
  // of them REST 3.0's).
  std::vector<std::string> MethodNames() const override { return inner_->MethodNames(); }

  // The event a successful call fires ("" = none), e.g. crm.deal.update ->
  // ONCRMDEALUPDATE. Exposed for tests.
  static std::string EventOf(const std::string& method);

 private:
  struct Binding {
    int64_t id = 0;
    std::string event;    // upper case
    std::string handler;  // "" = offline
    std::string auth_connector;
    int64_t user_id = 1;
  };
  struct Post {
    std::string url;
    std::string form;
  };
  struct Row {
    int64_t id = 0;
    std::string timestamp;
    std::string event;
    nlohmann::json data;
    int64_t user_id = 1;
    std::string message_id;
    std::string process_id;  // "" = not taken by any process
    bool error = false;
  };

  MethodResult Bind(const MethodCall& call);
  MethodResult Unbind(const MethodCall& call);
  MethodResult ListBindings();
  MethodResult OfflineGet(const MethodCall& call);
  MethodResult OfflineClear(const MethodCall& call);
  MethodResult OfflineError(const MethodCall& call);
  MethodResult OfflineList(const MethodCall& call);
  // Queues `event` for the offline bindings the call's auth_connector does
  // not exclude.
  void Fire(const MethodCall& call, const MethodResult& result, const std::string& event);
  // REQUIRES: mu_ held. Queues `data` of `event` offline, or updates its row.
  void Enqueue(const MethodCall& call, const std::string& event, const nlohmann::json& data)
      ABSL_EXCLUSIVE_LOCKS_REQUIRED(mu_);
  // The form body of an online post.
  std::string PostForm(const Binding& binding, const std::string& event,
                       const nlohmann::json& data) const;
  static nlohmann::json RowJson(const Row& row, bool with_state);

  MethodTable* const inner_;
  const Clock* const clock_;
  EventPoster* const poster_;
  const PortalIdentity identity_;
  absl::Mutex mu_;
  std::vector<Binding> bindings_ ABSL_GUARDED_BY(mu_);
  std::deque<Row> queue_ ABSL_GUARDED_BY(mu_);  // oldest first
  int64_t next_row_id_ ABSL_GUARDED_BY(mu_) = 1;
  int64_t next_process_ ABSL_GUARDED_BY(mu_) = 1;
  int64_t next_binding_id_ ABSL_GUARDED_BY(mu_) = 1;
};

}  // namespace b24emu

#endif  // B24EMU_EVENTS_H_
