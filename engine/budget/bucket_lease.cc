#include "engine/budget/bucket_lease.h"

#include <algorithm>

namespace b24gate {

BucketPolicy LeasedPolicy(const BucketPolicy& policy, absl::Duration ttl) {
  BucketPolicy leased = policy;
  const double margin = policy.drain_per_second * absl::ToDoubleSeconds(ttl);
  leased.headroom = std::min(policy.headroom + margin, std::max(0.0, policy.burst - 1));
  return leased;
}

BucketLease::BucketLease(absl::Duration ttl, int max_held) : ttl_(ttl), max_held_(max_held) {}

void BucketLease::Expire(absl::Time now) const {
  while (!held_.empty() && held_.front() <= now) held_.pop_front();
  while (!spent_.empty() && spent_.front() + ttl_ <= now) spent_.pop_front();
}

int BucketLease::Held(absl::Time now) const {
  Expire(now);
  return static_cast<int>(held_.size());
}

void BucketLease::Spend(absl::Time now) {
  Expire(now);
  held_.pop_front();
  spent_.push_back(now);
}

void BucketLease::Asked(absl::Time now) { asked_at_ = std::max(asked_at_, now); }

int BucketLease::Wanted(absl::Time now) const {
  Expire(now);
  int target = static_cast<int>(spent_.size());
  // Asked since the last grant: at least one.
  if (asked_at_ > granted_at_) target = std::max(target, 1);
  target = std::min(target, max_held_);
  return std::max(0, target - static_cast<int>(held_.size()));
}

void BucketLease::Granted(int slots, absl::Time at) {
  for (int i = 0; i < slots; ++i) held_.push_back(at + ttl_);
  if (slots > 0) granted_at_ = at;
}

void BucketLease::set_max_held(int max_held) { max_held_ = std::max(1, max_held); }

}  // namespace b24gate
