#include "engine/budget/redis_budget_store.h"

#include <algorithm>
#include <random>
#include <utility>
#include <vector>

#include "absl/strings/numbers.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_split.h"
#include "engine/budget/budget_scripts.h"

namespace b24gate {
namespace {

std::string RandomReplicaId() {
  std::random_device rd;
  std::mt19937_64 rng((static_cast<uint64_t>(rd()) << 32) ^ rd());
  return absl::StrCat(absl::Hex(rng(), absl::kZeroPad16));
}

int64_t Micros(absl::Time t) { return t == absl::InfinitePast() ? 0 : absl::ToUnixMicros(t); }
absl::Time FromMicros(int64_t us) { return us <= 0 ? absl::InfinitePast() : absl::FromUnixMicros(us); }

// After publishing, the sync thread waits this long before publishing again,
// so the answers of a batch (one Observe per command) go in one round trip.
constexpr absl::Duration kCoalesce = absl::Milliseconds(5);

}  // namespace

// ---- The two faces the portal sees ------------------------------------------

class RedisBudgetStore::RequestsFace : public RequestBudget {
 public:
  explicit RequestsFace(RedisBudgetStore* store) : s_(*store) {}

  absl::Time NextFree(absl::Time now) const override {
    absl::MutexLock lock(&s_.mu_);
    if (s_.fallback_) return s_.share_.NextFree(now);
    absl::Time free = s_.mirror_.NextFree(now);
    return now < s_.grace_until_ ? std::max(free, s_.share_.NextFree(now)) : free;
  }

  absl::Time Reserve(absl::Time now) override {
    absl::MutexLock lock(&s_.mu_);
    if (!s_.fallback_) {
      const bool grace = now < s_.grace_until_;
      if (absl::Time free = s_.share_.NextFree(now); grace && free > now) return free;
      absl::StatusOr<absl::Duration> wait = s_.RunBucket("take", now);
      if (wait.ok()) {
        if (*wait > absl::ZeroDuration()) return now + *wait;
        if (grace) s_.share_.Reserve(now);
        return now;
      }
      s_.FallBack(wait.status(), now);
    }
    if (absl::Time free = s_.share_.NextFree(now); free > now) return free;
    return s_.share_.Reserve(now);
  }

  void MarkFull(absl::Time now) override {
    absl::MutexLock lock(&s_.mu_);
    s_.mirror_.MarkFull(now);
    if (!s_.fallback_) {
      absl::StatusOr<absl::Duration> done = s_.RunBucket("full", now);
      if (done.ok()) return;
      s_.FallBack(done.status(), now);
    }
    s_.share_.MarkFull(now);
  }

  double Level(absl::Time now) const override {
    absl::MutexLock lock(&s_.mu_);
    return s_.fallback_ ? s_.share_.Level(now) * s_.options_.replicas : s_.mirror_.Level(now);
  }

  void SetPolicy(BucketPolicy policy, absl::Time now) override {
    absl::MutexLock lock(&s_.mu_);
    s_.policy_ = policy;
    s_.mirror_.SetPolicy(policy, now);
    s_.share_.SetPolicy(s_.ShareOf(policy), now);
  }

  BucketPolicy policy() const override {
    absl::MutexLock lock(&s_.mu_);
    return s_.policy_;
  }

 private:
  RedisBudgetStore& s_;
};

class RedisBudgetStore::OperatingFace : public OperatingBudget {
 public:
  explicit OperatingFace(RedisBudgetStore* store) : s_(*store) {}

  void Observe(const std::string& method, const nlohmann::ordered_json& time,
               absl::Time now) override {
    absl::MutexLock lock(&s_.mu_);
    s_.tracker_.Observe(method, time, now);
    s_.reported_.insert(method);
    s_.kicked_ = true;
  }
  void Blocked(const std::string& method, const nlohmann::ordered_json& time,
               absl::Time now) override {
    absl::MutexLock lock(&s_.mu_);
    s_.tracker_.Blocked(method, time, now);
    s_.reported_.insert(method);
    s_.kicked_ = true;
  }
  absl::Time ReadyAt(const std::string& method) const override {
    absl::MutexLock lock(&s_.mu_);
    return s_.tracker_.ReadyAt(method);
  }
  double Operating(const std::string& method) const override {
    absl::MutexLock lock(&s_.mu_);
    return s_.tracker_.Operating(method);
  }
  const std::map<std::string, double> Snapshot() const override {
    absl::MutexLock lock(&s_.mu_);
    return s_.tracker_.Snapshot();
  }
  void SetPolicy(OperatingPolicy policy) override {
    absl::MutexLock lock(&s_.mu_);
    s_.tracker_.SetPolicy(policy);
    s_.window_ = policy.window;
  }
  absl::Duration Estimate(const std::string& method) const override {
    absl::MutexLock lock(&s_.mu_);
    return s_.tracker_.Estimate(method);
  }
  absl::Time FitsAt(const std::string& method, absl::Duration cost,
                    absl::Time now) const override {
    absl::MutexLock lock(&s_.mu_);
    // Apart from the others, each replica may spend only its share of what
    // is left: its costs count N times.
    return s_.tracker_.FitsAt(method, s_.fallback_ ? cost * s_.options_.replicas : cost, now);
  }
  void Reserve(const std::string& method, absl::Duration cost) override {
    absl::MutexLock lock(&s_.mu_);
    s_.tracker_.Reserve(method, cost);
    s_.kicked_ = true;
  }
  void Release(const std::string& method, absl::Duration cost) override {
    absl::MutexLock lock(&s_.mu_);
    s_.tracker_.Release(method, cost);
    s_.kicked_ = true;
  }
  absl::Duration Left(const std::string& method) const override {
    absl::MutexLock lock(&s_.mu_);
    return s_.tracker_.Left(method);
  }
  absl::Duration Reserved(const std::string& method) const override {
    absl::MutexLock lock(&s_.mu_);
    return s_.tracker_.Reserved(method);
  }

 private:
  RedisBudgetStore& s_;
};

// ---- The sharing (one per gateway) -------------------------------------------

RedisBudgetSharing::RedisBudgetSharing(SharedBudgetOptions options, Clock* clock)
    : options_(std::move(options)),
      client_(std::make_shared<RedisClient>(options_.redis, clock)),
      replica_id_(RandomReplicaId()) {}

std::unique_ptr<BudgetStore> RedisBudgetSharing::StoreFor(const std::string& portal,
                                                          BucketPolicy bucket,
                                                          OperatingPolicy operating,
                                                          Clock* clock) {
  return std::make_unique<RedisBudgetStore>(client_, options_, portal, replica_id_, bucket,
                                            operating, clock);
}

// ---- The store ---------------------------------------------------------------

RedisBudgetStore::RedisBudgetStore(std::shared_ptr<RedisClient> client,
                                   SharedBudgetOptions options, std::string portal,
                                   std::string replica_id, BucketPolicy bucket,
                                   OperatingPolicy operating, Clock* clock)
    : client_(std::move(client)),
      options_(std::move(options)),
      portal_(std::move(portal)),
      replica_id_(std::move(replica_id)),
      clock_(clock),
      policy_(bucket),
      mirror_(bucket),
      share_(ShareOf(bucket)),
      tracker_(operating),
      window_(operating.window),
      requests_(std::make_unique<RequestsFace>(this)),
      operating_(std::make_unique<OperatingFace>(this)) {
  sync_ = std::thread([this] { SyncLoop(); });
}

RedisBudgetStore::~RedisBudgetStore() {
  {
    absl::MutexLock lock(&mu_);
    stopping_ = true;
  }
  sync_.join();
}

RequestBudget& RedisBudgetStore::requests() { return *requests_; }
OperatingBudget& RedisBudgetStore::operating() { return *operating_; }

BudgetStatus RedisBudgetStore::Status() const {
  absl::MutexLock lock(&mu_);
  return {fallback_, errors_};
}

std::string RedisBudgetStore::Key(const std::string& name) const {
  return absl::StrCat(options_.key_prefix, "{", portal_, "}:", name);
}

BucketPolicy RedisBudgetStore::ShareOf(const BucketPolicy& policy) const {
  BucketPolicy share = policy;
  double n = std::max(1, options_.replicas);
  share.burst = policy.burst / n;
  share.drain_per_second = policy.drain_per_second / n;
  share.headroom = policy.headroom / n;
  return share;
}

absl::StatusOr<absl::Duration> RedisBudgetStore::RunBucket(const char* op, absl::Time now) {
  absl::StatusOr<RedisReply> reply = client_->Eval(
      BucketScript(), {Key("bucket")},
      {absl::StrCat(policy_.burst), absl::StrCat(policy_.drain_per_second),
       absl::StrCat(policy_.headroom), op});
  double level = 0;
  if (reply.ok() && (reply->elements.size() != 3 ||
                     !absl::SimpleAtod(reply->elements[1].str, &level))) {
    reply = absl::InternalError("unexpected answer from the bucket script");
  }
  if (!reply.ok()) {
    errors_++;
    return reply.status();
  }
  mirror_.SetLevel(level, now);
  if (reply->elements[0].integer == 1) return absl::ZeroDuration();
  return std::max(absl::Microseconds(reply->elements[2].integer), absl::Microseconds(1));
}

void RedisBudgetStore::FallBack(const absl::Status& why, absl::Time now) {
  if (fallback_) return;
  fallback_ = true;
  // What the others sent just before is unknown: start from a full share.
  share_.SetPolicy(ShareOf(policy_), now);
  share_.MarkFull(now);
  if (options_.on_switch) options_.on_switch(portal_, true, std::string(why.message()));
}

void RedisBudgetStore::SyncLoop() {
  absl::MutexLock lock(&mu_);
  while (!stopping_) {
    // Wake on news to publish, or every sync_interval to read the others'.
    clock_->AwaitWithDeadline(
        &mu_,
        absl::Condition(
            +[](RedisBudgetStore* s) ABSL_NO_THREAD_SAFETY_ANALYSIS {
              return s->kicked_ || s->stopping_;
            },
            this),
        clock_->Now() + options_.sync_interval);
    if (stopping_) break;
    kicked_ = false;
    SyncOnce();
    clock_->AwaitWithDeadline(
        &mu_,
        absl::Condition(
            +[](RedisBudgetStore* s) ABSL_NO_THREAD_SAFETY_ANALYSIS { return s->stopping_; },
            this),
        clock_->Now() + kCoalesce);
  }
}

void RedisBudgetStore::SyncOnce() {
  // While apart and the client waits out its backoff, a call would fail at
  // once: not a new error.
  if (fallback_ && client_->WaitingToReconnect()) return;
  std::vector<std::string> args = {
      replica_id_, absl::StrCat(absl::ToInt64Milliseconds(options_.reservation_ttl)),
      Key("res:"),
      absl::StrCat(absl::ToInt64Milliseconds(window_))};
  std::set<std::string> sent;
  sent.swap(reported_);
  args.push_back(absl::StrCat(sent.size()));
  for (const std::string& method : sent) {
    OperatingTracker::Shared own = tracker_.Own(method);
    // A 429 before any report publishes the pause alone ("-": the report
    // others gave, if any, stands).
    args.push_back(method);
    args.push_back(own.reported ? absl::StrCat(own.operating) : "-");
    args.push_back(absl::StrCat(Micros(own.reset_at)));
    args.push_back(absl::StrCat(Micros(own.paused_until)));
  }
  std::vector<std::string> reservations;
  int count = 0;
  for (const std::string& method : tracker_.Methods()) {
    OperatingTracker::Shared own = tracker_.Own(method);
    if (own.in_flight == 0) continue;
    reservations.push_back(method);
    reservations.push_back(absl::StrCat(absl::ToInt64Microseconds(own.reserved)));
    reservations.push_back(absl::StrCat(own.in_flight));
    count++;
  }
  args.push_back(absl::StrCat(count));
  args.insert(args.end(), reservations.begin(), reservations.end());
  const std::vector<std::string> keys = {Key("ops"), Key("replicas"), Key(absl::StrCat("res:", replica_id_))};

  mu_.Unlock();
  absl::StatusOr<RedisReply> reply = client_->Eval(SyncScript(), keys, args);
  mu_.Lock();
  absl::Time now = clock_->Now();
  if (!reply.ok()) {
    errors_++;
    // Not published: publish with the next attempt.
    reported_.insert(sent.begin(), sent.end());
    FallBack(reply.status(), now);
    return;
  }
  if (fallback_) {
    // Back. The replicas' sends while apart are not in the shared counter:
    // start it full, as after a 503.
    if (!RunBucket("full", now).ok()) return;
    fallback_ = false;
    grace_until_ = now + options_.resume_grace;
    if (options_.on_switch) options_.on_switch(portal_, false, "");
  }
  // The answer lists every method someone has in flight; the rest have none.
  tracker_.ForgetOthers();
  const std::vector<RedisReply>& e = reply->elements;
  for (size_t i = 0; i + 2 < e.size(); i += 3) {
    const std::string& method = e[i].str;
    OperatingTracker::Shared shared;
    std::vector<std::string> report = absl::StrSplit(e[i + 1].str, ' ');
    int64_t reset_us = 0, paused_us = 0;
    if (report.size() == 3 && absl::SimpleAtoi(report[1], &reset_us) &&
        absl::SimpleAtoi(report[2], &paused_us)) {
      shared.paused_until = FromMicros(paused_us);
      // A report newer than this one waits to be published: keep ours.
      if (reported_.count(method) == 0 && absl::SimpleAtod(report[0], &shared.operating)) {
        shared.reported = true;
        shared.reset_at = FromMicros(reset_us);
      }
    }
    std::vector<std::string> others = absl::StrSplit(e[i + 2].str, ' ');
    int64_t reserved_us = 0;
    if (others.size() == 2 && absl::SimpleAtoi(others[0], &reserved_us)) {
      shared.reserved = absl::Microseconds(reserved_us);
      (void)absl::SimpleAtoi(others[1], &shared.in_flight);
    }
    tracker_.Adopt(method, shared);
  }
}

}  // namespace b24gate
