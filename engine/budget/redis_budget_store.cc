#include "engine/budget/redis_budget_store.h"

#include <algorithm>
#include <random>
#include <utility>
#include <vector>

#include "absl/strings/str_cat.h"

namespace b24gate {
namespace {

std::string RandomReplicaId() {
  std::random_device rd;
  std::mt19937_64 rng((static_cast<uint64_t>(rd()) << 32) ^ rd());
  return absl::StrCat(absl::Hex(rng(), absl::kZeroPad16));
}

// After publishing, the syncer waits this long before publishing news
// again, so the answers of a batch (one Observe per command) go in one round.
constexpr absl::Duration kCoalesce = absl::Milliseconds(5);
// With no slot at hand, the dispatcher looks again this long after the
// refill may arrive (no wake-up comes from the syncer).
constexpr absl::Duration kRefillPoll = absl::Milliseconds(2);

// Each replica may hold up to its share of what the bucket admits at once.
int MaxHeld(const BucketPolicy& leased, int replicas) {
  const double usable = std::max(1.0, leased.burst - leased.headroom);
  return std::max(1, static_cast<int>(usable / std::max(1, replicas)));
}

}  // namespace

// ---- The two faces the portal sees ------------------------------------------

class RedisBudgetStore::RequestsFace : public RequestBudget {
 public:
  explicit RequestsFace(RedisBudgetStore* store) : s_(*store) {}

  absl::Time NextFree(absl::Time now) const override {
    absl::MutexLock lock(&s_.mu_);
    return s_.FreeAt(now);
  }

  absl::Time Reserve(absl::Time now) override {
    absl::MutexLock lock(&s_.mu_);
    if (absl::Time free = s_.FreeAt(now); free > now) return free;
    s_.Spend(now);
    return now;
  }

  void MarkFull(absl::Time now) override {
    absl::MutexLock lock(&s_.mu_);
    // The held slots were taken on a model the portal just contradicted.
    s_.lease_.Drop();
    s_.mirror_.MarkFull(now);
    s_.bucket_free_at_ = s_.mirror_.NextFree(now);
    if (s_.share_.apart()) s_.share_.MarkFull(now);
    s_.full_pending_ = true;
    s_.News();
  }

  double Level(absl::Time now) const override {
    absl::MutexLock lock(&s_.mu_);
    return s_.share_.apart() ? s_.share_.Level(now) : s_.mirror_.Level(now);
  }

  void SetPolicy(BucketPolicy policy, absl::Time now) override {
    absl::MutexLock lock(&s_.mu_);
    s_.SetBucketPolicy(policy, now);
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
    s_.News();
  }
  void Blocked(const std::string& method, const nlohmann::ordered_json& time,
               absl::Time now) override {
    absl::MutexLock lock(&s_.mu_);
    s_.tracker_.Blocked(method, time, now);
    s_.reported_.insert(method);
    s_.News();
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
    return s_.tracker_.FitsAt(method, s_.share_.apart() ? cost * s_.options_.replicas : cost, now);
  }
  void Reserve(const std::string& method, absl::Duration cost) override {
    absl::MutexLock lock(&s_.mu_);
    s_.tracker_.Reserve(method, cost);
    s_.News();
  }
  void Release(const std::string& method, absl::Duration cost) override {
    absl::MutexLock lock(&s_.mu_);
    s_.tracker_.Release(method, cost);
    s_.News();
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
      syncer_(std::make_shared<BudgetSyncer>(clock)),
      replica_id_(RandomReplicaId()) {}

std::unique_ptr<BudgetStore> RedisBudgetSharing::StoreFor(const std::string& portal,
                                                          BucketPolicy bucket,
                                                          OperatingPolicy operating,
                                                          Clock* clock) {
  return std::make_unique<RedisBudgetStore>(client_, syncer_, options_, portal, replica_id_,
                                            bucket, operating, clock);
}

// ---- The store ---------------------------------------------------------------

RedisBudgetStore::RedisBudgetStore(std::shared_ptr<RedisClient> client,
                                   std::shared_ptr<BudgetSyncer> syncer,
                                   SharedBudgetOptions options, std::string portal,
                                   std::string replica_id, BucketPolicy bucket,
                                   OperatingPolicy operating, Clock* clock)
    : client_(std::move(client)),
      syncer_(std::move(syncer)),
      options_(std::move(options)),
      portal_(std::move(portal)),
      replica_id_(std::move(replica_id)),
      clock_(clock),
      policy_(bucket),
      lease_(options_.lease_ttl,
             MaxHeld(LeasedPolicy(bucket, options_.lease_ttl), options_.replicas)),
      mirror_(LeasedPolicy(bucket, options_.lease_ttl)),
      share_(bucket, options_.replicas, options_.resume_grace),
      tracker_(operating),
      window_(operating.window),
      requests_(std::make_unique<RequestsFace>(this)),
      operating_(std::make_unique<OperatingFace>(this)) {
  syncer_->Add(this);
}

RedisBudgetStore::~RedisBudgetStore() { syncer_->Remove(this); }

RequestBudget& RedisBudgetStore::requests() { return *requests_; }
OperatingBudget& RedisBudgetStore::operating() { return *operating_; }

BudgetStatus RedisBudgetStore::Status() const {
  absl::MutexLock lock(&mu_);
  return {share_.apart(), errors_};
}

// ---- Spending (the dispatcher, in memory) -------------------------------------

absl::Time RedisBudgetStore::FreeAt(absl::Time now) {
  const absl::Time share_free = share_.Binds(now) ? share_.NextFree(now) : now;
  // Apart, a held slot needs no share: it is in the shared counter already.
  if (lease_.Held(now) > 0) return share_.apart() ? now : share_free;
  if (share_.apart()) return share_free;
  lease_.Asked(now);
  syncer_->Wake(this);
  return std::max({share_free, mirror_.NextFree(now), now}) + kRefillPoll;
}

void RedisBudgetStore::Spend(absl::Time now) {
  if (lease_.Held(now) > 0) {
    lease_.Spend(now);
    syncer_->Wake(this);  // the lease may want topping up
    if (share_.Binds(now) && !share_.apart()) share_.Spend(now);  // the grace
    return;
  }
  share_.Spend(now);  // apart: counted, and added to the shared counter on rejoining
}

void RedisBudgetStore::SetBucketPolicy(const BucketPolicy& policy, absl::Time now) {
  policy_ = policy;
  const BucketPolicy leased = LeasedPolicy(policy, options_.lease_ttl);
  mirror_.SetPolicy(leased, now);
  lease_.set_max_held(MaxHeld(leased, options_.replicas));
  share_.SetPolicy(policy, now);
}

// ---- The rounds (on the syncer's thread; Redis, never under mu_) -------------

absl::Time RedisBudgetStore::DueAt(absl::Time now) {
  absl::MutexLock lock(&mu_);
  return NextRoundAt(now);
}

void RedisBudgetStore::RunRound() {
  Round round;
  {
    absl::MutexLock lock(&mu_);
    round = NextRound(clock_->Now());
  }
  // While apart and the client waits out its backoff, a call would fail at
  // once: not a new error, and the news waits for the next round.
  std::optional<absl::StatusOr<RedisReply>> reply;
  if (!round.apart || !client_->WaitingToReconnect()) {
    SyncCall call = EncodeSync(round.request);
    reply = client_->Eval(SyncScript(), call.keys, call.args);
  }
  std::optional<Switch> switched;
  {
    absl::MutexLock lock(&mu_);
    switched = Apply(round, reply, clock_->Now());
  }
  if (switched && options_.on_switch) {
    options_.on_switch(portal_, switched->fallback, switched->why);
  }
}

absl::Time RedisBudgetStore::NextRoundAt(absl::Time now) const {
  // Every sync_interval to read the others' news; soon after news of ours.
  absl::Time at = last_round_ + options_.sync_interval;
  if (news_) at = std::min(at, last_round_ + kCoalesce);
  // Slots wanted: as soon as the bucket has one (apart, at the pace above:
  // the client's backoff decides when Redis is tried again).
  if (!share_.apart() && lease_.Wanted(now) > 0) {
    at = std::min(at, std::max(last_round_, bucket_free_at_));
  }
  return at;
}

RedisBudgetStore::Round RedisBudgetStore::NextRound(absl::Time now) {
  Round round;
  round.started = now;
  round.apart = share_.apart();
  news_ = false;
  SyncRequest& r = round.request;
  r.key_prefix = absl::StrCat(options_.key_prefix, "{", portal_, "}:");
  r.replica_id = replica_id_;
  const BucketPolicy leased = LeasedPolicy(policy_, options_.lease_ttl);
  r.burst = policy_.burst;
  r.drain_per_second = policy_.drain_per_second;
  r.usable = std::max(1.0, leased.burst - leased.headroom);
  r.take = std::min(lease_.Wanted(now), kMaxTake);
  r.add = share_.unreported();
  r.full = std::exchange(full_pending_, false);
  r.reservation_ttl = options_.reservation_ttl;
  r.window = window_;
  round.reported.swap(reported_);
  for (const std::string& method : round.reported) {
    r.reports.emplace_back(method, tracker_.Own(method));
  }
  for (const std::string& method : tracker_.Methods()) {
    OperatingTracker::Shared own = tracker_.Own(method);
    if (own.in_flight > 0) r.reservations.emplace_back(method, own);
  }
  return round;
}

std::optional<RedisBudgetStore::Switch> RedisBudgetStore::Apply(
    const Round& round, const std::optional<absl::StatusOr<RedisReply>>& reply, absl::Time now) {
  last_round_ = now;
  absl::StatusOr<SyncAnswer> answer = absl::UnavailableError("not sent");
  if (reply) answer = reply->ok() ? DecodeSync(**reply, round.request.take) : reply->status();
  if (!answer.ok()) {
    // Not published: publish with the next round.
    reported_.insert(round.reported.begin(), round.reported.end());
    full_pending_ |= round.request.full;
    if (!reply) return std::nullopt;
    errors_++;
    if (!share_.Apart(now)) return std::nullopt;
    return Switch{true, std::string(answer.status().message())};
  }
  const bool rejoined = share_.Rejoin(now, round.request.add);
  lease_.Granted(answer->granted, round.started);
  mirror_.SetLevel(answer->level, now);
  bucket_free_at_ = now + answer->wait;
  Adopt(*answer);
  if (!rejoined) return std::nullopt;
  return Switch{false, ""};
}

void RedisBudgetStore::Adopt(const SyncAnswer& answer) {
  // The answer lists every method someone has in flight; the rest have none.
  tracker_.ForgetOthers();
  for (auto [method, shared] : answer.methods) {
    // A report newer than this one waits to be published: keep ours.
    if (reported_.count(method) > 0) shared.reported = false;
    tracker_.Adopt(method, shared);
  }
}

}  // namespace b24gate
