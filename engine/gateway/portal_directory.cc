#include "engine/gateway/portal_directory.h"

#include <algorithm>
#include <utility>

#include "absl/strings/ascii.h"
#include "absl/strings/str_cat.h"
#include "engine/common/errors.h"
#include "engine/common/field_text.h"
#include "engine/portal/tuning_fields.h"

namespace b24gate {
namespace {

absl::Status UnknownPortal(const std::string& key) {
  if (key.empty()) {
    return GatewayError(absl::StatusCode::kNotFound, kReasonUnknownPortal,
                        "portal: no portal is configured, so there is no default portal; name one");
  }
  return GatewayError(absl::StatusCode::kNotFound, kReasonUnknownPortal,
                      absl::StrCat("portal: \"", EchoText(key), "\" is not a portal of this gateway"));
}

absl::Status Configured(const std::string& name) {
  return absl::FailedPreconditionError(absl::StrCat(
      "portal: \"", name, "\" comes from the configuration; change it there and restart"));
}

// Domains are compared without case, as DNS does.
std::string DomainKey(const PortalRecord& record) { return absl::AsciiStrToLower(record.Domain()); }

// The record a configured portal is listed and addressed with.
PortalRecord RecordOf(const PortalOptions& o) {
  PortalRecord r;
  r.name = o.name;
  if (o.oauth.enabled()) {
    r.portal_url = o.oauth.portal_url;
    r.client_id = o.oauth.client_id;
  } else {
    r.webhook_url = o.webhook_url;
  }
  return r;
}

// The tunables of `record` over `options`. INVALID_ARGUMENT naming one.
absl::Status ApplyTuning(const PortalRecord& record, PortalOptions* options) {
  PortalTuning tuning = TuningOf(*options);
  for (const auto& [name, value] : record.tuning) {
    const TuningField* field = nullptr;
    for (const TuningField& f : TuningFields()) {
      if (name == f.name) field = &f;
    }
    if (field == nullptr) {
      return absl::InvalidArgumentError(absl::StrCat("tuning: \"", EchoText(name), "\" is not a tunable"));
    }
    if (absl::Status s = CheckTuningValue(*field, value); !s.ok()) return s;
    field->set(&tuning, value);
  }
  options->bucket = tuning.bucket;
  options->operating = tuning.operating;
  options->batch_size = tuning.batch_size;
  options->max_concurrency = tuning.max_concurrency;
  options->linger = tuning.linger;
  return absl::OkStatus();
}

// Whether `a` and `b` reach the portal alike. The refresh token is left
// out: it rotates while a portal runs, and the portal keeps its own.
bool SameEndpoint(const PortalRecord& a, const PortalRecord& b) {
  return a.webhook_url == b.webhook_url && a.portal_url == b.portal_url &&
         a.client_id == b.client_id && a.client_secret == b.client_secret;
}

}  // namespace

// The rotated refresh token of a registered portal goes into its record,
// as long as the record still holds the credentials the portal was built
// with.
class PortalDirectory::RecordTokenStore : public TokenStore {
 public:
  RecordTokenStore(PortalDirectory* directory, std::string name, int64_t generation)
      : directory_(directory), name_(std::move(name)), generation_(generation) {}
  absl::StatusOr<std::string> Load() override { return directory_->StoredRefreshToken(name_); }
  absl::Status Save(const std::string& token) override {
    return directory_->SaveRefreshToken(name_, generation_, token);
  }

 private:
  PortalDirectory* const directory_;
  const std::string name_;
  const int64_t generation_;
};

PortalDirectory::PortalDirectory(std::vector<PortalOptions> configured,
                                 std::unique_ptr<PortalRegistry> registry, DirectoryOptions options,
                                 HttpTransport* transport, Clock* clock, DispatchPool* pool,
                                 PortalObserver* observer)
    : registry_(registry ? std::move(registry) : std::make_unique<MemoryPortalRegistry>()),
      options_(std::move(options)),
      transport_(transport),
      clock_(clock),
      pool_(pool),
      observer_(observer) {
  absl::MutexLock lock(&mu_);
  for (PortalOptions& o : configured) {
    Entry entry;
    entry.record = RecordOf(o);
    entry.configured = std::make_shared<const PortalOptions>(o);
    entry.live = std::make_shared<Portal>(std::move(o), transport_, clock_, pool_, observer_);
    if (default_name_.empty()) default_name_ = entry.record.name;
    // A configured portal is addressed by its domain unless another was first.
    by_domain_.emplace(DomainKey(entry.record), entry.record.name);
    entries_.emplace(entry.record.name, std::move(entry));
  }
  pool_->Add(this);
}

PortalDirectory::~PortalDirectory() {
  StopSync();
  pool_->Remove(this);
  std::map<std::string, Entry> entries;
  std::vector<std::shared_ptr<Portal>> retired;
  {
    absl::MutexLock lock(&mu_);
    entries.swap(entries_);
    retired.swap(retired_);
  }
  // Portals are destroyed here, without mu_: their token stores call back.
}

void PortalDirectory::StopSync() {
  if (!syncer_) return;
  syncer_->Remove(this);
  syncer_.reset();  // joins the sync thread
}

absl::Status PortalDirectory::Load() {
  const absl::Time give_up = clock_->Now() + options_.load_patience;
  absl::Duration wait = absl::Milliseconds(200);
  for (;;) {
    absl::Status s = LoadOnce();
    if (s.code() != absl::StatusCode::kUnavailable) return s;
    const absl::Time now = clock_->Now();
    if (now >= give_up) return s;
    // Computed before telling: a caller that moves the clock on being told
    // (a test) does not make the wait longer.
    const absl::Time next = std::min(now + wait, give_up);
    if (options_.on_load_retry) options_.on_load_retry(s, next - now);
    clock_->SleepUntil(next);
    wait = std::min(wait * 2, absl::Seconds(1));
  }
}

absl::Status PortalDirectory::LoadOnce() {
  // The log's head first: what changes during the load is read again.
  absl::StatusOr<int64_t> head = registry_->Head();
  absl::StatusOr<std::vector<PortalRecord>> records =
      head.ok() ? registry_->LoadAll() : head.status();
  if (!records.ok()) {
    return absl::Status(records.status().code(),
                        absl::StrCat("portal registry ", registry_->Describe(), ": ",
                                     records.status().message()));
  }
  {
    absl::MutexLock lock(&mu_);
    for (PortalRecord& record : *records) {
      if (absl::Status s = CheckKeysFree(record, ""); !s.ok()) {
        return absl::InvalidArgumentError(absl::StrCat("portal registry ", registry_->Describe(),
                                                       ": stored ", s.message()));
      }
      Index(record);
      Entry entry;
      entry.record = std::move(record);
      entry.generation = ++generations_;
      std::string name = entry.record.name;
      entries_.emplace(std::move(name), std::move(entry));
    }
    synced_ = *head;
  }
  if (registry_->shared() && options_.sync_every > absl::ZeroDuration()) {
    syncer_ = std::make_unique<BudgetSyncer>(clock_);
    syncer_->Add(this);
  }
  return absl::OkStatus();
}

const std::string* PortalDirectory::Resolve(const std::string& key) const {
  if (key.empty()) return default_name_.empty() ? nullptr : &default_name_;
  if (auto it = entries_.find(key); it != entries_.end()) return &it->first;
  if (auto it = by_member_id_.find(key); it != by_member_id_.end()) return &it->second;
  if (auto it = by_domain_.find(absl::AsciiStrToLower(key)); it != by_domain_.end()) {
    return &it->second;
  }
  return nullptr;
}

const std::string* PortalDirectory::Find(const std::string& key) const {
  const std::string* name = Resolve(key);
  return name != nullptr && entries_.at(*name).adding ? nullptr : name;
}

absl::Status PortalDirectory::CheckKeysFree(const PortalRecord& record,
                                            const std::string& self) const {
  auto taken = [&](const std::string& key, const char* what) -> absl::Status {
    const std::string* owner = key.empty() ? nullptr : Resolve(key);
    if (owner == nullptr || *owner == self) return absl::OkStatus();
    return absl::AlreadyExistsError(absl::StrCat("portal: the ", what, " \"", EchoText(key),
                                                 "\" already addresses portal \"", *owner, "\""));
  };
  if (absl::Status s = taken(record.name, "name"); !s.ok()) return s;
  if (absl::Status s = taken(record.member_id, "member_id"); !s.ok()) return s;
  return taken(DomainKey(record), "domain");
}

void PortalDirectory::Index(const PortalRecord& record) {
  if (!record.member_id.empty()) by_member_id_[record.member_id] = record.name;
  if (std::string domain = DomainKey(record); !domain.empty()) by_domain_[domain] = record.name;
}

void PortalDirectory::Unindex(const PortalRecord& record) {
  if (auto it = by_member_id_.find(record.member_id); it != by_member_id_.end() && it->second == record.name) {
    by_member_id_.erase(it);
  }
  if (auto it = by_domain_.find(DomainKey(record)); it != by_domain_.end() && it->second == record.name) {
    by_domain_.erase(it);
  }
}

absl::StatusOr<PortalOptions> PortalDirectory::OptionsFor(const PortalRecord& record,
                                                          int64_t generation) {
  if (absl::Status s = ValidatePortalName(record.name); !s.ok()) return s;
  PortalOptions o = options_.base;
  o.name = record.name;
  if (!record.plan.empty()) {
    if (absl::Status s = ApplyPlan(record.plan, &o); !s.ok()) return s;
  }
  if (absl::Status s = ApplyTuning(record, &o); !s.ok()) return s;
  o.event_bindings = record.event_bindings;
  if (record.oauth()) {
    if (!record.client_id.empty()) o.oauth.client_id = record.client_id;
    if (!record.client_secret.empty()) o.oauth.client_secret = record.client_secret;
    if (!o.oauth.enabled()) {
      return absl::InvalidArgumentError(
          "client_id: the portal has no webhook, and no OAuth application is configured for the "
          "gateway nor given for the portal");
    }
    o.oauth.portal_url = record.portal_url;
    o.oauth.refresh_token = record.refresh_token;
    o.oauth.token_file.clear();
    o.oauth.token_store = std::make_shared<RecordTokenStore>(this, record.name, generation);
    if (options_.token_sharing) o.oauth.sharing = options_.token_sharing(o.name, o.oauth.client_id);
  } else {
    o.webhook_url = record.webhook_url;
    o.oauth = OAuthOptions();
  }
  if (absl::Status s = ValidatePortalOptions(o); !s.ok()) return s;
  return o;
}

absl::StatusOr<std::string> PortalDirectory::TakeTurn(const std::string& key) {
  for (;;) {
    const std::string* name = Find(key);
    if (name == nullptr) return UnknownPortal(key);
    Entry& entry = entries_.at(*name);
    if (entry.configured) return Configured(*name);
    if (!entry.writing) {
      entry.writing = true;
      return *name;
    }
    turn_ended_.Wait(&mu_);
  }
}

void PortalDirectory::EndTurn(Entry* entry) {
  entry->writing = false;
  turn_ended_.SignalAll();
}

absl::Status PortalDirectory::Add(PortalRecord record) {
  if (absl::Status s = OptionsFor(record, 0).status(); !s.ok()) return s;
  const std::string name = record.name;
  {
    absl::MutexLock lock(&mu_);
    if (absl::Status s = CheckKeysFree(record, ""); !s.ok()) return s;
    // Its keys are taken while it is stored; nobody addresses it yet.
    Index(record);
    Entry entry;
    entry.record = record;
    entry.generation = ++generations_;
    entry.writing = entry.adding = true;
    entries_.emplace(name, std::move(entry));
  }
  absl::Status stored = registry_->Put(record);
  {
    absl::MutexLock lock(&mu_);
    auto it = entries_.find(name);
    if (!stored.ok()) {
      Unindex(it->second.record);
      entries_.erase(it);
      turn_ended_.SignalAll();
      return stored;
    }
    it->second.adding = false;
    it->second.committed = ++commits_;
    EndTurn(&it->second);
  }
  Notify({name});
  return absl::OkStatus();
}

absl::Status PortalDirectory::Install(PortalRecord record) {
  std::optional<PortalRecord> known;
  {
    absl::MutexLock lock(&mu_);
    if (!record.member_id.empty() && Find(record.member_id) != nullptr) {
      absl::StatusOr<std::string> turn = TakeTurn(record.member_id);
      // NOT_FOUND: removed while waiting for the turn; a new portal then.
      if (turn.ok()) known = entries_.at(*turn).record;
      else if (!absl::IsNotFound(turn.status())) return turn.status();
    }
  }
  if (!known) return Add(std::move(record));
  known->webhook_url = record.webhook_url;
  known->portal_url = record.portal_url;
  known->refresh_token = record.refresh_token;
  known->client_id = record.client_id;
  known->client_secret = record.client_secret;
  known->application_token = record.application_token;
  if (!record.domain.empty()) known->domain = record.domain;
  return Replace(std::move(*known));
}

absl::Status PortalDirectory::Update(const std::string& key,
                                     const std::function<absl::Status(PortalRecord*)>& change) {
  PortalRecord record;
  {
    absl::MutexLock lock(&mu_);
    absl::StatusOr<std::string> name = TakeTurn(key);
    if (!name.ok()) return name.status();
    record = entries_.at(*name).record;
  }
  const std::string name = record.name;
  absl::Status s = change(&record);
  if (s.ok() && record.name != name) s = absl::InvalidArgumentError("name: a portal's name cannot change");
  if (s.ok()) return Replace(std::move(record));
  absl::MutexLock lock(&mu_);
  EndTurn(&entries_.at(name));
  return s;
}

std::shared_ptr<Portal> PortalDirectory::Apply(Entry* entry, PortalRecord record, bool renew) {
  // The new record's keys, and the old ones no longer used, in the index.
  Unindex(entry->record);
  Index(record);
  entry->record = std::move(record);
  if (!renew) return entry->live;
  // New credentials: the next call builds a portal with them; the old one
  // finishes its work and goes when nobody holds it.
  entry->generation = ++generations_;
  if (entry->live) retired_.push_back(std::move(entry->live));
  return nullptr;
}

absl::Status PortalDirectory::Replace(PortalRecord record) {
  const std::string name = record.name;
  absl::StatusOr<PortalOptions> options = OptionsFor(record, 0);
  absl::Status s = options.status();
  bool reserved = false;
  {
    absl::MutexLock lock(&mu_);
    if (s.ok()) s = CheckKeysFree(record, name);
    // Its new keys are taken while it is stored.
    if (s.ok()) Index(record);
    reserved = s.ok();
  }
  if (s.ok()) s = registry_->Put(record);
  std::shared_ptr<Portal> live;
  {
    absl::MutexLock lock(&mu_);
    Entry& entry = entries_.at(name);
    if (s.ok()) {
      // An install's fresh tokens are new credentials too.
      const bool renew = !SameEndpoint(entry.record, record) ||
                         entry.record.refresh_token != record.refresh_token;
      live = Apply(&entry, std::move(record), renew);
      entry.committed = ++commits_;
    } else if (reserved) {
      Unindex(record);
      Index(entry.record);
    }
    EndTurn(&entry);
  }
  // Not under mu_: a portal is never called with it held.
  if (!s.ok()) return s;
  Notify({name});
  if (live) return live->Tune(TuningOf(*options));
  return absl::OkStatus();
}

absl::Status PortalDirectory::Remove(const std::string& key) {
  std::string name;
  {
    absl::MutexLock lock(&mu_);
    absl::StatusOr<std::string> turn = TakeTurn(key);
    if (!turn.ok()) return turn.status();
    name = *turn;
  }
  absl::Status s = registry_->Remove(name);
  std::shared_ptr<Portal> live;
  {
    absl::MutexLock lock(&mu_);
    auto it = entries_.find(name);
    if (!s.ok()) {
      EndTurn(&it->second);
      return s;
    }
    live = Erase(it);
  }
  if (live) live->BeginShutdown();
  Notify({name});
  return absl::OkStatus();
}

std::shared_ptr<Portal> PortalDirectory::Erase(std::map<std::string, Entry>::iterator it) {
  Unindex(it->second.record);
  std::shared_ptr<Portal> live = std::move(it->second.live);
  entries_.erase(it);
  if (live) retired_.push_back(live);
  // Whoever waits for its turn finds it gone.
  turn_ended_.SignalAll();
  return live;
}

absl::StatusOr<std::shared_ptr<Portal>> PortalDirectory::Acquire(const std::string& key) {
  for (;;) {
    PortalRecord record;
    int64_t generation;
    {
      absl::MutexLock lock(&mu_);
      const std::string* name = Find(key);
      if (name == nullptr) return UnknownPortal(key);
      Entry& entry = entries_.at(*name);
      entry.last_used = clock_->Now();
      if (entry.live) return entry.live;
      record = entry.record;
      generation = entry.generation;
    }
    // Built without mu_: its token store reads the record.
    absl::StatusOr<PortalOptions> options = OptionsFor(record, generation);
    if (!options.ok()) return options.status();
    auto portal = std::make_shared<Portal>(std::move(*options), transport_, clock_, pool_, observer_);
    absl::MutexLock lock(&mu_);
    auto it = entries_.find(record.name);
    // Removed, or given new credentials meanwhile: the new portal was never
    // used and goes at once (and with new credentials, another is built).
    if (it == entries_.end() || it->second.generation != generation) {
      retired_.push_back(std::move(portal));
      if (it == entries_.end()) return UnknownPortal(key);
      continue;
    }
    if (!it->second.live) it->second.live = std::move(portal);
    else retired_.push_back(std::move(portal));
    return it->second.live;
  }
}

absl::StatusOr<PortalRecord> PortalDirectory::Get(const std::string& key) const {
  absl::ReaderMutexLock lock(&mu_);
  const std::string* name = Find(key);
  if (name == nullptr) return UnknownPortal(key);
  return entries_.at(*name).record;
}

PortalListing PortalDirectory::ListingOf(const Entry& entry) const {
  PortalListing listing;
  listing.record = entry.record;
  listing.record.domain = entry.record.Domain();
  listing.oauth = entry.record.oauth();
  listing.record.webhook_url.clear();
  listing.record.refresh_token.clear();
  listing.record.client_secret.clear();
  listing.record.application_token.clear();
  listing.configured = entry.configured != nullptr;
  listing.live = entry.live;
  // Memory only: the base, the plan and the record's tunables.
  PortalOptions options = entry.configured ? *entry.configured : options_.base;
  if (!entry.configured && !entry.record.plan.empty()) {
    (void)ApplyPlan(entry.record.plan, &options);
  }
  if (!entry.configured) (void)ApplyTuning(entry.record, &options);
  listing.tuning = TuningOf(options);
  return listing;
}

std::vector<PortalListing> PortalDirectory::List(
    const std::string& after, size_t limit,
    const std::function<bool(const PortalRecord&)>& keep) const {
  std::vector<PortalListing> out;
  absl::ReaderMutexLock lock(&mu_);
  for (auto it = entries_.upper_bound(after); it != entries_.end() && out.size() < limit; ++it) {
    if (it->second.adding) continue;
    if (!keep || keep(it->second.record)) out.push_back(ListingOf(it->second));
  }
  return out;
}

absl::StatusOr<PortalListing> PortalDirectory::Describe(const std::string& key) const {
  absl::ReaderMutexLock lock(&mu_);
  const std::string* name = Find(key);
  if (name == nullptr) return UnknownPortal(key);
  return ListingOf(entries_.at(*name));
}

std::vector<std::shared_ptr<Portal>> PortalDirectory::Live() const {
  std::vector<std::shared_ptr<Portal>> out;
  absl::ReaderMutexLock lock(&mu_);
  for (const auto& [name, entry] : entries_) {
    if (entry.live) out.push_back(entry.live);
  }
  return out;
}

size_t PortalDirectory::size() const {
  absl::ReaderMutexLock lock(&mu_);
  size_t n = 0;
  for (const auto& [name, entry] : entries_) n += entry.adding ? 0 : 1;
  return n;
}

void PortalDirectory::BeginShutdown() {
  std::vector<std::shared_ptr<Portal>> portals = Live();
  {
    absl::ReaderMutexLock lock(&mu_);
    portals.insert(portals.end(), retired_.begin(), retired_.end());
  }
  for (const auto& p : portals) p->BeginShutdown();
}

void PortalDirectory::AbandonInFlight() {
  std::vector<std::shared_ptr<Portal>> portals = Live();
  {
    absl::ReaderMutexLock lock(&mu_);
    portals.insert(portals.end(), retired_.begin(), retired_.end());
  }
  for (const auto& p : portals) p->AbandonInFlight();
}

absl::StatusOr<std::string> PortalDirectory::StoredRefreshToken(const std::string& name) const {
  absl::ReaderMutexLock lock(&mu_);
  auto it = entries_.find(name);
  if (it == entries_.end() || it->second.record.refresh_token.empty()) {
    return absl::NotFoundError("no refresh token stored");
  }
  return it->second.record.refresh_token;
}

absl::Status PortalDirectory::SaveRefreshToken(const std::string& name, int64_t generation,
                                               const std::string& token) {
  PortalRecord record;
  {
    absl::MutexLock lock(&mu_);
    absl::StatusOr<std::string> turn = TakeTurn(name);
    // Removed, or given other credentials since the portal was built: its
    // tokens are not kept.
    if (!turn.ok()) return absl::OkStatus();
    Entry& entry = entries_.at(*turn);
    if (*turn != name || entry.generation != generation) {
      EndTurn(&entry);
      return absl::OkStatus();
    }
    record = entry.record;
  }
  // The write holds the portal's turn only: other portals' refreshes, calls
  // and admin changes go on meanwhile; the caller uses the new access token
  // once this returns.
  record.refresh_token = token;
  absl::Status s = registry_->Put(record);
  absl::MutexLock lock(&mu_);
  Entry& entry = entries_.at(name);
  if (s.ok()) {
    entry.record.refresh_token = token;
    entry.committed = ++commits_;
  }
  EndTurn(&entry);
  return s;
}

absl::Status PortalDirectory::Sync() {
  // Any change of this process applied after this may be newer than what
  // is read: ApplyRemote leaves such portals to the next round.
  int64_t epoch;
  int64_t after;
  {
    absl::ReaderMutexLock lock(&mu_);
    epoch = commits_;
    after = synced_;
  }
  constexpr size_t kPage = 1000;
  absl::StatusOr<std::vector<RegistryChange>> changes = registry_->ChangesSince(after, kPage);
  if (!changes.ok()) return changes.status();
  std::vector<std::shared_ptr<Portal>> drain;
  std::vector<Retune> retune;
  std::vector<std::string> applied;
  {
    absl::MutexLock lock(&mu_);
    int64_t read_to = after;
    bool all_applied = true;
    for (const RegistryChange& change : *changes) {
      // The log is read again from the first change left for later.
      const bool done = ApplyRemote(change, epoch, &drain, &retune);
      if (done) applied.push_back(change.name);
      all_applied = done && all_applied;
      if (all_applied) read_to = change.seq;
    }
    synced_ = read_to;
  }
  for (const auto& p : drain) p->BeginShutdown();
  RetuneAll(retune);
  Notify(applied);
  return absl::OkStatus();
}

bool PortalDirectory::ApplyRemote(const RegistryChange& change, int64_t epoch,
                                  std::vector<std::shared_ptr<Portal>>* drain,
                                  std::vector<Retune>* retune) {
  auto it = entries_.find(change.name);
  if (it != entries_.end()) {
    Entry& entry = it->second;
    if (entry.configured) return true;  // the configuration wins
    if (entry.writing || entry.committed > epoch) return false;
    if (!change.record) {
      if (std::shared_ptr<Portal> live = Erase(it)) drain->push_back(std::move(live));
      return true;
    }
    if (EncodeRecord(entry.record) == EncodeRecord(*change.record)) return true;
    // A stored portal whose keys another one has is left out (it cannot
    // be addressed alike on every replica); so is its change.
    if (!CheckKeysFree(*change.record, change.name).ok()) return true;
    const bool renew = !SameEndpoint(entry.record, *change.record);
    if (std::shared_ptr<Portal> live = Apply(&entry, *change.record, renew)) {
      retune->push_back({std::move(live), *change.record});
    }
    return true;
  }
  if (!change.record || !CheckKeysFree(*change.record, "").ok()) return true;
  Index(*change.record);
  Entry entry;
  entry.record = *change.record;
  entry.generation = ++generations_;
  entries_.emplace(change.name, std::move(entry));
  return true;
}

void PortalDirectory::RetuneAll(const std::vector<Retune>& retune) {
  for (const Retune& r : retune) {
    absl::StatusOr<PortalOptions> options = OptionsFor(r.record, 0);
    // A record another replica stored was checked there.
    if (options.ok()) (void)r.live->Tune(TuningOf(*options));
  }
}

void PortalDirectory::Watch(std::function<void(const std::string&)> watcher) {
  auto shared = std::make_shared<const std::function<void(const std::string&)>>(std::move(watcher));
  absl::MutexLock lock(&mu_);
  watcher_ = std::move(shared);
}

void PortalDirectory::Notify(const std::vector<std::string>& names) {
  std::shared_ptr<const std::function<void(const std::string&)>> watcher;
  {
    absl::ReaderMutexLock lock(&mu_);
    watcher = watcher_;
  }
  if (!watcher) return;
  for (const std::string& name : names) (*watcher)(name);
}

std::vector<std::shared_ptr<Portal>> PortalDirectory::TakeIdle(absl::Time now) {
  std::vector<std::shared_ptr<Portal>> out;
  absl::MutexLock lock(&mu_);
  // A removed portal nobody holds: its last operation has ended.
  for (auto it = retired_.begin(); it != retired_.end();) {
    if (it->use_count() == 1) {
      out.push_back(std::move(*it));
      it = retired_.erase(it);
    } else {
      ++it;
    }
  }
  // Nobody can take a new hold without mu_, and every operation holds its
  // portal until its last callback: one holder means nothing queued or in
  // flight.
  for (auto& [name, entry] : entries_) {
    if (entry.configured || !entry.live || entry.live.use_count() != 1) continue;
    if (now - entry.last_used < options_.idle_after) continue;
    out.push_back(std::move(entry.live));
  }
  return out;
}

absl::Time PortalDirectory::RunTurn() {
  const absl::Time now = clock_->Now();
  // Destroyed here, outside mu_ (a portal's destructor waits for its turn
  // in progress on the pool and for its requests).
  std::vector<std::shared_ptr<Portal>> idle = TakeIdle(now);
  idle.clear();
  return now + options_.sweep_every;
}

absl::Time PortalDirectory::DueAt(absl::Time) { return last_round_ + options_.sync_every; }

void PortalDirectory::RunRound() {
  last_round_ = clock_->Now();
  // Unreachable Redis: the next round tries again; the portals known go on.
  (void)Sync();
}

}  // namespace b24gate
