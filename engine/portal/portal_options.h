// Settings of one configured Bitrix24 portal. Filled from flags, the config
// file or the environment and validated once at start-up (ValidatePortalOptions).
#ifndef B24GATE_ENGINE_PORTAL_PORTAL_OPTIONS_H_
#define B24GATE_ENGINE_PORTAL_PORTAL_OPTIONS_H_

#include <memory>
#include <optional>
#include <string>
#include <vector>

#include "absl/status/status.h"
#include "absl/time/time.h"
#include "engine/budget/budget_store.h"
#include "engine/throttle/autothrottle.h"
#include "engine/throttle/backoff.h"
#include "engine/throttle/fair_share.h"
#include "engine/auth/credentials.h"
#include "engine/common/event_bindings_spec.h"
#include "engine/portal/call_types.h"
#include "engine/http/http_transport.h"
#include "engine/throttle/leaky_bucket.h"
#include "engine/throttle/operating_tracker.h"

namespace b24gate {

// The API of a call that names none (config "api_version").
enum class ApiChoice {
  kClassic,
  kV3,
  // REST 3.0 for the methods the portal's OpenAPI document lists, classic
  // for the others (v3_catalog.h).
  kAuto,
};

struct PortalOptions {
  // Name used in requests' `portal` field.
  std::string name = "default";
  // Incoming webhook: "https://PORTAL/rest/USER_ID/CODE/". A secret: never
  // logged. Normalised to end with '/'. Empty when `oauth` is used.
  std::string webhook_url;
  // An OAuth application instead of a webhook (oauth.enabled()).
  OAuthOptions oauth;
  // What the portal's event posts carry as auth[application_token]; the
  // inbound event endpoint accepts a post for this portal only with it. A
  // secret: never logged. Empty: the endpoint refuses the portal's posts.
  std::string application_token;
  // The event bindings the gateway keeps on this portal (config
  // "event_bindings", or a registered portal's record), kept matching by
  // BindingKeeper (engine/events/binding_keeper.h).
  using EventBindings = EventBindingsSpec;
  EventBindings event_bindings;
  // Request-rate model (docs/bitrix24-protocol.md, "Limits"). Preset "standard": 50 / 2 per s.
  BucketPolicy bucket;
  // Operating-time limit per method.
  OperatingPolicy operating;
  // Commands per batch request (Bitrix24 allows at most 50).
  int batch_size = 50;
  // HTTP requests in flight at once for this portal.
  int max_concurrency = 8;
  // How long a lone queued call waits for company before it is sent, so
  // calls arriving together share a batch. Only while waiting can save a
  // request (DispatchQueue::Next): company expected or the budget scarce.
  absl::Duration linger = absl::Milliseconds(2);
  // Whole-exchange timeout of one HTTP request. The cloud cuts requests off
  // at 60 s, so a longer wait means the answer is lost.
  absl::Duration request_timeout = absl::Seconds(70);
  // Slow-down on unexpected server errors.
  AutothrottlePolicy autothrottle;
  // Retries of calls that were not executed or are safe to repeat.
  BackoffPolicy backoff;
  int max_attempts = 8;
  TlsOptions tls;
  // Origins ("https://host[:port]", UrlOrigin form) a redirect may lead to;
  // one that does is followed and kept. Other redirects fail the call.
  std::vector<std::string> redirect_to;
  // The API a call that names none goes to (config "api_version"): classic
  // REST, REST 3.0 for a portal whose callers speak it, or auto.
  ApiChoice default_api = ApiChoice::kClassic;
  // Each API client's share of the portal when several queue at once.
  FairSharePolicy fair_share;
  // Where the request budget and operating-time state live: null keeps them
  // in this process; a shared store (Redis) lets several gateway replicas
  // share the portal's one budget.
  std::shared_ptr<BudgetSharing> sharing;
};

// The settings that can change while the gateway runs (admin RPC, the
// service-side equivalent of fast_bitrix24's slow() and its tunables).
struct PortalTuning {
  BucketPolicy bucket;
  OperatingPolicy operating;
  int batch_size = 50;
  int max_concurrency = 8;
  absl::Duration linger = absl::Milliseconds(2);
};

PortalTuning TuningOf(const PortalOptions& options);
// INVALID_ARGUMENT naming the offending field, or OK.
absl::Status ValidateTuning(const PortalTuning& tuning);

// Applies a plan preset: "standard" (50 / 2 per s) or "enterprise"
// (250 / 5 per s). INVALID_ARGUMENT for other names.
absl::Status ApplyPlan(const std::string& plan, PortalOptions* options);

// Names travel into Redis keys, file names, metrics labels and logs, so
// they are short and plain: 1 to 64 letters, digits, '_', '-' or '.',
// starting with a letter or digit. INVALID_ARGUMENT saying so (the name is
// not quoted: it may be anything), or OK.
absl::Status ValidatePortalName(const std::string& name);

// INVALID_ARGUMENT with the offending field named, or OK.
absl::Status ValidatePortalOptions(const PortalOptions& options);

// The webhook URL with its secret code replaced by "***", for logs.
std::string RedactedWebhook(const std::string& webhook_url);

}  // namespace b24gate

#endif  // B24GATE_ENGINE_PORTAL_PORTAL_OPTIONS_H_
