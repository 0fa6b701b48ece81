// Offline rows as an offline source hands them to an event store: one
// ONCRMDEALADD per record, the portal's row id equal to the record's, so a
// test can hand the same rows twice (a pass that died before its clear, or
// two replicas) and see them stored once.
#ifndef B24GATE_TESTS_ENGINE_EVENTS_OFFLINE_ROWS_H_
#define B24GATE_TESTS_ENGINE_EVENTS_OFFLINE_ROWS_H_

#include <string>
#include <utility>
#include <vector>

#include "engine/events/event_subscription.h"

namespace b24gate::testing {

// Rows for records `from` to `to`, both included.
inline std::vector<QueuedEvent> OfflineRows(int from, int to) {
  std::vector<QueuedEvent> rows;
  for (int i = from; i <= to; ++i) {
    QueuedEvent e;
    e.event = "ONCRMDEALADD";
    e.record_id = std::to_string(i);
    e.source_id = e.record_id;
    rows.push_back(std::move(e));
  }
  return rows;
}

}  // namespace b24gate::testing

#endif  // B24GATE_TESTS_ENGINE_EVENTS_OFFLINE_ROWS_H_
