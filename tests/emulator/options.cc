#include "tests/emulator/options.h"

#include <functional>
#include <map>

#include "absl/strings/numbers.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/match.h"

namespace b24emu {
namespace {

absl::Status Bad(const std::string& flag, const std::string& why) {
  return absl::InvalidArgumentError(absl::StrCat(flag, ": ", why));
}

absl::Status ParseDouble(const std::string& flag, const std::string& v, double* out, double min) {
  if (!absl::SimpleAtod(v, out) || *out < min) return Bad(flag, "expected a number >= " + std::to_string(min));
  return absl::OkStatus();
}

absl::Status ParseInt(const std::string& flag, const std::string& v, int* out, int min, int max) {
  if (!absl::SimpleAtoi(v, out) || *out < min || *out > max) {
    return Bad(flag, absl::StrCat("expected an integer in [", min, ", ", max, "]"));
  }
  return absl::OkStatus();
}

}  // namespace

std::string UsageText() {
  return R"(Usage: b24-emulator [flags]
A local Bitrix24 REST portal: protocol, limits, costs and faults (see README.md).

  --listen HOST:PORT            listen address (default 127.0.0.1:0 = free port);
                                first stdout line: "listening on HOST:PORT"
  --webhook USER_ID/CODE        accepted incoming webhook (repeatable); with no
                                --webhook and no --oauth, 1/emulator is accepted
  --oauth ID:SECRET             enable OAuth (/oauth/token/, /rest/{method}?auth=)
  --oauth-refresh-token TOKEN   fix the initial refresh token (default random;
                                printed as "oauth refresh_token TOKEN")
  --token-lifetime SECONDS      access token lifetime (default 3600)
  --seed ENTITY=COUNT,...       deterministic data (crm.lead=1000,crm.deal=500,...)
  --plan standard|enterprise    leaky bucket 50 burst / 2 per s, or 250 / 5 per s
  --bucket-burst N              override the plan's burst
  --bucket-rate R               override the plan's drain rate (per second)
  --no-limits                   never refuse for the bucket or operating time
                                (still tracked in /_emulator/stats)
  --operating-limit SECONDS     per (credential, method) per 600 s (default 480; 0 = off)
  --batch-accounting MODE       per-method (default) or batch
  --operating-rule RULE         rolling (default): refused until enough of the
                                window's baskets leave; block-window: a method
                                reaching the limit is refused for a whole window
  --profile small|huge          cost model (default small)
  --cost-zero                   every call costs 0 s (throughput benchmarks)
  --time-scale F                durations x F, rates / F (default 1)
  --tls-cert FILE --tls-key FILE  serve HTTPS
  --require-https               plain-HTTP REST calls get 400 INVALID_REQUEST
  --faults SPEC                 e.g. "500=0.05,reset=@2,method=crm.deal.add"
  --fault-delay SECONDS         hold time of the `delay` fault (default 65)
  --seed-random N               fault RNG seed (default 1)
  --redirect-host NAME          host of the `redirect` fault (default: swaps
                                127.0.0.1 and localhost)
  --threads N                   connection threads (default 128)
  --application-token TOKEN     auth[application_token] of the online event posts
                                (default emulator-application-token)
  --event-delay SECONDS         an online event is posted this long after the
                                change (default 0.1)
  --event-senders N             threads posting online events (default 1)
  --event-retries N             send a failed online event post again up to N
                                times (default 0: never, as Bitrix24 is documented)
  --keep-alive-timeout SECONDS  idle keep-alive connection timeout (default 5)
  --max-request-size BYTES      the largest request body taken, as a cloud
                                portal's web server caps a POST (default
                                2147483648, the docs' 2 GB; 0 = no limit): a
                                larger one is read, dropped and answered 413
  --disk-quota BYTES            the Drive's space (default 0: unlimited); a file
                                that would pass it is 400 ERROR_COULD_NOT_SAVE_FILE
  --portals N                   also serve portals portal-1..portal-N, each at
                                http://portal-K.localhost:PORT/ (README "Many
                                portals"); more through /_emulator/portals
  --app-url URL                 the application's install handler: creating a
                                portal posts ONAPPINSTALL there, removing one
                                ONAPPUNINSTALL (needs --oauth)
  --access-log FILE             append a line per request answered to FILE (time,
                                method, path with the webhook code masked,
                                status, body bytes)
  --help                        this text
)";
}

absl::StatusOr<EmulatorOptions> ParseOptions(const std::vector<std::string>& args) {
  EmulatorOptions o;
  using Setter = std::function<absl::Status(const std::string& flag, const std::string& value)>;
  const std::map<std::string, Setter> with_value = {
      {"--listen",
       [&](const std::string& f, const std::string& v) {
         const size_t colon = v.rfind(':');
         if (colon == std::string::npos || colon == 0) return Bad(f, "expected HOST:PORT");
         o.listen_host = v.substr(0, colon);
         return ParseInt(f, v.substr(colon + 1), &o.listen_port, 0, 65535);
       }},
      {"--webhook",
       [&](const std::string& f, const std::string& v) {
         const size_t slash = v.find('/');
         PortalConfig::Webhook w;
         if (slash == std::string::npos || !absl::SimpleAtoi(v.substr(0, slash), &w.user_id) ||
             slash + 1 == v.size() || v.find('/', slash + 1) != std::string::npos) {
           return Bad(f, "expected USER_ID/CODE");
         }
         w.code = v.substr(slash + 1);
         o.webhooks.push_back(w);
         return absl::OkStatus();
       }},
      {"--oauth",
       [&](const std::string& f, const std::string& v) {
         const size_t colon = v.find(':');
         if (colon == std::string::npos || colon == 0 || colon + 1 == v.size()) {
           return Bad(f, "expected CLIENT_ID:CLIENT_SECRET");
         }
         o.oauth_client_id = v.substr(0, colon);
         o.oauth_client_secret = v.substr(colon + 1);
         return absl::OkStatus();
       }},
      {"--oauth-refresh-token",
       [&](const std::string&, const std::string& v) {
         o.oauth_refresh_token = v;
         return absl::OkStatus();
       }},
      {"--token-lifetime",
       [&](const std::string& f, const std::string& v) {
         return ParseDouble(f, v, &o.token_lifetime_seconds, 0);
       }},
      {"--seed",
       [&](const std::string&, const std::string& v) {
         o.seed = v;
         return absl::OkStatus();
       }},
      {"--plan",
       [&](const std::string& f, const std::string& v) {
         if (v != "standard" && v != "enterprise") return Bad(f, "expected standard|enterprise");
         o.plan = v;
         return absl::OkStatus();
       }},
      {"--bucket-burst",
       [&](const std::string& f, const std::string& v) {
         double d = 0;
         absl::Status s = ParseDouble(f, v, &d, 1);
         o.bucket_burst = d;
         return s;
       }},
      {"--bucket-rate",
       [&](const std::string& f, const std::string& v) {
         double d = 0;
         absl::Status s = ParseDouble(f, v, &d, 0);
         o.bucket_rate = d;
         return s;
       }},
      {"--operating-limit",
       [&](const std::string& f, const std::string& v) {
         return ParseDouble(f, v, &o.operating_limit_seconds, 0);
       }},
      {"--batch-accounting",
       [&](const std::string& f, const std::string& v) {
         if (v != "per-method" && v != "batch") return Bad(f, "expected per-method|batch");
         o.per_method_batch_accounting = v == "per-method";
         return absl::OkStatus();
       }},
      {"--operating-rule",
       [&](const std::string& f, const std::string& v) {
         if (v != "rolling" && v != "block-window") return Bad(f, "expected rolling|block-window");
         o.operating_block_window = v == "block-window";
         return absl::OkStatus();
       }},
      {"--profile",
       [&](const std::string& f, const std::string& v) {
         if (v != "small" && v != "huge") return Bad(f, "expected small|huge");
         o.profile = v;
         return absl::OkStatus();
       }},
      {"--time-scale",
       [&](const std::string& f, const std::string& v) {
         absl::Status s = ParseDouble(f, v, &o.time_scale, 0);
         if (s.ok() && o.time_scale <= 0) return Bad(f, "must be > 0");
         return s;
       }},
      {"--tls-cert",
       [&](const std::string&, const std::string& v) {
         o.tls_cert_file = v;
         return absl::OkStatus();
       }},
      {"--tls-key",
       [&](const std::string&, const std::string& v) {
         o.tls_key_file = v;
         return absl::OkStatus();
       }},
      {"--faults",
       [&](const std::string& f, const std::string& v) {
         absl::StatusOr<FaultSpec> spec = ParseFaultSpec(v);
         if (!spec.ok()) return Bad(f, std::string(spec.status().message()));
         o.faults = v;
         return absl::OkStatus();
       }},
      {"--fault-delay",
       [&](const std::string& f, const std::string& v) {
         return ParseDouble(f, v, &o.fault_delay_seconds, 0);
       }},
      {"--seed-random",
       [&](const std::string& f, const std::string& v) {
         if (!absl::SimpleAtoi(v, &o.fault_seed)) return Bad(f, "expected an unsigned integer");
         return absl::OkStatus();
       }},
      {"--redirect-host",
       [&](const std::string&, const std::string& v) {
         o.redirect_host = v;
         return absl::OkStatus();
       }},
      {"--threads",
       [&](const std::string& f, const std::string& v) { return ParseInt(f, v, &o.threads, 1, 10000); }},
      {"--application-token",
       [&](const std::string& f, const std::string& v) {
         if (v.empty()) return Bad(f, "must not be empty");
         o.application_token = v;
         return absl::OkStatus();
       }},
      {"--event-delay",
       [&](const std::string& f, const std::string& v) {
         return ParseDouble(f, v, &o.event_delay_seconds, 0);
       }},
      {"--event-senders",
       [&](const std::string& f, const std::string& v) { return ParseInt(f, v, &o.event_senders, 1, 64); }},
      {"--event-retries",
       [&](const std::string& f, const std::string& v) { return ParseInt(f, v, &o.event_retries, 0, 1000); }},
      {"--portals",
       [&](const std::string& f, const std::string& v) { return ParseInt(f, v, &o.portals, 0, 100000); }},
      {"--access-log",
       [&](const std::string&, const std::string& v) {
         o.access_log = v;
         return absl::OkStatus();
       }},
      {"--app-url",
       [&](const std::string& f, const std::string& v) {
         if (!absl::StartsWith(v, "http://") && !absl::StartsWith(v, "https://")) {
           return Bad(f, "expected an http(s) URL");
         }
         o.app_url = v;
         return absl::OkStatus();
       }},
      {"--keep-alive-timeout",
       [&](const std::string& f, const std::string& v) {
         return ParseInt(f, v, &o.keep_alive_timeout_seconds, 1, 3600);
       }},
      {"--disk-quota",
       [&](const std::string& f, const std::string& v) {
         if (!absl::SimpleAtoi(v, &o.disk_quota) || o.disk_quota < 0) {
           return Bad(f, "expected a number of bytes (0: unlimited)");
         }
         return absl::OkStatus();
       }},
      {"--max-request-size",
       [&](const std::string& f, const std::string& v) {
         if (!absl::SimpleAtoi(v, &o.max_request_size) || o.max_request_size < 0) {
           return Bad(f, "expected a number of bytes (0: no limit)");
         }
         return absl::OkStatus();
       }},
  };
  const std::map<std::string, bool*> switches = {
      {"--no-limits", &o.no_limits},
      {"--cost-zero", &o.cost_zero},
      {"--require-https", &o.require_https},
      {"--help", &o.help},
      {"-h", &o.help},
  };

  for (size_t i = 0; i < args.size(); ++i) {
    std::string flag = args[i];
    std::optional<std::string> value;
    if (const size_t eq = flag.find('='); absl::StartsWith(flag, "--") && eq != std::string::npos) {
      value = flag.substr(eq + 1);
      flag = flag.substr(0, eq);
    }
    if (auto sw = switches.find(flag); sw != switches.end()) {
      if (value) return Bad(flag, "takes no value");
      *sw->second = true;
      continue;
    }
    auto setter = with_value.find(flag);
    if (setter == with_value.end()) return Bad(flag, "unknown flag (see --help)");
    if (!value) {
      if (i + 1 >= args.size()) return Bad(flag, "missing value");
      value = args[++i];
    }
    if (absl::Status s = setter->second(flag, *value); !s.ok()) return s;
  }
  if (o.tls_cert_file.empty() != o.tls_key_file.empty()) {
    return Bad("--tls-cert/--tls-key", "give both or neither");
  }
  if (!o.oauth_refresh_token.empty() && !o.oauth_enabled()) {
    return Bad("--oauth-refresh-token", "needs --oauth");
  }
  if (!o.app_url.empty() && !o.oauth_enabled()) return Bad("--app-url", "needs --oauth");
  if (o.webhooks.empty() && !o.oauth_enabled()) o.webhooks.push_back({1, "emulator"});
  return o;
}

namespace {

LeakyBucketOptions PlanBucket(const EmulatorOptions& o, const PortalPlan& plan) {
  const bool enterprise = plan.plan == "enterprise";
  LeakyBucketOptions bucket;
  bucket.burst = plan.burst.value_or(enterprise ? 250 : 50);
  bucket.drain_per_second = plan.rate.value_or(enterprise ? 5 : 2) / o.time_scale;
  bucket.enforce = !o.no_limits;
  return bucket;
}

}  // namespace

PortalConfig MakePlanPortalConfig(const EmulatorOptions& o, const PortalPlan& plan) {
  PortalPlan resolved = plan;
  if (resolved.plan.empty()) {  // the flags' plan, with what `plan` overrides
    resolved.plan = o.plan;
    if (!resolved.burst) resolved.burst = o.bucket_burst;
    if (!resolved.rate) resolved.rate = o.bucket_rate;
  }
  PortalConfig c = MakePortalConfig(o);
  c.bucket = PlanBucket(o, resolved);
  return c;
}

PortalConfig MakePortalConfig(const EmulatorOptions& o) {
  const double f = o.time_scale;
  PortalConfig c;
  c.webhooks = o.webhooks;
  if (o.oauth_enabled()) {
    OAuthOptions oauth;
    oauth.client_id = o.oauth_client_id;
    oauth.client_secret = o.oauth_client_secret;
    oauth.initial_refresh_token = o.oauth_refresh_token;
    oauth.access_lifetime = absl::Seconds(o.token_lifetime_seconds * f);
    oauth.refresh_lifetime = absl::Hours(24 * 180) * f;
    c.oauth = oauth;
  }
  c.bucket = PlanBucket(o, PortalPlan{o.plan, o.bucket_burst, o.bucket_rate});
  c.operating.limit = absl::Seconds(o.operating_limit_seconds * f);
  c.operating.basket = absl::Seconds(60 * f);
  c.operating.baskets = 10;
  c.operating.enforce = !o.no_limits && o.operating_limit_seconds > 0;
  c.operating.block_whole_window = o.operating_block_window;
  c.per_method_batch_accounting = o.per_method_batch_accounting;
  c.cost = o.cost_zero ? *CostProfile("zero") : CostProfile(o.profile)->Scaled(f);
  c.faults = *ParseFaultSpec(o.faults);
  c.fault_seed = o.fault_seed;
  c.fault_delay = absl::Seconds(o.fault_delay_seconds * f);
  c.require_https = o.require_https;
  c.integer_reset_at = f >= 1;
  c.redirect_host = o.redirect_host;
  c.idempotency_ttl = absl::Hours(24) * f;
  c.disk_quota = o.disk_quota;
  return c;
}

ServerOptions MakeServerOptions(const EmulatorOptions& o) {
  ServerOptions s;
  s.host = o.listen_host;
  s.port = o.listen_port;
  s.tls_cert_file = o.tls_cert_file;
  s.tls_key_file = o.tls_key_file;
  s.threads = o.threads;
  s.keep_alive_timeout_seconds = o.keep_alive_timeout_seconds;
  s.max_request_size = o.max_request_size;
  return s;
}

}  // namespace b24emu
