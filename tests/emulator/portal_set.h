// Many portals in one emulator (README "Many portals"): the first portal,
// which the flags describe and which answers every host that names no other
// (so one-portal use is unchanged), and portals created at start
// (--portals N) or through /_emulator/portals. Each created portal has its
// own domain (NAME.localhost, told apart by the Host header; libcurl and
// browsers resolve *.localhost to the loopback address), member_id, webhook,
// application_token, OAuth chain (its tokens end in a part of its own, so
// the one /oauth/token/ endpoint finds the portal a refresh token belongs
// to), plan and limits, and data. Until first called it costs its identity
// and OAuth state; its data, bucket, operating windows, files and stats are
// built on first use. With an application URL, creating a portal posts
// ONAPPINSTALL there and removing one posts ONAPPUNINSTALL (app_notifier.h).
//
// Thread-safety: thread-safe. A portal handed out stays alive while the
// caller holds it, also when it is removed meanwhile.
#ifndef B24EMU_PORTAL_SET_H_
#define B24EMU_PORTAL_SET_H_

#include <cstdint>
#include <functional>
#include <memory>
#include <optional>
#include <random>
#include <string>
#include <vector>

#include <nlohmann/json.hpp>

#include "absl/base/thread_annotations.h"
#include "absl/container/flat_hash_map.h"
#include "absl/status/statusor.h"
#include "absl/strings/string_view.h"
#include "absl/synchronization/mutex.h"
#include "tests/emulator/app_notifier.h"
#include "tests/emulator/clock.h"
#include "tests/emulator/method_api.h"
#include "tests/emulator/online_sender.h"
#include "tests/emulator/portal.h"

namespace b24emu {

// A created portal's plan: the --plan names (empty: the flags' plan), each
// limit overridable.
struct PortalPlan {
  std::string plan;
  std::optional<double> burst;
  std::optional<double> rate;  // requests per second, before the time scale
};

struct NewPortal {
  std::string name;  // empty: "portal-SERIAL"
  PortalPlan plan;
};

// The body of POST /_emulator/portals: {"name", "count", "plan",
// "bucket_burst", "bucket_rate"}, all optional (README "Many portals").
// InvalidArgument naming the field.
absl::StatusOr<std::vector<NewPortal>> ParseNewPortals(const std::string& body);

class PortalSet {
 public:
  // A created portal's config (limits, costs, faults, OAuth application)
  // for its plan, time-scaled; its webhook and OAuth identity are set here.
  using ConfigMaker = std::function<PortalConfig(const PortalPlan&)>;
  // A created portal's data, made on its first use.
  using DataMaker = std::function<std::unique_ptr<MethodTable>()>;

  // `first`, `poster`, `clock` and `notifier` (null: no install posts) must
  // outlive the set.
  PortalSet(Portal* first, ConfigMaker make_config, DataMaker make_data, EventPoster* poster,
            const AppNotifier* notifier, const Clock* clock);
  ~PortalSet();

  Portal* first() const { return first_; }

  // The scheme and port the portals are reached at (once the server bound).
  void SetOrigin(bool https, int port);

  // The portal a request with this Host header is for.
  std::shared_ptr<Portal> ForHost(absl::string_view host);
  // The portal `refresh_token` belongs to (the first when none claims it);
  // *portal_url its "http(s)://host:port".
  std::shared_ptr<Portal> ForRefreshToken(const std::string& refresh_token,
                                          std::string* portal_url);

  // Creates a portal; with an application URL posts its install and says
  // what the application answered ("install_status", -1: unreachable).
  // `post_install` false: the caller posts it later (PostInstall).
  // InvalidArgument for a bad name, AlreadyExists for a taken one.
  absl::StatusOr<nlohmann::json> Create(const NewPortal& spec, bool post_install = true);
  // Posts a created portal's install, retrying a refused connection for
  // `retry_for` (start-up: the application may not listen yet).
  int PostInstall(const std::string& name, absl::Duration retry_for);
  // Removes a portal (its tokens die with it) and posts ONAPPUNINSTALL.
  // NotFound for an unknown name.
  absl::StatusOr<nlohmann::json> Remove(const std::string& name, bool clean);

  // Every created portal and the count of tokens used after rotation over
  // all portals, removed ones included.
  nlohmann::json List() const;

 private:
  struct Hosted;

  std::shared_ptr<Portal> Built(const std::shared_ptr<Hosted>& hosted);
  std::shared_ptr<Hosted> Find(const std::string& name) const;
  nlohmann::json Describe(const Hosted& hosted) const ABSL_EXCLUSIVE_LOCKS_REQUIRED(mu_);
  // Without tokens.
  InstalledApp AppOf(const Hosted& hosted) const ABSL_EXCLUSIVE_LOCKS_REQUIRED(mu_);
  std::string RandomHexLocked(int chars) ABSL_EXCLUSIVE_LOCKS_REQUIRED(mu_);

  Portal* const first_;
  const ConfigMaker make_config_;
  const DataMaker make_data_;
  EventPoster* const poster_;
  const AppNotifier* const notifier_;
  const Clock* const clock_;
  mutable absl::Mutex mu_;
  std::string scheme_ ABSL_GUARDED_BY(mu_) = "http";
  std::string port_suffix_ ABSL_GUARDED_BY(mu_);  // ":PORT"
  std::mt19937_64 rng_ ABSL_GUARDED_BY(mu_);
  int64_t next_serial_ ABSL_GUARDED_BY(mu_) = 1;
  absl::flat_hash_map<std::string, std::shared_ptr<Hosted>> by_name_ ABSL_GUARDED_BY(mu_);
  absl::flat_hash_map<std::string, std::shared_ptr<Hosted>> by_domain_ ABSL_GUARDED_BY(mu_);
  absl::flat_hash_map<std::string, std::shared_ptr<Hosted>> by_suffix_ ABSL_GUARDED_BY(mu_);
  int64_t removed_rotation_uses_ ABSL_GUARDED_BY(mu_) = 0;
};

}  // namespace b24emu

#endif  // B24EMU_PORTAL_SET_H_
