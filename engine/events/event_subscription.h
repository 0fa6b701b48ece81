// What a Subscribe stream reads from: a subscription delivers events to its
// sink and takes the subscriber's acknowledgements: a member of a consumer
// group of an OnlineEventStore (OnlineEventHub or RedisEventHub), online or
// offline events alike.
//
// Thread-safety: implementations are thread-safe.
#ifndef B24GATE_ENGINE_EVENTS_EVENT_SUBSCRIPTION_H_
#define B24GATE_ENGINE_EVENTS_EVENT_SUBSCRIPTION_H_

#include <string>
#include <vector>

#include <nlohmann/json.hpp>

#include "absl/status/status.h"

namespace b24gate {

// What an enriching subscription learned of an event's record
// (EventEnricher); kNotRead for every other one.
enum class RecordState {
  kNotRead,     // not asked for, or the event names no record the gateway reads
  kPresent,     // QueuedEvent::record holds its fields, read after the event
  kDeleted,     // the record is gone (a delete event, or the read found none)
  kUnreadable,  // the read failed; QueuedEvent::record_error says why
};

// One event as a subscriber receives it.
struct QueuedEvent {
  std::string delivery_id;      // what the subscriber acknowledges
  // The source's own id, by which a store recognises a repeat (an offline
  // row's ID); "" for online posts. Not delivered.
  std::string source_id;
  std::string event;            // e.g. ONCRMDEALUPDATE
  std::string record_id;        // data.FIELDS.ID as text; "" when absent
  std::string timestamp;        // as the portal wrote it
  nlohmann::ordered_json data;  // the event's data
  int attempt = 1;
  RecordState record_state = RecordState::kNotRead;
  nlohmann::ordered_json record;  // the record's fields when kPresent
  std::string record_error;       // why, when kUnreadable
};

// A scalar of the portal's JSON as text: strings as they are, numbers as
// written (ids come as either), anything else "".
inline std::string ScalarText(const nlohmann::ordered_json& value) {
  if (value.is_string()) return value.get<std::string>();
  if (value.is_number()) return value.dump();
  return "";
}

// An event's data.FIELDS.ID as text (QueuedEvent::record_id); "" when absent.
inline std::string RecordIdOf(const nlohmann::ordered_json& data) {
  if (!data.is_object() || !data.contains("FIELDS") || !data["FIELDS"].is_object()) return "";
  return ScalarText(data["FIELDS"].value("ID", nlohmann::ordered_json()));
}

class EventSink {
 public:
  virtual ~EventSink() = default;
  virtual void Deliver(std::vector<QueuedEvent> events) = 0;
  // The subscription ended on its own (a failed call); the last sink call.
  virtual void End(const absl::Status& status) = 0;
};

class EventSubscription {
 public:
  virtual ~EventSubscription() = default;
  // Begins delivering. Call once.
  virtual void Start() = 0;
  // The subscriber has processed these deliveries. INVALID_ARGUMENT (naming
  // the position in `where`) for an id that is not an unacknowledged
  // delivery of this subscription; then nothing is taken.
  virtual absl::Status Ack(const std::vector<std::string>& delivery_ids, const std::string& where) = 0;
  // No more deliveries: after it returns the sink is never called again.
  // The unacknowledged events wait for the consumer's next stream.
  virtual void Stop() = 0;
};

}  // namespace b24gate

#endif  // B24GATE_ENGINE_EVENTS_EVENT_SUBSCRIPTION_H_
