#include "tests/emulator/online_sender.h"

#include <httplib.h>

#include <algorithm>
#include <utility>

#include "absl/time/clock.h"

namespace b24emu {

OnlineSender::OnlineSender(absl::Duration delay, int senders, int retries)
    : delay_(delay), retries_(retries) {
  for (int i = 0; i < senders; ++i) threads_.emplace_back([this] { Loop(); });
}

OnlineSender::~OnlineSender() {
  {
    absl::MutexLock lock(&mu_);
    stopping_ = true;
  }
  for (std::thread& t : threads_) t.join();
}

void OnlineSender::Post(std::string url, std::string form) {
  absl::MutexLock lock(&mu_);
  Queue({absl::Now() + delay_, std::move(url), std::move(form)});
}

void OnlineSender::Queue(Pending post) {
  auto at = std::upper_bound(pending_.begin(), pending_.end(), post.due,
                             [](absl::Time due, const Pending& p) { return due < p.due; });
  pending_.insert(at, std::move(post));
}

int64_t OnlineSender::sent() const {
  absl::MutexLock lock(&mu_);
  return sent_;
}

int64_t OnlineSender::lost() const {
  absl::MutexLock lock(&mu_);
  return lost_;
}

void OnlineSender::Loop() {
  absl::MutexLock lock(&mu_);
  while (!stopping_) {
    if (!pending_.empty() && pending_.front().due <= absl::Now()) {
      Pending post = std::move(pending_.front());
      pending_.pop_front();
      mu_.Unlock();
      const bool ok = Send(post);
      mu_.Lock();
      if (!ok && post.attempt <= retries_) {
        post.due = absl::Now() + std::min(absl::Seconds(2), absl::Milliseconds(100) * post.attempt);
        ++post.attempt;
        Queue(std::move(post));
        continue;
      }
      ++(ok ? sent_ : lost_);
      continue;
    }
    // Wakes for a new post, the first due time, or the stop.
    const size_t entries = pending_.size();
    const absl::Time next = pending_.empty() ? absl::InfiniteFuture() : pending_.front().due;
    auto changed = [this, entries]() ABSL_NO_THREAD_SAFETY_ANALYSIS {
      return stopping_ || pending_.size() != entries;
    };
    mu_.AwaitWithDeadline(absl::Condition(&changed), next);
  }
}

bool OnlineSender::Send(const Pending& post) {
  // "http://host:port/path": the client takes the origin, the request the path.
  const size_t scheme = post.url.find("://");
  const size_t path = scheme == std::string::npos ? std::string::npos : post.url.find('/', scheme + 3);
  if (path == std::string::npos) return false;
  httplib::Client client(post.url.substr(0, path));
  client.set_connection_timeout(2, 0);
  client.set_read_timeout(5, 0);
  httplib::Result res =
      client.Post(post.url.substr(path), post.form, "application/x-www-form-urlencoded");
  return res && res->status >= 200 && res->status < 300;
}

}  // namespace b24emu
