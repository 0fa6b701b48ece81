#include "engine/http/keep_warm_set.h"

#include <algorithm>
#include <cstdint>

namespace b24gate {

KeepWarmSet::KeepWarmSet(absl::Duration keep_warm_for, WatchList* list)
    : keep_warm_for_(keep_warm_for), list_(list) {}

KeepWarmSet::Origin& KeepWarmSet::Get(const std::string& name) {
  auto [it, inserted] = origins_.try_emplace(name);
  if (inserted) it->second.name = name;
  return it->second;
}

void KeepWarmSet::Used(const std::string& origin, absl::Time now, const TlsOptions& tls) {
  if (keep_warm_for_ <= absl::ZeroDuration()) return;
  Origin& o = Get(origin);
  o.last_used = now;
  o.tls = tls;
  // To the young end of by_use_: it is the most recently used.
  if (o.kept) {
    by_use_.splice(by_use_.end(), by_use_, o.use);
    return;
  }
  o.kept = true;
  o.use = by_use_.insert(by_use_.end(), &o);
  for (int fd : o.fds) Watch(fd, fds_.at(fd));
}

void KeepWarmSet::Started(const std::string& origin) {
  Origin& o = Get(origin);
  if (o.running++ == 0) Unschedule(o);
}

void KeepWarmSet::Finished(const std::string& origin, absl::Time now) {
  auto it = origins_.find(origin);
  if (it == origins_.end() || it->second.running == 0) return;
  Origin& o = it->second;
  if (--o.running == 0) {
    ListWaiting(o);
    Schedule(o, now);
  }
  Drop(o);
}

void KeepWarmSet::Limit(const std::string& origin, absl::Duration limit) {
  auto it = origins_.find(origin);
  if (it != origins_.end()) it->second.limit = limit;
}

std::optional<long> KeepWarmSet::MaxAgeSeconds(const std::string& origin) const {
  auto it = origins_.find(origin);
  if (it == origins_.end() || !it->second.limit) return std::nullopt;
  const int64_t seconds = absl::ToInt64Seconds(*it->second.limit - kAhead);
  return static_cast<long>(std::max<int64_t>(seconds, 0));
}

absl::Time KeepWarmSet::NextDue() const {
  return due_.empty() ? absl::InfiniteFuture() : due_.begin()->first;
}

void KeepWarmSet::TakeDue(absl::Time now, std::vector<Due>* due) {
  due->clear();
  while (!due_.empty() && due_.begin()->first <= now) {
    Origin& o = *due_.begin()->second;
    Unschedule(o);
    due->push_back({o.name, std::vector<int>(o.fds.begin(), o.fds.end())});
  }
}

void KeepWarmSet::Counted(int fd, const std::string& origin) {
  Uncounted(fd);  // a number the kernel handed out again
  Origin& o = Get(origin);
  o.fds.insert(fd);
  Socket& socket = fds_[fd];
  socket.origin = &o;
  if (o.kept) Watch(fd, socket);
}

void KeepWarmSet::Uncounted(int fd) {
  auto it = fds_.find(fd);
  if (it == fds_.end()) return;
  Origin& o = *it->second.origin;
  if (it->second.listed) Unlist(fd, it->second);
  fds_.erase(it);
  o.fds.erase(fd);
  o.waiting.erase(std::remove(o.waiting.begin(), o.waiting.end(), fd), o.waiting.end());
  Drop(o);
}

bool KeepWarmSet::Readable(int fd) {
  auto it = fds_.find(fd);
  if (it == fds_.end() || !it->second.listed) return false;
  Origin& o = *it->second.origin;
  if (o.running == 0) return true;
  // Level-triggered: left in the list, it would wake every poll until
  // libcurl reads the data, or for ever if it is an idle socket closed.
  Unlist(fd, it->second);
  o.waiting.push_back(fd);
  return false;
}

void KeepWarmSet::Expire(absl::Time now) {
  while (!by_use_.empty() && now - by_use_.front()->last_used > keep_warm_for_) {
    Origin& o = *by_use_.front();
    by_use_.pop_front();
    o.kept = false;
    Unschedule(o);
    for (int fd : o.fds) {
      Socket& socket = fds_.at(fd);
      if (socket.listed) Unlist(fd, socket);
    }
    o.waiting.clear();
    Drop(o);
  }
}

const TlsOptions* KeepWarmSet::Kept(const std::string& origin) const {
  auto it = origins_.find(origin);
  return it != origins_.end() && it->second.kept ? &it->second.tls : nullptr;
}

void KeepWarmSet::Watch(int fd, Socket& socket) {
  if (socket.origin->running > 0) {
    // Opened for (or taken by) a transfer: its data is not a close.
    socket.origin->waiting.push_back(fd);
    return;
  }
  list_->Add(fd);
  socket.listed = true;
  ++watched_;
}

void KeepWarmSet::Unlist(int fd, Socket& socket) {
  list_->Remove(fd);
  socket.listed = false;
  --watched_;
}

void KeepWarmSet::ListWaiting(Origin& origin) {
  if (!origin.kept) return;
  for (int fd : origin.waiting) {
    list_->Add(fd);
    fds_.at(fd).listed = true;
    ++watched_;
  }
  origin.waiting.clear();
}

void KeepWarmSet::Schedule(Origin& origin, absl::Time now) {
  if (!origin.kept || !origin.limit || *origin.limit - kAhead < kShortestSpell) return;
  origin.due = now + *origin.limit - kAhead;
  due_.emplace(origin.due, &origin);
}

void KeepWarmSet::Unschedule(Origin& origin) {
  if (origin.due == absl::InfiniteFuture()) return;
  due_.erase({origin.due, &origin});
  origin.due = absl::InfiniteFuture();
}

void KeepWarmSet::Drop(Origin& origin) {
  if (origin.kept || origin.running > 0 || !origin.fds.empty()) return;
  // Found first: the key erase() would read lives in the node it frees.
  origins_.erase(origins_.find(origin.name));
}

}  // namespace b24gate
