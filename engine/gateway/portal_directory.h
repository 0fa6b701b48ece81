// The gateway's portals, as a set that changes while it runs: the portals of
// the configuration (fixed, always in memory) and those registered at run
// time (kept in a PortalRegistry, built in memory on first use and dropped
// from memory again when idle). A portal is addressed by its name, its
// member_id or its domain, in that order.
//
// Registering a portal from an application's install callback (ONAPPINSTALL
// or the install page's POST, see docs/bitrix24-protocol.md "Installing an
// application"): check the request as the docs say, then make a
// PortalRecord with name (a plain name of your choosing, e.g. the domain),
// member_id, domain, portal_url (the client_endpoint, or
// "https://DOMAIN/rest/"), refresh_token (REFRESH_ID / refresh_token) and
// application_token, leave webhook_url and client_id empty (the gateway's
// application is used) and call Install(record): a new portal is added, a
// known one (same member_id) gets the new tokens. The record is durable
// when Install returns OK; calls may address the portal at once. On
// ONAPPUNINSTALL, Remove(member_id): queued calls are answered NOT_EXECUTED,
// calls on the wire finish, and the stored tokens are deleted.
//
// Memory: a registered portal costs its record until first used; a live
// portal (engine/portal/portal.h) is dropped once nothing is queued, in
// flight or held by an operation and it was unused for idle_after (long
// enough for its request budget and operating time to have recovered, so
// the fresh one that replaces it on the next call starts from the truth).
// The drop, and the destruction of removed portals once their last
// operation ends, happen in the directory's own turns on the DispatchPool:
// no thread of its own.
//
// Replicas sharing a registry (Redis): each follows the registry's change
// log (PortalRegistry::ChangesSince) on a thread of its own, every
// sync_every, so a portal added, changed or removed through one replica is
// added, changed or removed on the others within about that time, removal
// draining as Remove does. A change that races a local write of the same
// portal is read again on the next round rather than applied out of order.
//
// Thread-safety: thread-safe. mu_ guards the maps and is never held during
// I/O or while calling into a portal. Each registered portal takes its
// changes in turns: a change (an admin edit, a rotated refresh token, a
// removal) marks the portal as writing, writes the registry without any
// lock, then applies the result in memory; another change of the same
// portal waits for the turn (turn_ended_), changes of other portals and
// calls do not. So the store sees one portal's changes in the order memory
// does, and a slow write never holds up anyone else.
#ifndef B24GATE_ENGINE_GATEWAY_PORTAL_DIRECTORY_H_
#define B24GATE_ENGINE_GATEWAY_PORTAL_DIRECTORY_H_

#include <cstddef>
#include <functional>
#include <map>
#include <memory>
#include <optional>
#include <string>
#include <vector>

#include "absl/container/flat_hash_map.h"
#include "absl/status/statusor.h"
#include "absl/synchronization/mutex.h"
#include "absl/time/time.h"
#include "engine/auth/token_sharing.h"
#include "engine/budget/budget_syncer.h"
#include "engine/common/clock.h"
#include "engine/http/http_transport.h"
#include "engine/portal/dispatch_pool.h"
#include "engine/portal/portal.h"
#include "engine/portal/portal_observer.h"
#include "engine/portal/portal_options.h"
#include "engine/registry/portal_record.h"
#include "engine/registry/portal_registry.h"

namespace b24gate {

struct DirectoryOptions {
  // What a registered portal starts from before its record applies: the
  // application's OAuth client (oauth.client_id, client_secret, oauth_url),
  // TLS, fair share, budget sharing, and the tunables' defaults.
  PortalOptions base;
  // A live registered portal unused this long (and with nothing queued, in
  // flight or held) leaves memory. At least the operating-time window.
  absl::Duration idle_after = absl::Minutes(10);
  // How often the directory looks for idle and removed portals.
  absl::Duration sweep_every = absl::Seconds(30);
  // With a registry the replicas share: how often its change log is read
  // (on the directory's sync thread). Zero: never (Sync() by hand).
  absl::Duration sync_every = absl::Seconds(1);
  // Shares a registered OAuth portal's tokens between replicas (Redis);
  // null: this process only.
  std::function<std::shared_ptr<TokenSharing>(const std::string& portal,
                                              const std::string& client_id)>
      token_sharing;
  // How long Load() keeps trying a store that answers UNAVAILABLE (a Redis
  // slow to answer under load, or restarting): its operation timeout is
  // short for the hot path, and one late answer must not stop a start-up.
  // Zero: one attempt.
  absl::Duration load_patience = absl::Seconds(5);
  // Told of each failed attempt Load() will retry, and how long it waits
  // before the next (for a log line). May be null.
  std::function<void(const absl::Status& error, absl::Duration wait)> on_load_retry;
};

// One portal as listed: its record without the secrets, and where it is.
struct PortalListing {
  PortalRecord record;  // secrets cleared; domain filled in
  bool configured = false;
  bool oauth = false;  // else an incoming webhook
  // In memory: ask it for its state (Stats, Tuning). Null when not.
  std::shared_ptr<Portal> live;
  // The settings it runs with (or will, once built); for a live portal,
  // its current tuning is live->Tuning().
  PortalTuning tuning;
};

class PortalDirectory : private DispatchPool::Task, private BudgetSyncer::Task {
 public:
  // The configured portals are built at once; the first is the default.
  // REQUIRES: configured validated, names unique. `registry`, `transport`,
  // `clock`, `pool` and `observer` (all but registry unowned) outlive it.
  PortalDirectory(std::vector<PortalOptions> configured, std::unique_ptr<PortalRegistry> registry,
                  DirectoryOptions options, HttpTransport* transport, Clock* clock,
                  DispatchPool* pool, PortalObserver* observer);
  // Destroys every portal (see Portal::~Portal).
  ~PortalDirectory() override;

  // Reads the registry (start-up), and with a shared registry starts
  // following its change log. A store that answers UNAVAILABLE is asked
  // again with back-off (0.2 s doubling to 1 s) for options.load_patience.
  // DATA_LOSS, or UNAVAILABLE once the patience is spent, from the store;
  // INVALID_ARGUMENT when a stored portal clashes with a configured one.
  // Blocks on the clock between attempts.
  absl::Status Load();
  // Applies the changes other replicas made to a shared registry since the
  // last round: new portals, changed records (plan and tuning apply at
  // once; new credentials to later calls; a rotated refresh token alone
  // changes nothing live, the portals share their tokens), removals
  // (drained as Remove does). A stored portal whose keys clash with another
  // is left out. The store's error, nothing applied. Blocks on the store
  // without holding a lock. REQUIRES: one caller at a time (the sync
  // thread, or a test).
  absl::Status Sync();

  // Registers a new portal. INVALID_ARGUMENT naming the field;
  // ALREADY_EXISTS when its name, member_id or domain addresses another
  // portal; the store's error when it could not be kept (nothing changed).
  absl::Status Add(PortalRecord record);
  // Add, or for a registered portal with the same member_id (a reinstall),
  // new credentials and application_token over its record.
  absl::Status Install(PortalRecord record);
  // Changes a registered portal's record: `change` edits a copy, which is
  // validated and stored. Plan and tuning apply to the live portal at once;
  // new credentials take effect for calls made after (work already queued
  // finishes with the old ones). NOT_FOUND; FAILED_PRECONDITION for a
  // configured portal; `change`'s own error.
  absl::Status Update(const std::string& key,
                      const std::function<absl::Status(PortalRecord*)>& change);
  // Unregisters a portal and deletes its stored record: new calls get
  // NOT_FOUND, queued ones NOT_EXECUTED, those on the wire finish.
  // NOT_FOUND; FAILED_PRECONDITION for a configured portal.
  absl::Status Remove(const std::string& key);

  // The portal `key` ("" = the default), built if it is not in memory.
  // NOT_FOUND (reason UNKNOWN_PORTAL) when there is none.
  absl::StatusOr<std::shared_ptr<Portal>> Acquire(const std::string& key);
  // The record of `key`, secrets included (never print it). NOT_FOUND.
  absl::StatusOr<PortalRecord> Get(const std::string& key) const;
  // Up to `limit` portals with names after `after`, in name order, for which
  // `keep` (may be null; sees the whole record: never print it) is true.
  std::vector<PortalListing> List(const std::string& after, size_t limit,
                                  const std::function<bool(const PortalRecord&)>& keep) const;
  // The listing of one portal. NOT_FOUND.
  absl::StatusOr<PortalListing> Describe(const std::string& key) const;
  // The portals in memory now.
  std::vector<std::shared_ptr<Portal>> Live() const;
  // Portals known (configured and registered).
  size_t size() const;

  // Tells `watcher` the name of each registered portal this process added,
  // changed or removed, or read added, changed or removed from the shared
  // registry (Sync), once the change applies; it may find the portal
  // changed again since (read it with Describe). Called with no lock
  // held, on the thread that made or read the change; may be called for a
  // portal whose record did not change. Replaces the previous watcher.
  void Watch(std::function<void(const std::string& name)> watcher);

  // Ends the shared registry's sync rounds: waits for the round in
  // progress, its watcher calls included, and starts none after. For an
  // owner about to destroy the directory: a watcher that reaches the
  // directory through its owner (EventBindings through Gateway) must not
  // run while the owner's pointer to it is already cleared. Not on the
  // sync thread (a watcher call).
  void StopSync();

  // Server shutdown (see Portal): every portal in memory, removed ones too.
  void BeginShutdown();
  void AbandonInFlight();

 private:
  struct Entry {
    PortalRecord record;
    // The configuration's options; null for a registered portal.
    std::shared_ptr<const PortalOptions> configured;
    std::shared_ptr<Portal> live;
    absl::Time last_used = absl::InfinitePast();
    // Which credentials the record holds: changes when they do, so a
    // replaced portal's late refresh never stores its token over the new
    // ones (RecordTokenStore).
    int64_t generation = 0;
    // A change of this portal is being written (its turn is taken).
    bool writing = false;
    // Added but not yet stored: its keys are taken, nothing addresses it.
    bool adding = false;
    // commits_ when a change of this process was last applied (Sync leaves
    // a change it read before that to its next round).
    int64_t committed = 0;
  };
  class RecordTokenStore;
  // One attempt of Load(): nothing is applied unless it succeeds.
  absl::Status LoadOnce();
  // A live portal to retune after a registry change, outside mu_.
  struct Retune {
    std::shared_ptr<Portal> live;
    PortalRecord record;
  };

  // The name `key` addresses (name, then member_id, then domain), or null;
  // portals being added count (their keys are taken).
  const std::string* Resolve(const std::string& key) const ABSL_SHARED_LOCKS_REQUIRED(mu_);
  // Resolve, without the portals being added: what callers may address.
  const std::string* Find(const std::string& key) const ABSL_SHARED_LOCKS_REQUIRED(mu_);
  // ALREADY_EXISTS when one of the record's keys addresses a portal other
  // than `self` (a name; "" = none).
  absl::Status CheckKeysFree(const PortalRecord& record, const std::string& self) const
      ABSL_SHARED_LOCKS_REQUIRED(mu_);
  // The options a registered portal runs with; INVALID_ARGUMENT naming the
  // field. `generation` is the record's (Entry::generation).
  absl::StatusOr<PortalOptions> OptionsFor(const PortalRecord& record, int64_t generation);
  PortalListing ListingOf(const Entry& entry) const;
  void Index(const PortalRecord& record) ABSL_EXCLUSIVE_LOCKS_REQUIRED(mu_);
  void Unindex(const PortalRecord& record) ABSL_EXCLUSIVE_LOCKS_REQUIRED(mu_);
  // Takes the turn of the registered portal `key`, waiting for a change of
  // it in progress; its name. NOT_FOUND; FAILED_PRECONDITION for a
  // configured portal.
  absl::StatusOr<std::string> TakeTurn(const std::string& key) ABSL_EXCLUSIVE_LOCKS_REQUIRED(mu_);
  void EndTurn(Entry* entry) ABSL_EXCLUSIVE_LOCKS_REQUIRED(mu_);
  // Puts `record` in place of `entry`'s, keys included; `renew`: new
  // credentials (the live portal is retired, the generation moves on).
  // The live portal to retune, if one stays.
  std::shared_ptr<Portal> Apply(Entry* entry, PortalRecord record, bool renew)
      ABSL_EXCLUSIVE_LOCKS_REQUIRED(mu_);
  // Stores `record` over the registered portal of its name and applies it.
  // REQUIRES: the caller took the portal's turn; it ends here.
  absl::Status Replace(PortalRecord record) ABSL_LOCKS_EXCLUDED(mu_);
  // Forgets `it`'s portal; its live portal, to drain outside mu_.
  std::shared_ptr<Portal> Erase(std::map<std::string, Entry>::iterator it)
      ABSL_EXCLUSIVE_LOCKS_REQUIRED(mu_);
  // The registry's copy of the rotated refresh token (RecordTokenStore).
  absl::StatusOr<std::string> StoredRefreshToken(const std::string& name) const;
  absl::Status SaveRefreshToken(const std::string& name, int64_t generation,
                                const std::string& token);
  // Sync: applies one change read when commits_ was `epoch`; false when it
  // must be read again (a change of this process raced it).
  bool ApplyRemote(const RegistryChange& change, int64_t epoch,
                   std::vector<std::shared_ptr<Portal>>* drain, std::vector<Retune>* retune)
      ABSL_EXCLUSIVE_LOCKS_REQUIRED(mu_);
  void RetuneAll(const std::vector<Retune>& retune);
  // Tells the watcher of `names`.
  void Notify(const std::vector<std::string>& names) ABSL_LOCKS_EXCLUDED(mu_);
  // The janitor's turn (DispatchPool::Task): drops idle portals from memory
  // and destroys removed ones nobody holds any more.
  absl::Time RunTurn() override;
  std::vector<std::shared_ptr<Portal>> TakeIdle(absl::Time now);
  // The sync thread's rounds (BudgetSyncer::Task).
  absl::Time DueAt(absl::Time now) override;
  void RunRound() override;

  std::unique_ptr<PortalRegistry> registry_;
  const DirectoryOptions options_;
  HttpTransport* const transport_;
  Clock* const clock_;
  DispatchPool* const pool_;
  PortalObserver* const observer_;

  mutable absl::Mutex mu_;
  absl::CondVar turn_ended_;
  std::map<std::string, Entry> entries_ ABSL_GUARDED_BY(mu_);  // by name
  absl::flat_hash_map<std::string, std::string> by_member_id_ ABSL_GUARDED_BY(mu_);
  absl::flat_hash_map<std::string, std::string> by_domain_ ABSL_GUARDED_BY(mu_);
  std::string default_name_ ABSL_GUARDED_BY(mu_);  // "" = none
  // Removed or replaced portals still in memory, until nobody holds them.
  std::vector<std::shared_ptr<Portal>> retired_ ABSL_GUARDED_BY(mu_);
  int64_t generations_ ABSL_GUARDED_BY(mu_) = 0;
  int64_t commits_ ABSL_GUARDED_BY(mu_) = 0;
  // The shared registry's change log is read after this number.
  int64_t synced_ ABSL_GUARDED_BY(mu_) = 0;
  // When the last round began (the sync thread's only).
  absl::Time last_round_ = absl::InfinitePast();
  std::shared_ptr<const std::function<void(const std::string&)>> watcher_ ABSL_GUARDED_BY(mu_);
  // Reads the change log every sync_every; null without a shared registry.
  std::unique_ptr<BudgetSyncer> syncer_;
};

}  // namespace b24gate

#endif  // B24GATE_ENGINE_GATEWAY_PORTAL_DIRECTORY_H_
