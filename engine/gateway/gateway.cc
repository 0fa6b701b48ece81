#include "engine/gateway/gateway.h"

#include "absl/strings/str_cat.h"
#include "engine/gateway/batch_plan.h"
#include "engine/common/errors.h"
#include "engine/bitrix/method_traits.h"

namespace b24gate {

Gateway::Gateway(std::vector<PortalOptions> portals, std::unique_ptr<HttpTransport> transport,
                 Clock* clock, PortalObserver* observer)
    : transport_(std::move(transport)) {
  for (auto& options : portals) {
    auto portal = std::make_unique<Portal>(std::move(options), transport_.get(), clock, observer);
    by_name_[portal->name()] = portal.get();
    portals_.push_back(std::move(portal));
  }
}

Gateway::~Gateway() {
  // Portals wait for their in-flight requests, which need the transport.
  portals_.clear();
  transport_.reset();
}

absl::StatusOr<Portal*> Gateway::FindPortal(const std::string& name) const {
  if (name.empty()) return portals_.front().get();
  auto it = by_name_.find(name);
  if (it == by_name_.end()) {
    return GatewayError(absl::StatusCode::kNotFound, kReasonUnknownPortal,
                        absl::StrCat("portal: \"", name, "\" is not configured"));
  }
  return it->second;
}

std::vector<Portal*> Gateway::portals() const {
  std::vector<Portal*> out;
  for (const auto& p : portals_) out.push_back(p.get());
  return out;
}

void Gateway::BeginShutdown() {
  for (const auto& p : portals_) p->BeginShutdown();
}

void Gateway::AbandonInFlight() {
  for (const auto& p : portals_) p->AbandonInFlight();
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

void Gateway::Call(Portal* portal, std::string method, nlohmann::ordered_json params, bool raw,
                   CallOptions options, CallCallback done) {
  portal->Call(std::move(method), std::move(params), raw, std::move(options), std::move(done));
}

void Gateway::CallBatch(Portal* portal, std::vector<BatchCommandSpec> commands, bool halt,
                        CallOptions options, CallBatchCallback done) {
  absl::StatusOr<std::vector<std::vector<BatchCommandSpec>>> plan =
      PlanBatch(std::move(commands), kMaxBatchCommands);
  if (!plan.ok()) {
    done(plan.status());
    return;
  }
  auto chunks = std::make_shared<std::vector<std::vector<BatchCommandSpec>>>(std::move(*plan));
  RunBatchChunks(portal, chunks, 0, halt, std::move(options),
                 std::make_shared<std::vector<KeyedOutcome>>(), std::move(done));
}

void Gateway::RunBatchChunks(Portal* portal,
                             std::shared_ptr<std::vector<std::vector<BatchCommandSpec>>> chunks,
                             size_t next, bool halt, CallOptions options,
                             std::shared_ptr<std::vector<KeyedOutcome>> results,
                             CallBatchCallback done) {
  if (next == chunks->size()) {
    done(std::move(*results));
    return;
  }
  std::vector<BatchCommandSpec> chunk = (*chunks)[next];
  portal->Batch(
      chunk, halt, options,
      [this, portal, chunks, next, halt, options, results, done,
       chunk](absl::StatusOr<BatchResult> batch) mutable {
        if (!batch.ok()) {
          // The whole request failed: every command of this and later chunks
          // shares the status (none of them ran, or the outcome is unknown).
          for (size_t c = next; c < chunks->size(); ++c) {
            for (const auto& cmd : (*chunks)[c]) {
              results->push_back({cmd.key, c == next ? batch.status()
                                                     : GatewayError(absl::StatusCode::kAborted,
                                                                    kReasonNotExecuted,
                                                                    "not executed: an earlier "
                                                                    "batch request failed")});
            }
          }
          done(std::move(*results));
          return;
        }
        bool failed = false;
        std::string halted_at;
        for (const auto& cmd : chunk) {
          auto it = batch->outcomes.find(cmd.key);
          if (it == batch->outcomes.end()) {
            results->push_back(
                {cmd.key, GatewayError(absl::StatusCode::kAborted, kReasonNotExecuted,
                                       absl::StrCat("not executed: the batch halted at \"",
                                                    halted_at, "\""))});
            continue;
          }
          if (!it->second.ok()) {
            failed = true;
            if (halted_at.empty()) halted_at = cmd.key;
          }
          results->push_back({cmd.key, std::move(it->second)});
        }
        if (halt && failed) {
          for (size_t c = next + 1; c < chunks->size(); ++c) {
            for (const auto& cmd : (*chunks)[c]) {
              results->push_back(
                  {cmd.key, GatewayError(absl::StatusCode::kAborted, kReasonNotExecuted,
                                         absl::StrCat("not executed: the batch halted at \"",
                                                      halted_at, "\""))});
            }
          }
          done(std::move(*results));
          return;
        }
        RunBatchChunks(portal, chunks, next + 1, halt, options, results, done);
      });
}

}  // namespace b24gate
