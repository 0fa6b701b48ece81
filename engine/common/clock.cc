#include "engine/common/clock.h"

#include <thread>

namespace b24gate {
namespace {

class RealClock : public Clock {
 public:
  absl::Time Now() const override { return absl::Now(); }
  bool AwaitWithDeadline(absl::Mutex* mu, const absl::Condition& cond,
                         absl::Time deadline) override {
    return mu->AwaitWithDeadline(cond, deadline);
  }
};

bool Never(void*) { return false; }

}  // namespace

void Clock::SleepUntil(absl::Time deadline) {
  absl::Mutex mu;
  absl::MutexLock lock(&mu);
  AwaitWithDeadline(&mu, absl::Condition(&Never, nullptr), deadline);
}

Clock* Clock::Real() {
  static RealClock* clock = new RealClock;
  return clock;
}

absl::Time FakeClock::Now() const {
  absl::MutexLock lock(&state_mu_);
  return now_;
}

bool FakeClock::AwaitWithDeadline(absl::Mutex* mu, const absl::Condition& cond,
                                  absl::Time deadline) {
  mu->AssertHeld();
  if (cond.Eval()) return true;
  Waiter waiter{mu, deadline};
  std::list<Waiter*>::iterator registered;
  {
    // Lock order: the waiter's mutex, then state_mu_.
    absl::MutexLock lock(&state_mu_);
    if (now_ >= deadline) return false;
    registered = waiters_.insert(waiters_.end(), &waiter);
    blocked_.fetch_add(1);
  }
  struct Wait {
    const FakeClock* clock;
    const absl::Condition* cond;
    Waiter* waiter;
  } wait{this, &cond, &waiter};
  mu->Await(absl::Condition(
      +[](Wait* w) {
        if (!w->waiter->fired && !w->cond->Eval()) {
          // Several waiters may share `mu` and a condition (a pool's
          // workers): one found true may lose the race for the lock and
          // wait on; it is blocked again.
          if (!w->waiter->counted) {
            w->waiter->counted = true;
            w->clock->blocked_.fetch_add(1);
          }
          return false;
        }
        w->clock->Unblocked(w->waiter);
        return true;
      },
      &wait));
  {
    absl::MutexLock lock(&state_mu_);
    waiters_.erase(registered);
  }
  return cond.Eval();
}

void FakeClock::Advance(absl::Duration d) {
  {
    absl::MutexLock lock(&state_mu_);
    now_ += d;
  }
  WakeDue();
}

void FakeClock::Set(absl::Time t) {
  {
    absl::MutexLock lock(&state_mu_);
    now_ = t;
  }
  WakeDue();
}

void FakeClock::Unblocked(Waiter* w) const {
  if (!w->counted) return;
  w->counted = false;
  blocked_.fetch_sub(1);
}

bool FakeClock::AwaitBlocked(int threads, absl::Duration timeout) const {
  // Polled: the count changes inside other mutexes' wait conditions, where
  // taking a lock to signal would be unsafe.
  absl::Time give_up = absl::Now() + timeout;
  while (blocked_.load() != threads) {
    if (absl::Now() >= give_up) return false;
    absl::SleepFor(absl::Microseconds(100));
  }
  return true;
}

void FakeClock::WakeDue() ABSL_NO_THREAD_SAFETY_ANALYSIS {
  // A waiter holds its own mutex while it registers and unregisters (then
  // takes state_mu_), so its mutex is only tried here, never waited for: a
  // busy waiter is retried after state_mu_ has been released. While
  // state_mu_ is held, a registered waiter cannot leave, so its mutex is
  // alive whenever it is touched.
  for (;;) {
    bool busy = false;
    {
      absl::MutexLock lock(&state_mu_);
      for (Waiter* w : waiters_) {
        if (w->deadline > now_ || w->notified) continue;
        if (!w->mu->TryLock()) {
          busy = true;
          continue;
        }
        w->fired = true;  // the unlock re-evaluates the waiter's condition
        w->notified = true;
        Unblocked(w);
        w->mu->Unlock();
      }
    }
    if (!busy) return;
    std::this_thread::yield();
  }
}

}  // namespace b24gate
