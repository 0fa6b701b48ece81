// Posts online events to their handlers the way Bitrix24 does: from the
// portal's side, some time after the change (a fixed delay here), once. A
// handler that is down or answers an error loses the event: nothing is
// retried (the offline queue is Bitrix24's way not to lose events). Sources
// disagree on that, so `retries` > 0 is the retrying variant: a post that
// failed is sent again, up to `retries` more times, after 0.1 s, 0.2 s, ...
// (at most 2 s apart).
//
// Thread-safety: thread-safe; `senders` background threads send, taking
// posts in order of due time (with more than one, posts may arrive out of
// order, as from Bitrix24's many servers).
#ifndef B24EMU_ONLINE_SENDER_H_
#define B24EMU_ONLINE_SENDER_H_

#include <cstdint>
#include <deque>
#include <string>
#include <thread>
#include <vector>

#include "absl/base/thread_annotations.h"
#include "absl/synchronization/mutex.h"
#include "absl/time/time.h"

namespace b24emu {

// Where EventingMethods hands its online posts (a fake in unit tests).
class EventPoster {
 public:
  virtual ~EventPoster() = default;
  // POSTs `form` (application/x-www-form-urlencoded) to `url` later.
  virtual void Post(std::string url, std::string form) = 0;
};

class OnlineSender : public EventPoster {
 public:
  OnlineSender(absl::Duration delay, int senders = 1, int retries = 0);
  ~OnlineSender() override;  // drops what is not sent yet

  void Post(std::string url, std::string form) override;

  int64_t sent() const;  // answered 2xx
  int64_t lost() const;  // refused, or the handler unreachable (every retry too)

 private:
  struct Pending {
    absl::Time due;
    std::string url;
    std::string form;
    int attempt = 1;
  };
  // REQUIRES: mu_ held. Queues `post` in order of due time.
  void Queue(Pending post) ABSL_EXCLUSIVE_LOCKS_REQUIRED(mu_);
  void Loop();
  // One POST; true when answered 2xx.
  static bool Send(const Pending& post);

  const absl::Duration delay_;
  const int retries_;
  mutable absl::Mutex mu_;
  std::deque<Pending> pending_ ABSL_GUARDED_BY(mu_);  // due times ascending
  bool stopping_ ABSL_GUARDED_BY(mu_) = false;
  int64_t sent_ ABSL_GUARDED_BY(mu_) = 0;
  int64_t lost_ ABSL_GUARDED_BY(mu_) = 0;
  std::vector<std::thread> threads_;
};

}  // namespace b24emu

#endif  // B24EMU_ONLINE_SENDER_H_
