// This replica's OfflineReaders, one per (portal, consumer) that has a
// stream: every offline stream of a consumer attaches to the same reader,
// since the portal marks the consumer's rows with one process_id and two
// readers of it would read the same rows. A reader whose last stream has
// left is forgotten once it is idle (Disposable), and a failed one is
// replaced by the next stream; the rows it held stay marked in the portal
// for the next read with the consumer's process_id.
//
// Thread-safety: thread-safe. Its lock is taken before a reader's.
#ifndef B24GATE_ENGINE_EVENTS_OFFLINE_READERS_H_
#define B24GATE_ENGINE_EVENTS_OFFLINE_READERS_H_

#include <cstddef>
#include <map>
#include <memory>
#include <string>
#include <utility>

#include "absl/base/thread_annotations.h"
#include "absl/status/statusor.h"
#include "absl/synchronization/mutex.h"
#include "engine/events/offline_reader.h"

namespace b24gate {

class OfflineReaders {
 public:
  struct Attached {
    std::shared_ptr<OfflineReader> reader;
    OfflineReader::MemberId member = 0;
  };

  // `options` for every reader (portal and consumer are set per reader);
  // `ledger` and `clock` must outlive the readers.
  OfflineReaders(EventLedger* ledger, Clock* clock, OfflineReader::Timer timer,
                 OfflineReader::Options options, size_t max_members = 64)
      : ledger_(ledger), clock_(clock), timer_(std::move(timer)), options_(std::move(options)),
        max_members_(max_members) {}

  // A new member of the reader of (`portal`, `consumer`), which is made if
  // need be. RESOURCE_EXHAUSTED when it has max_members already.
  absl::StatusOr<Attached> Attach(const std::string& portal, const std::string& consumer);
  // ONOFFLINEEVENT: the readers of `portal` that wait for their timer read now.
  void PollNow(const std::string& portal);

 private:
  using Key = std::pair<std::string, std::string>;  // (portal, consumer)

  EventLedger* const ledger_;
  Clock* const clock_;
  const OfflineReader::Timer timer_;
  const OfflineReader::Options options_;
  const size_t max_members_;
  absl::Mutex mu_;
  std::map<Key, std::shared_ptr<OfflineReader>> readers_ ABSL_GUARDED_BY(mu_);
};

}  // namespace b24gate

#endif  // B24GATE_ENGINE_EVENTS_OFFLINE_READERS_H_
