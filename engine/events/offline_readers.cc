#include "engine/events/offline_readers.h"

#include <iterator>
#include <vector>

#include "absl/strings/str_cat.h"

namespace b24gate {

absl::StatusOr<OfflineReaders::Attached> OfflineReaders::Attach(const std::string& portal,
                                                                const std::string& consumer) {
  absl::MutexLock lock(&mu_);
  std::shared_ptr<OfflineReader>& reader = readers_[{portal, consumer}];
  if (reader == nullptr || reader->Disposable()) {
    reader = nullptr;
    // The idle ones go whenever a reader is made, so they stay few.
    for (auto it = readers_.begin(); it != readers_.end();) {
      it = it->second != nullptr && it->second->Disposable() ? readers_.erase(it) : std::next(it);
    }
    OfflineReader::Options options = options_;
    options.portal = portal;
    options.consumer = consumer;
    reader = std::make_shared<OfflineReader>(std::move(options), ledger_, clock_, timer_);
  }
  if (reader->attached() >= max_members_) {
    return absl::ResourceExhaustedError(absl::StrCat("consumer \"", consumer, "\" has ", reader->attached(),
                                                     " offline streams open already (the most)"));
  }
  return Attached{reader, reader->Attach()};
}

void OfflineReaders::PollNow(const std::string& portal) {
  std::vector<std::shared_ptr<OfflineReader>> readers;
  {
    absl::MutexLock lock(&mu_);
    for (auto it = readers_.lower_bound({portal, ""}); it != readers_.end() && it->first.first == portal; ++it) {
      readers.push_back(it->second);
    }
  }
  for (const std::shared_ptr<OfflineReader>& reader : readers) reader->PollNow();
}

}  // namespace b24gate
