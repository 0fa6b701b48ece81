#include "tests/emulator/portal_set.h"

#include <algorithm>
#include <atomic>
#include <utility>
#include <vector>

#include "absl/strings/ascii.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_format.h"
#include "tests/emulator/events.h"
#include "tests/emulator/oauth.h"

namespace b24emu {
namespace {

// The length of the part of a token that names its portal (OAuthOptions).
constexpr size_t kSuffixLength = 20;

// 1 to 40 of [a-z0-9-], not starting with '-': a DNS label.
bool ValidName(const std::string& name) {
  if (name.empty() || name.size() > 40 || name[0] == '-') return false;
  return std::all_of(name.begin(), name.end(), [](char c) {
    return absl::ascii_isdigit(c) || absl::ascii_islower(c) || c == '-';
  });
}

}  // namespace

absl::StatusOr<std::vector<NewPortal>> ParseNewPortals(const std::string& body) {
  const nlohmann::json j =
      body.empty() ? nlohmann::json::object() : nlohmann::json::parse(body, nullptr, false);
  if (!j.is_object()) return absl::InvalidArgumentError("body: expected a JSON object");
  NewPortal spec;
  int64_t count = 1;
  for (const auto& [key, value] : j.items()) {
    if (key == "name" && value.is_string()) {
      spec.name = value.get<std::string>();
    } else if (key == "count" && value.is_number_integer()) {
      count = value.get<int64_t>();
    } else if (key == "plan" && value.is_string()) {
      spec.plan.plan = value.get<std::string>();
    } else if (key == "bucket_burst" && value.is_number()) {
      spec.plan.burst = value.get<double>();
    } else if (key == "bucket_rate" && value.is_number()) {
      spec.plan.rate = value.get<double>();
    } else {
      return absl::InvalidArgumentError(absl::StrCat(key, ": unknown or of the wrong type"));
    }
  }
  if (count < 1 || count > 100000) return absl::InvalidArgumentError("count: 1 to 100000");
  if (count > 1 && !spec.name.empty()) return absl::InvalidArgumentError("name: only with count 1");
  if (!spec.plan.plan.empty() && spec.plan.plan != "standard" && spec.plan.plan != "enterprise") {
    return absl::InvalidArgumentError("plan: standard or enterprise");
  }
  if (spec.plan.burst && *spec.plan.burst < 1) return absl::InvalidArgumentError("bucket_burst: >= 1");
  if (spec.plan.rate && !(*spec.plan.rate > 0)) return absl::InvalidArgumentError("bucket_rate: > 0");
  return std::vector<NewPortal>(static_cast<size_t>(count), spec);
}

struct PortalSet::Hosted {
  int64_t serial = 0;
  std::string name;
  std::string host;  // NAME.localhost, without the port
  std::string member_id;
  std::string application_token;
  std::string webhook_code;
  PortalPlan plan;
  PortalConfig config;
  std::unique_ptr<OAuthServer> oauth;  // null: the emulator serves no OAuth

  absl::Mutex build_mu;
  std::atomic<bool> in_memory{false};
  std::unique_ptr<MethodTable> data ABSL_GUARDED_BY(build_mu);
  std::unique_ptr<EventingMethods> events ABSL_GUARDED_BY(build_mu);
  std::unique_ptr<Portal> portal ABSL_GUARDED_BY(build_mu);
};

PortalSet::PortalSet(Portal* first, ConfigMaker make_config, DataMaker make_data,
                     EventPoster* poster, const AppNotifier* notifier, const Clock* clock)
    : first_(first),
      make_config_(std::move(make_config)),
      make_data_(std::move(make_data)),
      poster_(poster),
      notifier_(notifier),
      clock_(clock),
      rng_(std::random_device{}()) {}

PortalSet::~PortalSet() = default;

void PortalSet::SetOrigin(bool https, int port) {
  absl::MutexLock lock(&mu_);
  scheme_ = https ? "https" : "http";
  port_suffix_ = absl::StrCat(":", port);
}

std::string PortalSet::RandomHexLocked(int chars) {
  static constexpr char kHex[] = "0123456789abcdef";
  std::string out;
  while (static_cast<int>(out.size()) < chars) {
    uint64_t v = rng_();
    for (int k = 0; k < 16 && static_cast<int>(out.size()) < chars; ++k, v >>= 4) {
      out.push_back(kHex[v & 15]);
    }
  }
  return out;
}

std::shared_ptr<Portal> PortalSet::ForHost(absl::string_view host) {
  std::string name(host.substr(0, host.rfind(':')));
  if (!host.empty() && host[0] == '[') name.clear();  // an IPv6 literal
  absl::AsciiStrToLower(&name);
  std::shared_ptr<Hosted> hosted;
  {
    absl::MutexLock lock(&mu_);
    auto it = by_domain_.find(name);
    if (it != by_domain_.end()) hosted = it->second;
  }
  if (hosted == nullptr) return std::shared_ptr<Portal>(std::shared_ptr<Portal>(), first_);
  return Built(hosted);
}

std::shared_ptr<Portal> PortalSet::ForRefreshToken(const std::string& refresh_token,
                                                   std::string* portal_url) {
  std::shared_ptr<Hosted> hosted;
  if (refresh_token.size() >= kSuffixLength) {
    absl::MutexLock lock(&mu_);
    auto it = by_suffix_.find(refresh_token.substr(refresh_token.size() - kSuffixLength));
    if (it != by_suffix_.end()) {
      hosted = it->second;
      *portal_url = absl::StrCat(scheme_, "://", hosted->host, port_suffix_);
    }
  }
  if (hosted == nullptr) return std::shared_ptr<Portal>(std::shared_ptr<Portal>(), first_);
  return Built(hosted);
}

std::shared_ptr<Portal> PortalSet::Built(const std::shared_ptr<Hosted>& hosted) {
  PortalIdentity identity;
  {
    absl::MutexLock lock(&mu_);
    identity.domain = absl::StrCat(hosted->host, port_suffix_);
  }
  identity.member_id = hosted->member_id;
  identity.application_token = hosted->application_token;
  absl::MutexLock lock(&hosted->build_mu);
  if (hosted->portal == nullptr) {
    hosted->data = make_data_();
    hosted->events =
        std::make_unique<EventingMethods>(hosted->data.get(), clock_, poster_, identity);
    hosted->portal = std::make_unique<Portal>(hosted->config, hosted->events.get(), clock_,
                                              hosted->oauth.get());
    hosted->in_memory = true;
  }
  return std::shared_ptr<Portal>(hosted, hosted->portal.get());
}

std::shared_ptr<PortalSet::Hosted> PortalSet::Find(const std::string& name) const {
  absl::MutexLock lock(&mu_);
  auto it = by_name_.find(name);
  return it == by_name_.end() ? nullptr : it->second;
}

absl::StatusOr<nlohmann::json> PortalSet::Create(const NewPortal& spec, bool post_install) {
  if (!spec.name.empty() && !ValidName(spec.name)) {
    return absl::InvalidArgumentError("name: 1 to 40 of a-z, 0-9 and '-', not starting with '-'");
  }
  auto hosted = std::make_shared<Hosted>();
  hosted->plan = spec.plan;
  hosted->config = make_config_(spec.plan);
  {
    absl::MutexLock lock(&mu_);
    // An automatic name skips those taken by name already.
    while (spec.name.empty() && by_name_.contains(absl::StrCat("portal-", next_serial_))) ++next_serial_;
    hosted->serial = next_serial_;
    hosted->name = spec.name.empty() ? absl::StrCat("portal-", hosted->serial) : spec.name;
    hosted->host = absl::StrCat(hosted->name, ".localhost");
    if (by_name_.contains(hosted->name)) {
      return absl::AlreadyExistsError(absl::StrCat("a portal named ", hosted->name, " exists"));
    }
    ++next_serial_;
    hosted->member_id = RandomHexLocked(32);
    hosted->application_token = RandomHexLocked(32);
    hosted->webhook_code = RandomHexLocked(16);
    hosted->config.webhooks = {{1, hosted->webhook_code}};
    if (hosted->config.oauth) {
      OAuthOptions oauth = *hosted->config.oauth;
      oauth.initial_refresh_token.clear();
      oauth.member_id = hosted->member_id;
      oauth.token_suffix = absl::StrFormat("b24e%08x00010000", hosted->serial);
      oauth.revoke_on_refresh = true;
      hosted->oauth = std::make_unique<OAuthServer>(std::move(oauth), clock_);
      by_suffix_[hosted->oauth->token_suffix()] = hosted;
    }
    by_name_[hosted->name] = hosted;
    by_domain_[hosted->host] = hosted;
  }
  const bool posting = post_install && notifier_ != nullptr;
  const int status = posting ? PostInstall(hosted->name, absl::ZeroDuration()) : 0;
  absl::MutexLock lock(&mu_);
  nlohmann::json j = Describe(*hosted);
  if (posting) j["install_status"] = status;
  return j;
}

int PortalSet::PostInstall(const std::string& name, absl::Duration retry_for) {
  std::shared_ptr<Hosted> hosted = Find(name);
  if (hosted == nullptr || notifier_ == nullptr) return -1;
  InstalledApp app;
  {
    absl::MutexLock lock(&mu_);
    app = AppOf(*hosted);
  }
  if (hosted->oauth != nullptr) {
    app.access_token = hosted->oauth->InitialAccessToken();
    app.refresh_token = hosted->oauth->InitialRefreshToken();
    app.access_lifetime = hosted->oauth->access_lifetime();
  }
  return notifier_->Install(app, retry_for);
}

absl::StatusOr<nlohmann::json> PortalSet::Remove(const std::string& name, bool clean) {
  InstalledApp app;
  {
    absl::MutexLock lock(&mu_);
    auto it = by_name_.find(name);
    if (it == by_name_.end()) return absl::NotFoundError(absl::StrCat("no portal named ", name));
    std::shared_ptr<Hosted> hosted = it->second;
    by_name_.erase(it);
    by_domain_.erase(hosted->host);
    if (hosted->oauth != nullptr) {
      by_suffix_.erase(hosted->oauth->token_suffix());
      removed_rotation_uses_ += hosted->oauth->UsesAfterRotation();
    }
    app = AppOf(*hosted);
  }
  nlohmann::json j = {{"name", name}, {"removed", true}};
  if (notifier_ != nullptr) j["uninstall_status"] = notifier_->Uninstall(app, clean);
  return j;
}

InstalledApp PortalSet::AppOf(const Hosted& hosted) const {
  InstalledApp app;
  app.domain = absl::StrCat(hosted.host, port_suffix_);
  app.client_endpoint = absl::StrCat(scheme_, "://", app.domain, "/rest/");
  app.member_id = hosted.member_id;
  app.application_token = hosted.application_token;
  return app;
}

nlohmann::json PortalSet::Describe(const Hosted& hosted) const {
  const InstalledApp app = AppOf(hosted);
  nlohmann::json plan = {{"plan", hosted.plan.plan.empty() ? "as the flags" : hosted.plan.plan},
                         {"burst", hosted.config.bucket.burst},
                         {"drain_per_second", hosted.config.bucket.drain_per_second},
                         {"enforced", hosted.config.bucket.enforce}};
  return {{"name", hosted.name},
          {"domain", app.domain},
          {"member_id", hosted.member_id},
          {"application_token", hosted.application_token},
          {"client_endpoint", app.client_endpoint},
          {"webhook", absl::StrCat(app.client_endpoint, "1/", hosted.webhook_code, "/")},
          {"plan", std::move(plan)},
          {"in_memory", hosted.in_memory.load()},
          {"tokens_used_after_rotation",
           hosted.oauth != nullptr ? hosted.oauth->UsesAfterRotation() : 0}};
}

nlohmann::json PortalSet::List() const {
  absl::MutexLock lock(&mu_);
  std::vector<const Hosted*> sorted;
  for (const auto& [name, hosted] : by_name_) sorted.push_back(hosted.get());
  std::sort(sorted.begin(), sorted.end(),
            [](const Hosted* a, const Hosted* b) { return a->serial < b->serial; });
  nlohmann::json portals = nlohmann::json::array();
  int64_t used = removed_rotation_uses_ + first_->TokensUsedAfterRotation();
  for (const Hosted* hosted : sorted) {
    portals.push_back(Describe(*hosted));
    if (hosted->oauth != nullptr) used += hosted->oauth->UsesAfterRotation();
  }
  return {{"count", sorted.size()}, {"tokens_used_after_rotation", used},
          {"portals", std::move(portals)}};
}

}  // namespace b24emu
