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
// Thread-safety: thread-safe. mu_ guards the maps and is never held during
// I/O or while calling into a portal. write_mu_ orders the registry's
// writes: a change takes it for its whole check-write-apply, so two changes
// never interleave and the store sees them in the order memory does; only
// other changes wait on it.
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
  // Shares a registered OAuth portal's tokens between replicas (Redis);
  // null: this process only.
  std::function<std::shared_ptr<TokenSharing>(const std::string& portal,
                                              const std::string& client_id)>
      token_sharing;
};

// One portal as listed: its record without the secrets, and where it is.
struct PortalListing {
  PortalRecord record;  // secrets cleared
  bool configured = false;
  // In memory: ask it for its state (Stats, Tuning). Null when not.
  std::shared_ptr<Portal> live;
  // The settings it runs with (or will, once built); for a live portal,
  // its current tuning is live->Tuning().
  PortalTuning tuning;
};

class PortalDirectory : private DispatchPool::Task {
 public:
  // The configured portals are built at once; the first is the default.
  // REQUIRES: configured validated, names unique. `registry`, `transport`,
  // `clock`, `pool` and `observer` (all but registry unowned) outlive it.
  PortalDirectory(std::vector<PortalOptions> configured, std::unique_ptr<PortalRegistry> registry,
                  DirectoryOptions options, HttpTransport* transport, Clock* clock,
                  DispatchPool* pool, PortalObserver* observer);
  // Destroys every portal (see Portal::~Portal).
  ~PortalDirectory() override;

  // Reads the registry (start-up). DATA_LOSS or UNAVAILABLE from the store;
  // INVALID_ARGUMENT when a stored portal clashes with a configured one.
  absl::Status Load();

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
  };
  class RecordTokenStore;

  // The name `key` addresses (name, then member_id, then domain), or null.
  const std::string* Resolve(const std::string& key) const ABSL_SHARED_LOCKS_REQUIRED(mu_);
  // ALREADY_EXISTS when one of the record's keys addresses a portal other
  // than `self` (a name; "" = none).
  absl::Status CheckKeysFree(const PortalRecord& record, const std::string& self) const
      ABSL_SHARED_LOCKS_REQUIRED(mu_);
  // The options a registered portal runs with; INVALID_ARGUMENT naming the field.
  absl::StatusOr<PortalOptions> OptionsFor(const PortalRecord& record);
  PortalListing ListingOf(const Entry& entry) const;
  void Index(const PortalRecord& record) ABSL_EXCLUSIVE_LOCKS_REQUIRED(mu_);
  void Unindex(const PortalRecord& record) ABSL_EXCLUSIVE_LOCKS_REQUIRED(mu_);
  absl::Status AddLocked(PortalRecord record) ABSL_EXCLUSIVE_LOCKS_REQUIRED(write_mu_);
  // Stores `record` over the registered portal of its name and applies it.
  absl::Status Replace(PortalRecord record) ABSL_EXCLUSIVE_LOCKS_REQUIRED(write_mu_);
  // The registry's copy of the rotated refresh token (RecordTokenStore).
  absl::StatusOr<std::string> StoredRefreshToken(const std::string& name) const;
  absl::Status SaveRefreshToken(const std::string& name, const std::string& token);
  // The janitor's turn (DispatchPool::Task): drops idle portals from memory
  // and destroys removed ones nobody holds any more.
  absl::Time RunTurn() override;
  std::vector<std::shared_ptr<Portal>> TakeIdle(absl::Time now);

  std::unique_ptr<PortalRegistry> registry_;
  const DirectoryOptions options_;
  HttpTransport* const transport_;
  Clock* const clock_;
  DispatchPool* const pool_;
  PortalObserver* const observer_;

  absl::Mutex write_mu_ ABSL_ACQUIRED_BEFORE(mu_);
  mutable absl::Mutex mu_;
  std::map<std::string, Entry> entries_ ABSL_GUARDED_BY(mu_);  // by name
  absl::flat_hash_map<std::string, std::string> by_member_id_ ABSL_GUARDED_BY(mu_);
  absl::flat_hash_map<std::string, std::string> by_domain_ ABSL_GUARDED_BY(mu_);
  std::string default_name_ ABSL_GUARDED_BY(mu_);  // "" = none
  // Removed or replaced portals still in memory, until nobody holds them.
  std::vector<std::shared_ptr<Portal>> retired_ ABSL_GUARDED_BY(mu_);
};

}  // namespace b24gate

#endif  // B24GATE_ENGINE_GATEWAY_PORTAL_DIRECTORY_H_
