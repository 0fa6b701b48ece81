// An event store for OfflineSource tests: the parts of OnlineEventStore the
// source never calls (online Store, Subscribe, the sizes) answered once here,
// so a test's fake writes only StoreOnce and HasGroups.
#ifndef B24GATE_TESTS_ENGINE_EVENTS_OFFLINE_ONLY_STORE_H_
#define B24GATE_TESTS_ENGINE_EVENTS_OFFLINE_ONLY_STORE_H_

#include <cstdint>
#include <map>
#include <memory>
#include <optional>
#include <string>
#include <vector>

#include "engine/events/online_event_store.h"

namespace b24gate {

class OfflineOnlyStore : public OnlineEventStore {
 public:
  absl::Status Store(const std::string&, QueuedEvent) override { return absl::UnimplementedError("online"); }
  absl::StatusOr<std::shared_ptr<EventSubscription>> Subscribe(const std::string&, const std::string&,
                                                               const std::vector<std::string>&, EventSink*,
                                                               Prepare) override {
    return absl::UnimplementedError("not here");
  }
  std::optional<int64_t> log_bytes() const override { return std::nullopt; }
  std::map<std::string, int64_t> stream_entries() const override { return {}; }
};

}  // namespace b24gate

#endif  // B24GATE_TESTS_ENGINE_EVENTS_OFFLINE_ONLY_STORE_H_
