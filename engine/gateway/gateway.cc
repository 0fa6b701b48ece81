#include "engine/gateway/gateway.h"

#include <utility>

#include "absl/strings/ascii.h"
#include "absl/strings/str_cat.h"
#include "engine/bitrix/method_traits.h"
#include "engine/common/errors.h"
#include "engine/common/field_text.h"
#include "engine/gateway/batch_plan.h"
#include "engine/gateway/v3_batch_plan.h"

namespace b24gate {
namespace {

// GetAll and GetById send their method many times, repeat a request after
// a fault and expect a read's answer: a write there would run once per
// page or id, and again after each fault. So a method must be known as a
// read (IsReadMethod: *.list, *.get, ... and every list in the table of
// known methods), or vouched for by the caller (`idempotent`).
absl::Status CheckReadMethod(const std::string& method, bool vouched, absl::string_view rpc) {
  if (vouched || IsReadMethod(method)) return absl::OkStatus();
  return absl::InvalidArgumentError(absl::StrCat(
      "method: ", rpc, " reads, and \"", method,
      "\" is not a method the gateway knows as a read (a list or get); "
      "use Call or CallMany for writes, or set idempotent if the method only reads"));
}

// `done`, keeping `hold` (the portal the operation runs on) until it has run.
template <typename Callback>
Callback Holding(std::shared_ptr<Portal> hold, Callback done) {
  if (!hold) return done;
  return [hold = std::move(hold), done = std::move(done)](auto result) mutable {
    done(std::move(result));
  };
}

}  // namespace

Gateway::Gateway(std::vector<PortalOptions> portals, std::unique_ptr<HttpTransport> transport,
                 Clock* clock, PortalObserver* observer, GatewayOptions options,
                 std::unique_ptr<ReadCache> cache, RegistryParts registry)
    : clock_(clock),
      options_(options),
      cache_(std::move(cache)),
      transport_(std::move(transport)),
      pool_(std::make_unique<DispatchPool>(clock, kDispatchThreads, options.dispatch_warm_bytes)),
      directory_(std::make_unique<PortalDirectory>(std::move(portals), std::move(registry.registry),
                                                   std::move(registry.options), transport_.get(),
                                                   clock, pool_.get(), observer)) {}

Gateway::Gateway(std::vector<Dispatcher*> dispatchers, Clock* clock, GatewayOptions options,
                 std::unique_ptr<ReadCache> cache)
    : clock_(clock), options_(options), cache_(std::move(cache)), fakes_(std::move(dispatchers)) {
  for (Dispatcher* d : fakes_) {
    fakes_by_name_[d->name()] = d;
    fake_catalogs_[d] = std::make_unique<V3Catalog>(d, clock);
  }
}

Gateway::~Gateway() {
  // The directory's sync rounds end first, while directory() still answers:
  // reset() clears the pointer before the directory's destructor waits for
  // a round in progress, whose watcher (EventBindings::Changed) reads the
  // directory through directory() -- a null dereference (SIGSEGV) when a
  // replica stopped while it applied another replica's change.
  if (directory_) directory_->StopSync();
  // Portals wait for their in-flight requests, which need the transport;
  // the pool runs their turns until they are gone.
  directory_.reset();
  pool_.reset();
  transport_.reset();
}

absl::StatusOr<Gateway::PortalRef> Gateway::Find(const std::string& name) const {
  if (directory_) {
    absl::StatusOr<std::shared_ptr<Portal>> portal = directory_->Acquire(name);
    if (!portal.ok()) return portal.status();
    return PortalRef{portal->get(), *std::move(portal)};
  }
  if (name.empty()) return PortalRef{fakes_.front(), nullptr};
  auto it = fakes_by_name_.find(name);
  if (it == fakes_by_name_.end()) {
    return GatewayError(absl::StatusCode::kNotFound, kReasonUnknownPortal,
                        absl::StrCat("portal: \"", EchoText(name), "\" is not configured"));
  }
  return PortalRef{it->second, nullptr};
}

absl::StatusOr<std::shared_ptr<Portal>> Gateway::FindPortal(const std::string& name) const {
  if (!directory_) {
    return GatewayError(absl::StatusCode::kNotFound, kReasonUnknownPortal,
                        absl::StrCat("portal: \"", EchoText(name), "\" is not a portal of this gateway"));
  }
  return directory_->Acquire(name);
}

std::vector<std::shared_ptr<Portal>> Gateway::portals() const {
  if (!directory_) return {};
  return directory_->Live();
}

void Gateway::BeginShutdown() {
  if (directory_) directory_->BeginShutdown();
}

void Gateway::AbandonInFlight() {
  if (directory_) directory_->AbandonInFlight();
}

void Gateway::ResolveAutoApi(const std::string& portal, std::vector<std::string> methods,
                             std::function<void(absl::StatusOr<RestApi>)> done) {
  absl::StatusOr<PortalRef> found = Find(portal);
  if (!found.ok()) {
    done(found.status());
    return;
  }
  V3Catalog& catalog =
      found->hold ? found->hold->v3_catalog() : *fake_catalogs_.at(found->dispatcher);
  catalog.Methods(Holding<V3Catalog::Callback>(
      found->hold, [methods = std::move(methods), done = std::move(done)](
                       absl::StatusOr<std::shared_ptr<const V3MethodSet>> listed) {
        if (!listed.ok()) {
          absl::Status failed(listed.status().code(),
                              absl::StrCat("api_version auto: the portal's list of REST 3.0 "
                                           "methods (rest.documentation.openapi) is unreadable: ",
                                           listed.status().message()));
          listed.status().ForEachPayload(
              [&failed](absl::string_view url, const absl::Cord& payload) {
                failed.SetPayload(url, payload);
              });
          done(failed);
          return;
        }
        bool all_listed = !methods.empty();
        for (const std::string& m : methods) {
          all_listed = all_listed && (*listed)->count(absl::AsciiStrToLower(m)) > 0;
        }
        done(all_listed ? RestApi::kV3 : RestApi::kClassic);
      }));
}

absl::Status Gateway::ValidateCall(const std::string& method, const nlohmann::ordered_json& params,
                                   const std::string& where) {
  if (absl::Status s = ValidateMethodName(method); !s.ok()) return s;
  if (NormalizeMethod(method) == "batch") {
    return absl::InvalidArgumentError("method: use CallBatch for batch requests");
  }
  if (!params.is_null() && !params.is_object() && !params.is_array()) {
    return absl::InvalidArgumentError(absl::StrCat(
        where, ": must be an object (or a list for positional methods), got ", params.type_name()));
  }
  return absl::OkStatus();
}

void Gateway::Call(CallSpec call, CallOptions options, CallCallback done) {
  absl::StatusOr<PortalRef> portal = Find(call.portal);
  if (!portal.ok()) {
    done(portal.status());
    return;
  }
  if (absl::Status s = ValidateCall(call.method, call.params, call.params_field); !s.ok()) {
    done(s);
    return;
  }
  if (absl::Status s = CheckParams(call.params, call.params_field, options_.limits); !s.ok()) {
    done(s);
    return;
  }
  // Before the cache: a cached answer is no less guarded than a fresh one.
  if (absl::Status s = Authorize(options, **portal, call.method); !s.ok()) {
    done(s);
    return;
  }
  if (cache_) {
    CacheLookup lookup = cache_->Find((*portal)->name(), call.method, call.params, call.cache);
    if (lookup.hit) {
      done(std::move(*lookup.hit));
      return;
    }
    done = ThroughCache((*portal)->name(), call.method, std::move(lookup.ticket), std::move(done));
  }
  (*portal)->Call(std::move(call.method), std::move(call.params), call.raw, std::move(options),
                  Holding(portal->hold, std::move(done)));
}

CallCallback Gateway::ThroughCache(const std::string& portal, const std::string& method,
                                   CacheTicket ticket, CallCallback done) {
  ReadCache* cache = cache_.get();
  return [cache, portal, method, ticket = std::move(ticket),
          done = std::move(done)](absl::StatusOr<CallReply> reply) {
    cache->Store(ticket, reply);
    // Whatever the outcome: a failed write may still have run.
    cache->Invalidate(portal, method);
    done(std::move(reply));
  };
}

void Gateway::CallBatch(const std::string& portal_name, std::vector<BatchCommandSpec> commands,
                        bool halt, CallOptions options, CallBatchCallback done) {
  absl::StatusOr<PortalRef> portal = Find(portal_name);
  if (!portal.ok()) {
    done(portal.status());
    return;
  }
  absl::StatusOr<std::vector<std::vector<BatchCommandSpec>>> plan =
      options.api == RestApi::kV3
          ? PlanV3Batch(std::move(commands), kMaxBatchCommands, options_.limits)
          : PlanBatch(std::move(commands), kMaxBatchCommands, options_.limits);
  if (!plan.ok()) {
    done(plan.status());
    return;
  }
  // Every command is checked before any is sent: a refused one refuses the
  // whole batch.
  size_t index = 0;
  for (const auto& chunk : *plan) {
    for (const BatchCommandSpec& c : chunk) {
      if (absl::Status s = Authorize(options, **portal, c.method,
                                     absl::StrCat("commands[", index, "] (\"", c.key, "\")"));
          !s.ok()) {
        done(s);
        return;
      }
      ++index;
    }
  }
  if (cache_) {
    // Reads inside a batch are not cached (their parameters may refer to
    // other commands' results); its writes drop cached reads as any write.
    std::vector<std::string> methods;
    for (const auto& chunk : *plan) {
      for (const auto& c : chunk) methods.push_back(c.method.substr(0, c.method.find('?')));
    }
    done = [cache = cache_.get(), portal = (*portal)->name(), methods = std::move(methods),
            done = std::move(done)](absl::StatusOr<std::vector<KeyedOutcome>> outcomes) {
      for (const auto& m : methods) cache->Invalidate(portal, m);
      done(std::move(outcomes));
    };
  }
  BatchRun::Start(portal->dispatcher, std::move(*plan), halt, std::move(options),
                  Holding(portal->hold, std::move(done)));
}

absl::StatusOr<std::shared_ptr<OrderedFanout>> Gateway::PrepareBulk(BulkSpec bulk, BulkForm form,
                                                                   CallOptions options,
                                                                   FanoutSink* sink) {
  absl::StatusOr<PortalRef> portal = Find(bulk.portal);
  if (!portal.ok()) return portal.status();
  if (absl::Status s = ValidateBulk(bulk, form, options_.limits); !s.ok()) return s;
  if (absl::Status s = Authorize(options, **portal, bulk.method); !s.ok()) return s;
  FanoutOptions fanout = BulkFanoutOptions(form);
  fanout.cache = cache_.get();
  fanout.cache_mode = bulk.cache;
  fanout.portal_hold = portal->hold;
  fanout.idempotency_keys = std::move(bulk.idempotency_keys);
  return OrderedFanout::Create(portal->dispatcher, std::move(bulk.method), std::move(bulk.params), bulk.raw,
                               std::move(options), sink, fanout);
}

absl::StatusOr<std::shared_ptr<OrderedFanout>> Gateway::PrepareGetById(GetByIdSpec request,
                                                                      CallOptions options,
                                                                      FanoutSink* sink) {
  absl::StatusOr<PortalRef> portal = Find(request.portal);
  if (!portal.ok()) return portal.status();
  absl::StatusOr<std::vector<nlohmann::ordered_json>> calls = ExpandGetById(request, options_.limits);
  if (!calls.ok()) return calls.status();
  if (absl::Status s = CheckReadMethod(request.method, options.idempotent, "GetById"); !s.ok()) {
    return s;
  }
  if (absl::Status s = Authorize(options, **portal, request.method); !s.ok()) return s;
  FanoutOptions fanout;
  fanout.cache = cache_.get();
  fanout.cache_mode = request.cache;
  fanout.portal_hold = portal->hold;
  return OrderedFanout::Create(portal->dispatcher, std::move(request.method), std::move(*calls),
                               /*as_json=*/false, std::move(options), sink, fanout);
}

absl::StatusOr<std::shared_ptr<ListReader>> Gateway::PrepareGetAll(const std::string& portal_name,
                                                                  ListRequest request,
                                                                  ListSink* sink) {
  absl::StatusOr<PortalRef> portal = Find(portal_name);
  if (!portal.ok()) return portal.status();
  if (absl::Status s = ValidateMethodName(request.method); !s.ok()) return s;
  if (absl::Status s = CheckParams(request.params, request.params_field, options_.limits); !s.ok()) {
    return s;
  }
  // A `batch` page would run whatever its `cmd` parameter names.
  if (NormalizeMethod(request.method) == "batch") {
    return absl::InvalidArgumentError("method: GetAll cannot read batch; use CallBatch");
  }
  if (absl::Status s = CheckReadMethod(request.method, request.options.idempotent, "GetAll");
      !s.ok()) {
    return s;
  }
  if (absl::Status s = Authorize(request.options, **portal, request.method); !s.ok()) return s;
  // Known reads, or vouched for: safe to repeat whatever the method's name.
  request.options.idempotent = true;
  ListReaderOptions reader;
  reader.read_ahead_bytes = options_.list_read_ahead_bytes;
  reader.portal_hold = portal->hold;
  return ListReader::Create(portal->dispatcher, clock_, std::move(request), sink, reader);
}

absl::Status Gateway::Authorize(const CallOptions& options, const Dispatcher& portal,
                               const std::string& method, const std::string& where) const {
  if (!options_.authorize) return absl::OkStatus();
  absl::Status s = options_.authorize(options.client_id, portal.name(), NormalizeMethod(method));
  if (s.ok() || where.empty()) return s;
  return absl::Status(s.code(), absl::StrCat(where, ": ", s.message()));
}

}  // namespace b24gate
