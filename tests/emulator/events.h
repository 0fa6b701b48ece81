// Bitrix24's classic event methods over any MethodTable: `event.bind`,
// `event.unbind`, `event.get`, `events`, and the offline queue
// (`event.offline.get`, `.clear`, `.error`, `.list`). Successful CRM writes
// made through the wrapped table (crm.{lead,deal,contact,company}.
// {add,update,delete}, directly or inside a batch) fire ONCRM<ENTITY><ACTION>
// with data {"FIELDS": {"ID": id}}; a fired event is queued once for an
// offline binding of its name unless the call carried the binding's
// `auth_connector`; a change of an object whose event is still queued and not
// taken by a reader only updates that row's time (the queue holds the latest
// change per object, not every change). Online handlers (a `handler` URL) are not emulated: such
// a bind is refused, so nothing is silently dropped. README "Events".
//
// Thread-safety: thread-safe; the wrapped table is called without the lock.
#ifndef B24EMU_EVENTS_H_
#define B24EMU_EVENTS_H_

#include <cstdint>
#include <deque>
#include <string>
#include <vector>

#include <nlohmann/json.hpp>

#include "absl/base/thread_annotations.h"
#include "absl/synchronization/mutex.h"
#include "tests/emulator/clock.h"
#include "tests/emulator/method_api.h"

namespace b24emu {

class EventingMethods : public MethodTable {
 public:
  // `inner` and `clock` must outlive this table.
  EventingMethods(MethodTable* inner, const Clock* clock) : inner_(inner), clock_(clock) {}

  bool HasMethod(const std::string& method) const override;
  MethodResult Invoke(const MethodCall& call) override;

  // The event a successful call fires ("" = none), e.g. crm.deal.update ->
  // ONCRMDEALUPDATE. Exposed for tests.
  static std::string EventOf(const std::string& method);

 private:
  struct Binding {
    std::string event;  // upper case
    std::string auth_connector;
    int64_t user_id = 1;
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
  static nlohmann::json RowJson(const Row& row, bool with_state);

  MethodTable* const inner_;
  const Clock* const clock_;
  absl::Mutex mu_;
  std::vector<Binding> bindings_ ABSL_GUARDED_BY(mu_);
  std::deque<Row> queue_ ABSL_GUARDED_BY(mu_);  // oldest first
  int64_t next_row_id_ ABSL_GUARDED_BY(mu_) = 1;
  int64_t next_process_ ABSL_GUARDED_BY(mu_) = 1;
};

}  // namespace b24emu

#endif  // B24EMU_EVENTS_H_
