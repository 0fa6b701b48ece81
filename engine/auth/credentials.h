// How a portal's requests are authorised and addressed.
//
// WebhookCredentials: the secret is part of the base URL
// (https://PORTAL/rest/USER_ID/CODE/); nothing to refresh.
// OAuthCredentials: requests go to https://PORTAL/rest/METHOD?auth=TOKEN; on
// `expired_token` / `invalid_token` the portal asks for one refresh, and every
// request that failed meanwhile waits for that same refresh (single flight).
// The rotated refresh token is persisted before the new access token is used.
// A refused refresh (invalid_grant / invalid_client) is final until restart:
// later refreshes fail at once instead of hammering the OAuth server.
//
// With several replicas (OAuthOptions::sharing, Redis), the tokens are shared:
// a refresh first looks for a newer shared pair (a higher version than the
// pair this replica holds) another replica got, and otherwise refreshes under
// the shared lock (token_sharing.h), so one refresh serves every replica and
// a rotated refresh token is used once. That work blocks on Redis, so it runs
// on a thread of its own. When the shared store cannot be reached (a second
// look after a failed one, up to about 0.4 s later, fails too), the replica
// refreshes on its own as a single process does, and stores the new pair as
// the next version as soon as the store answers (the sharing thread tries
// again with a backoff once the callers have their answer), since the stored
// refresh token is spent; the token file keeps the pair with its version
// until then, and a replica restarted meanwhile offers it to the store
// again. Should the
// OAuth server refuse that refresh (another replica spent the token), the
// store is looked at once more and a newer shared pair is taken instead of
// failing. A refusal is not final either: a refused refresh token is never
// sent again, but one another replica shares later is tried. An older shared
// version never replaces the pair this replica holds.
//
// Both follow a 302 domain change (MoveTo).
//
// Thread-safety: thread-safe. Refresh callbacks run on the transport thread,
// inside Refresh() itself, or on the sharing thread; callers must not hold
// locks the callback takes.
#ifndef B24GATE_ENGINE_AUTH_CREDENTIALS_H_
#define B24GATE_ENGINE_AUTH_CREDENTIALS_H_

#include <cstdint>
#include <functional>
#include <memory>
#include <optional>
#include <string>
#include <thread>
#include <vector>

#include "absl/container/flat_hash_set.h"
#include "absl/status/status.h"
#include "absl/synchronization/mutex.h"
#include "engine/auth/token_sharing.h"
#include "engine/auth/token_store.h"
#include "engine/common/clock.h"
#include "engine/http/http_transport.h"

namespace b24gate {

struct Auth {
  std::string base_url;      // ends with '/'; the method name is appended
  std::string access_token;  // empty for webhooks
  int64_t generation = 0;    // bumps on every refresh
  bool needs_refresh = false;  // OAuth without an access token yet
};

class Credentials {
 public:
  virtual ~Credentials() = default;
  virtual Auth Current() = 0;
  virtual bool CanRefresh() const = 0;
  // Gets a new access token unless one newer than `generation` exists; runs
  // `done` with the outcome (UNAUTHENTICATED when the portal refused).
  virtual void Refresh(int64_t generation, std::function<void(absl::Status)> done) = 0;
  // The portal answered 302 to `location`: send to its scheme://host[:port]
  // from now on.
  virtual void MoveTo(const std::string& location) = 0;
};

class WebhookCredentials : public Credentials {
 public:
  explicit WebhookCredentials(std::string webhook_url) : base_url_(std::move(webhook_url)) {}
  Auth Current() override;
  bool CanRefresh() const override { return false; }
  void Refresh(int64_t generation, std::function<void(absl::Status)> done) override;
  void MoveTo(const std::string& location) override;

 private:
  absl::Mutex mu_;
  std::string base_url_ ABSL_GUARDED_BY(mu_);
};

struct OAuthOptions {
  std::string client_id;
  std::string client_secret;  // a secret: never logged
  // The first refresh token; the token store's copy wins when present.
  std::string refresh_token;
  // Bitrix24's OAuth server; overridable for the emulator.
  std::string oauth_url = "https://oauth.bitrix.info/oauth/token/";
  // REST endpoint, e.g. https://PORTAL/rest/ (replaced by the
  // client_endpoint each refresh reports).
  std::string portal_url;
  // File keeping the rotated refresh token; empty = memory only.
  std::string token_file;
  // Where the rotated refresh token is kept instead of token_file (the
  // portal registry, engine/registry/); null: token_file decides.
  std::shared_ptr<TokenStore> token_store;
  // Where replicas share the current tokens (Redis); null: this process only.
  std::shared_ptr<TokenSharing> sharing;
  bool enabled() const { return !client_id.empty(); }
};

class OAuthCredentials : public Credentials {
 public:
  // `transport` and `clock` must outlive this object.
  OAuthCredentials(OAuthOptions options, std::shared_ptr<TokenStore> store,
                   HttpTransport* transport, TlsOptions tls, Clock* clock = Clock::Real());
  // Waits for a shared refresh in progress.
  ~OAuthCredentials() override;
  Auth Current() override;
  bool CanRefresh() const override { return true; }
  void Refresh(int64_t generation, std::function<void(absl::Status)> done) override;
  void MoveTo(const std::string& location) override;
  // Refreshes this process asked the OAuth server for.
  int64_t refreshes() const;
  int64_t persist_failures() const;

 private:
  // What the OAuth server issued.
  struct Issued {
    std::string access_token;
    std::string refresh_token;
    std::string client_endpoint;  // may be empty
  };
  HttpRequest RefreshRequest(const std::string& refresh_token) const;
  // The server's answer, or UNAUTHENTICATED (invalid_grant / invalid_client:
  // final), UNAVAILABLE (unreachable, not an OAuth answer), or as mapped.
  static absl::StatusOr<Issued> ParseAnswer(const HttpResponse& response);
  // One request to the OAuth server, waited for (the sharing thread only).
  absl::StatusOr<Issued> RefreshNow(const std::string& refresh_token);
  // Single process: the answer to the refresh Refresh() sent.
  void OnRefreshed(HttpResponse response);
  // With sharing, at construction: takes the pair the token file kept with
  // its shared version, and starts the sharing thread to offer it to the
  // store (it may be a pair the store never got).
  void RestoreShared(const StoredTokens& saved);
  // What the sharing thread does next.
  enum class SharingJob {
    kRefresh,  // a refresh was asked for (refreshing_)
    kRetry,    // a pair to store or a lock to release, after a failure
    kExit,     // nothing left (or destruction)
  };
  // The sharing thread: refreshes when asked, and between refreshes writes
  // a pending pair (and releases a pending lock) once the store answers,
  // waiting longer after each failure. Ends when nothing is left, so no
  // thread is kept per portal.
  void SharingWork();
  // Waits until `retry_at` for pending work, or less when a refresh is asked
  // for. Clears worker_running_ when returning kExit.
  SharingJob NextSharingJob(absl::Time retry_at) ABSL_LOCKS_EXCLUDED(mu_);
  // Stores unshared_ and then releases a pending lock; false when the store
  // failed and something is still pending.
  bool SharePending(TokenSharing& sharing);
  // Releases the refresh lock, or leaves it to the sharing thread should the
  // store not answer.
  void ReleaseLock(TokenSharing& sharing);
  // With sharing: the work of one refresh, on the sharing thread.
  void RefreshShared();
  // What one look at the shared store came to.
  enum class SharedStep {
    kDone,       // newer tokens adopted, or refreshed under the lock: see `status`
    kWait,       // another replica holds the refresh lock
    kStoreDown,  // the store could not be reached
  };
  // Adopts newer shared tokens, or takes the lock and refreshes under it.
  SharedStep StepShared(TokenSharing& sharing, absl::Status* status);
  // sharing.Load(), tried again for a short while (kStoreGrace) when it
  // fails: one timed-out Redis command does not yet make a replica refresh
  // on its own.
  absl::StatusOr<std::optional<SharedTokens>> LoadShared(TokenSharing& sharing);
  // Adopts `shared` when its version is above the one this replica holds
  // and it is another pair.
  bool AdoptIfNewer(const std::optional<SharedTokens>& shared);
  // Refreshes without the lock (the store is out of reach) and keeps the new
  // pair as unshared_, stored at once if the store answers again.
  absl::Status RefreshAlone(TokenSharing& sharing);
  // Stores unshared_ unless `*shared` (what the store holds; updated) or
  // the store itself holds a version as new; a failed store keeps it for the
  // next try and returns false. Never fails the caller.
  bool ShareUnshared(TokenSharing& sharing, std::optional<SharedTokens>* shared);
  // Refreshes with the first of `candidates` the server has not refused
  // before; a refused one (invalid_grant) is remembered and the next tried.
  absl::StatusOr<Issued> RefreshWithFirstOf(const std::vector<std::string>& candidates);
  // Makes the tokens current: the refresh token is persisted first (the old
  // one is dead once the new one was issued), without mu_, so that a slow
  // disk never holds up Current() and the requests waiting on it.
  // REQUIRES: mu_ not held; called by the refresh in progress only
  // (refreshing_), so no other Adopt runs meanwhile.
  // `unshared_version`: the pair's shared version while the store does not
  // hold it (kept in the token file, to be offered again after a restart);
  // 0 when it does, or without sharing.
  void Adopt(const std::string& access_token, const std::string& refresh_token,
             const std::string& base_url, int64_t unshared_version) ABSL_LOCKS_EXCLUDED(mu_);
  // With sharing, holding the replicas' refresh lock, `shared` being what
  // the store held after the lock was taken (no newer access token):
  // refreshes and shares the new tokens; then releases the lock.
  // REQUIRES: this replica holds the sharing lock.
  absl::Status RefreshUnderSharedLock(TokenSharing& sharing,
                                      const std::optional<SharedTokens>& shared);
  // Ends a refresh: every waiter gets `status`.
  void Finish(absl::Status status);

  const OAuthOptions options_;
  const std::shared_ptr<TokenStore> store_;
  HttpTransport* const transport_;
  const TlsOptions tls_;
  Clock* const clock_;

  mutable absl::Mutex mu_;
  std::string base_url_ ABSL_GUARDED_BY(mu_);
  std::string access_token_ ABSL_GUARDED_BY(mu_);
  std::string refresh_token_ ABSL_GUARDED_BY(mu_);
  int64_t generation_ ABSL_GUARDED_BY(mu_) = 0;
  int64_t refreshes_ ABSL_GUARDED_BY(mu_) = 0;
  int64_t persist_failures_ ABSL_GUARDED_BY(mu_) = 0;
  bool refreshing_ ABSL_GUARDED_BY(mu_) = false;
  absl::Status refused_ ABSL_GUARDED_BY(mu_);  // set after invalid_grant / invalid_client
  // With sharing: the version of the shared pair this replica holds (adopted
  // or written; one above the last seen after a refresh on its own).
  int64_t shared_version_ ABSL_GUARDED_BY(mu_) = 0;
  // With sharing: a pair this replica got that the store does not hold yet.
  std::optional<SharedTokens> unshared_ ABSL_GUARDED_BY(mu_);
  // With sharing: the refresh lock may be held by this replica (a lock or
  // release command failed, or a pair is still to be stored under it).
  bool unlock_pending_ ABSL_GUARDED_BY(mu_) = false;
  // The sharing thread runs (SharingWork); set before it starts, cleared as
  // its last change.
  bool worker_running_ ABSL_GUARDED_BY(mu_) = false;
  bool stopping_ ABSL_GUARDED_BY(mu_) = false;  // destruction: pending work is dropped
  // With sharing: refresh tokens the server refused, never sent again.
  absl::flat_hash_set<std::string> refused_tokens_ ABSL_GUARDED_BY(mu_);
  std::vector<std::function<void(absl::Status)>> waiters_ ABSL_GUARDED_BY(mu_);
  // Runs SharingWork; joined before the next one starts and at destruction.
  std::thread sharing_thread_ ABSL_GUARDED_BY(mu_);
};

// Replaces the scheme://host[:port] of `url` by the one of `location`.
std::string WithOriginOf(const std::string& url, const std::string& location);

}  // namespace b24gate

#endif  // B24GATE_ENGINE_AUTH_CREDENTIALS_H_
