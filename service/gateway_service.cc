#include "service/gateway_service.h"

#include <climits>
#include <deque>
#include <memory>
#include <utility>

#include "absl/strings/str_cat.h"
#include "absl/synchronization/mutex.h"
#include "absl/time/clock.h"
#include "engine/common/errors.h"
#include "engine/lists/list_reader.h"
#include "engine/bitrix/method_traits.h"
#include "engine/lists/ordered_fanout.h"
#include "service/json_value.h"
#include "service/status_mapping.h"

namespace b24gate {
namespace {

namespace pb = bitrix24::gateway::v1;

// gRPC clients refuse messages above 4 MiB by default; stay clearly below.
constexpr size_t kMaxMessageBytes = 4 * 1024 * 1024 - 64 * 1024;
// Streamed messages are cut at this size so each stays small.
constexpr size_t kStreamChunkBytes = 1024 * 1024;

CallOptions OptionsFrom(grpc::CallbackServerContext* context, bool idempotent,
                        std::shared_ptr<CancelToken> cancel) {
  CallOptions o;
  auto deadline = context->deadline();
  if (deadline != std::chrono::system_clock::time_point::max()) o.deadline = absl::FromChrono(deadline);
  o.cancel = std::move(cancel);
  o.idempotent = idempotent;
  return o;
}

void FillResult(const CallReply& reply, pb::CallResult* out) {
  *out->mutable_result() = ToValue(reply.result);
  if (reply.total) out->set_total(*reply.total);
  if (reply.next) out->set_next(*reply.next);
  if (reply.time.is_object()) *out->mutable_time() = ToStruct(reply.time);
}

void FillOutcome(const absl::StatusOr<CallReply>& outcome, pb::CallResult* out) {
  if (outcome.ok()) {
    FillResult(*outcome, out);
  } else {
    *out->mutable_error() = ToCommandError(outcome.status());
  }
}

absl::Status TooLarge(size_t bytes) {
  return absl::ResourceExhaustedError(absl::StrCat(
      "the response would be ", bytes,
      " bytes, above gRPC's default 4 MiB message limit; use GetById or GetAll (they stream), "
      "or send fewer parameter sets per call"));
}

// A unary RPC whose cancellation stops its engine work.
class UnaryCall : public grpc::ServerUnaryReactor {
 public:
  UnaryCall() : cancel_(std::make_shared<CancelToken>()) {}
  std::shared_ptr<CancelToken> cancel() const { return cancel_; }
  void Reply(const absl::Status& status) { Finish(ToGrpcStatus(status)); }
  void OnCancel() override { cancel_->Cancel(); }
  void OnDone() override { delete this; }

 private:
  std::shared_ptr<CancelToken> cancel_;
};

// Collects a bulk Call's results in request order.
class BulkSink : public FanoutSink {
 public:
  BulkSink(UnaryCall* call, pb::CallResponse* response, size_t n) : call_(call), response_(response) {
    for (size_t i = 0; i < n; ++i) response_->add_results();
  }
  void OnResults(size_t first, std::vector<absl::StatusOr<CallReply>> results) override {
    for (size_t i = 0; i < results.size(); ++i) {
      FillOutcome(results[i], response_->mutable_results(static_cast<int>(first + i)));
    }
  }
  void OnDone(absl::Status status) override {
    if (status.ok() && response_->ByteSizeLong() > kMaxMessageBytes) {
      status = TooLarge(response_->ByteSizeLong());
    }
    call_->Reply(status);
    delete this;
  }

 private:
  UnaryCall* call_;
  pb::CallResponse* response_;
};

ListStrategyKind StrategyFrom(pb::ListStrategy strategy) {
  switch (strategy) {
    case pb::LIST_STRATEGY_OFFSET: return ListStrategyKind::kOffset;
    case pb::LIST_STRATEGY_KEYSET: return ListStrategyKind::kKeysetChain;
    case pb::LIST_STRATEGY_PARALLEL_KEYSET: return ListStrategyKind::kParallelKeyset;
    default: return ListStrategyKind::kDefault;
  }
}

// Streams GetAll pages; never finishes before the reader has finished.
class GetAllStream : public grpc::ServerWriteReactor<pb::GetAllResponse>, public ListSink {
 public:
  GetAllStream(Gateway* gateway, grpc::CallbackServerContext* context,
               const pb::GetAllRequest* request) {
    auto cancel = std::make_shared<CancelToken>();
    absl::StatusOr<Portal*> portal = gateway->FindPortal(request->portal());
    absl::Status valid = portal.ok() ? ValidateMethodName(request->method()) : portal.status();
    if (!valid.ok()) {
      Finish(ToGrpcStatus(valid));
      return;
    }
    ListRequest list;
    list.method = request->method();
    list.params = request->has_params() ? ToJson(request->params()) : nlohmann::ordered_json::object();
    list.items_key = request->items_key();
    list.options = OptionsFrom(context, /*idempotent=*/true, cancel);
    list.strategy = StrategyFrom(request->strategy());
    list.unordered = request->unordered();
    list.skip_total = request->skip_total();
    list.resume_cursor = request->resume_cursor();
    absl::StatusOr<std::shared_ptr<ListReader>> reader =
        ListReader::Create(*portal, std::move(list), this);
    if (!reader.ok()) {
      Finish(ToGrpcStatus(reader.status()));
      return;
    }
    {
      absl::MutexLock lock(&mu_);
      reader_ = *reader;
    }
    // Lock order: the reader calls us holding its lock, so we never call it
    // holding ours.
    (*reader)->Run();
  }

  void OnPage(ListPage page) override {
    absl::MutexLock lock(&mu_);
    pb::GetAllResponse message;
    for (auto& item : page.items) *message.add_items() = ToValue(item);
    message.mutable_progress()->set_items_so_far(page.items_so_far);
    if (page.total) message.mutable_progress()->set_total(*page.total);
    message.set_resume_cursor(page.resume_cursor);
    pending_.push_back({std::move(message), true});
    WriteNext();
  }

  void OnDone(absl::Status status, ListSummary summary) override {
    absl::MutexLock lock(&mu_);
    reader_done_ = true;
    final_status_ = status;
    if (status.ok()) {
      pb::GetAllResponse message;
      message.mutable_progress()->set_items_so_far(summary.count);
      if (summary.total) message.mutable_progress()->set_total(*summary.total);
      pb::GetAllSummary* s = message.mutable_summary();
      s->set_count(summary.count);
      if (summary.total) s->set_total(*summary.total);
      s->set_total_matched(summary.total_matched);
      s->set_strategy(summary.strategy);
      for (const auto& w : summary.warnings) s->add_warnings(w);
      message.set_resume_cursor(summary.resume_cursor);
      pending_.push_back({std::move(message), false});
    }
    WriteNext();
  }

  void OnWriteDone(bool ok) override {
    std::shared_ptr<ListReader> reader;
    {
      absl::MutexLock lock(&mu_);
      writing_ = false;
      if (!ok) {
        // The client is gone: stop reading, finish once the reader has.
        broken_ = true;
        pending_.clear();
      }
      if (!ok || current_is_page_) reader = reader_;
      WriteNext();
    }
    // Outside our lock: the reader calls OnPage/OnDone holding its own.
    if (!reader) return;
    if (ok) {
      reader->Ack();
    } else {
      reader->Cancel();
    }
  }

  void OnCancel() override {
    std::shared_ptr<ListReader> reader;
    {
      absl::MutexLock lock(&mu_);
      reader = reader_;
    }
    if (reader) reader->Cancel();
  }

  void OnDone() override {
    { absl::MutexLock lock(&mu_); }
    delete this;
  }

 private:
  struct Outgoing {
    pb::GetAllResponse message;
    bool is_page;
  };

  void WriteNext() ABSL_EXCLUSIVE_LOCKS_REQUIRED(mu_) {
    if (writing_ || finished_) return;
    if (!pending_.empty() && !broken_) {
      current_ = std::move(pending_.front().message);
      current_is_page_ = pending_.front().is_page;
      pending_.pop_front();
      writing_ = true;
      StartWrite(&current_);
      return;
    }
    if (reader_done_) {
      finished_ = true;
      Finish(ToGrpcStatus(final_status_));
    }
  }

  absl::Mutex mu_;
  std::shared_ptr<ListReader> reader_ ABSL_GUARDED_BY(mu_);
  std::deque<Outgoing> pending_ ABSL_GUARDED_BY(mu_);
  pb::GetAllResponse current_ ABSL_GUARDED_BY(mu_);
  bool current_is_page_ ABSL_GUARDED_BY(mu_) = false;
  bool writing_ ABSL_GUARDED_BY(mu_) = false;
  bool reader_done_ ABSL_GUARDED_BY(mu_) = false;
  bool finished_ ABSL_GUARDED_BY(mu_) = false;
  bool broken_ ABSL_GUARDED_BY(mu_) = false;
  absl::Status final_status_ ABSL_GUARDED_BY(mu_);
};

absl::Status CheckId(const google::protobuf::Value& id, int index) {
  if (id.kind_case() == google::protobuf::Value::kNumberValue ||
      (id.kind_case() == google::protobuf::Value::kStringValue && !id.string_value().empty())) {
    return absl::OkStatus();
  }
  return absl::InvalidArgumentError(
      absl::StrCat("ids[", index, "]: must be a number or a non-empty string"));
}

// Streams GetById results in id order, cut into messages below 1 MiB.
class GetByIdStream : public grpc::ServerWriteReactor<pb::GetByIdResponse>, public FanoutSink {
 public:
  GetByIdStream(Gateway* gateway, grpc::CallbackServerContext* context,
                const pb::GetByIdRequest* request)
      : ids_(request->ids().begin(), request->ids().end()) {
    absl::Status valid = Validate(gateway, *request);
    if (!valid.ok()) {
      Finish(ToGrpcStatus(valid));
      return;
    }
    std::string id_field = request->id_field().empty() ? "ID" : request->id_field();
    nlohmann::ordered_json base =
        request->has_params() ? ToJson(request->params()) : nlohmann::ordered_json::object();
    std::vector<nlohmann::ordered_json> params;
    params.reserve(ids_.size());
    for (const auto& id : ids_) {
      nlohmann::ordered_json p = base;
      p[id_field] = ToJson(id);
      params.push_back(std::move(p));
    }
    Portal* portal = *gateway->FindPortal(request->portal());
    std::shared_ptr<OrderedFanout> fanout = OrderedFanout::Create(
        portal, request->method(), std::move(params), /*as_json=*/false,
        OptionsFrom(context, /*idempotent=*/false, std::make_shared<CancelToken>()), this);
    {
      absl::MutexLock lock(&mu_);
      fanout_ = fanout;
    }
    fanout->Run();  // outside our lock: the fanout calls us holding its own
  }

  static absl::Status Validate(Gateway* gateway, const pb::GetByIdRequest& request) {
    absl::StatusOr<Portal*> portal = gateway->FindPortal(request.portal());
    if (!portal.ok()) return portal.status();
    if (absl::Status s = Gateway::ValidateCall(request.method(), nlohmann::ordered_json::object(), "params");
        !s.ok()) {
      return s;
    }
    if (request.ids().empty()) return absl::InvalidArgumentError("ids: at least one id is required");
    for (int i = 0; i < request.ids_size(); ++i) {
      if (absl::Status s = CheckId(request.ids(i), i); !s.ok()) return s;
    }
    std::string id_field = request.id_field().empty() ? "ID" : request.id_field();
    if (request.has_params() && request.params().fields().count(id_field)) {
      return absl::InvalidArgumentError(absl::StrCat(
          "params.", id_field, ": the id parameter is filled from ids; remove it from params"));
    }
    return absl::OkStatus();
  }

  void OnResults(size_t first, std::vector<absl::StatusOr<CallReply>> results) override {
    absl::MutexLock lock(&mu_);
    pb::GetByIdResponse message;
    size_t bytes = 0;
    for (size_t i = 0; i < results.size(); ++i) {
      pb::IdResult* r = message.add_results();
      *r->mutable_id() = ids_[first + i];
      if (results[i].ok()) {
        *r->mutable_result() = ToValue(results[i]->result);
      } else {
        *r->mutable_error() = ToCommandError(results[i].status());
      }
      bytes += r->ByteSizeLong();
      if (bytes >= kStreamChunkBytes && i + 1 < results.size()) {
        pending_.push_back({std::move(message), false});
        message = pb::GetByIdResponse();
        bytes = 0;
      }
    }
    // The chunk is acknowledged when its last message is written.
    pending_.push_back({std::move(message), true});
    WriteNext();
  }

  void OnDone(absl::Status status) override {
    absl::MutexLock lock(&mu_);
    fanout_done_ = true;
    final_status_ = status;
    WriteNext();
  }

  void OnWriteDone(bool ok) override {
    std::shared_ptr<OrderedFanout> fanout;
    {
      absl::MutexLock lock(&mu_);
      writing_ = false;
      if (!ok) {
        // The client is gone: stop the calls, finish once the fanout has.
        broken_ = true;
        pending_.clear();
      }
      if (!ok || current_ends_chunk_) fanout = fanout_;
      WriteNext();
    }
    // Outside our lock: the fanout may call OnResults from Ack.
    if (!fanout) return;
    if (ok) {
      fanout->Ack();
    } else {
      fanout->Cancel();
    }
  }

  void OnCancel() override {
    std::shared_ptr<OrderedFanout> fanout;
    {
      absl::MutexLock lock(&mu_);
      fanout = fanout_;
    }
    if (fanout) fanout->Cancel();
  }

  void OnDone() override {
    { absl::MutexLock lock(&mu_); }
    delete this;
  }

 private:
  struct Outgoing {
    pb::GetByIdResponse message;
    bool ends_chunk;
  };

  void WriteNext() ABSL_EXCLUSIVE_LOCKS_REQUIRED(mu_) {
    if (writing_ || finished_) return;
    if (!pending_.empty() && !broken_) {
      current_ = std::move(pending_.front().message);
      current_ends_chunk_ = pending_.front().ends_chunk;
      pending_.pop_front();
      writing_ = true;
      StartWrite(&current_);
      return;
    }
    if (fanout_done_) {
      finished_ = true;
      Finish(ToGrpcStatus(final_status_));
    }
  }

  const std::vector<google::protobuf::Value> ids_;
  absl::Mutex mu_;
  std::shared_ptr<OrderedFanout> fanout_ ABSL_GUARDED_BY(mu_);
  std::deque<Outgoing> pending_ ABSL_GUARDED_BY(mu_);
  pb::GetByIdResponse current_ ABSL_GUARDED_BY(mu_);
  bool current_ends_chunk_ ABSL_GUARDED_BY(mu_) = false;
  bool writing_ ABSL_GUARDED_BY(mu_) = false;
  bool fanout_done_ ABSL_GUARDED_BY(mu_) = false;
  bool finished_ ABSL_GUARDED_BY(mu_) = false;
  bool broken_ ABSL_GUARDED_BY(mu_) = false;
  absl::Status final_status_ ABSL_GUARDED_BY(mu_);
};

}  // namespace

grpc::ServerUnaryReactor* GatewayService::Call(grpc::CallbackServerContext* context,
                                               const pb::CallRequest* request,
                                               pb::CallResponse* response) {
  auto* call = new UnaryCall();
  absl::StatusOr<Portal*> portal = gateway_->FindPortal(request->portal());
  if (!portal.ok()) {
    call->Reply(portal.status());
    return call;
  }
  CallOptions options = OptionsFrom(context, request->idempotent(), call->cancel());
  if (request->bulk_params_size() > 0) {
    if (request->has_params()) {
      call->Reply(absl::InvalidArgumentError(
          "params and bulk_params are exclusive: use bulk_params for many parameter sets"));
      return call;
    }
    std::vector<nlohmann::ordered_json> list;
    for (int i = 0; i < request->bulk_params_size(); ++i) {
      nlohmann::ordered_json p = ToJson(request->bulk_params(i));
      if (absl::Status s =
              Gateway::ValidateCall(request->method(), p, absl::StrCat("bulk_params[", i, "]"));
          !s.ok()) {
        call->Reply(s);
        return call;
      }
      list.push_back(std::move(p));
    }
    auto* sink = new BulkSink(call, response, list.size());
    FanoutOptions fanout;
    fanout.max_unacked_chunks = INT_MAX;  // everything is collected in one reply
    OrderedFanout::Create(*portal, request->method(), std::move(list), request->raw(),
                          std::move(options), sink, fanout)
        ->Run();
    return call;
  }
  nlohmann::ordered_json params = request->has_params() ? ToJson(request->params()) : nlohmann::ordered_json::object();
  if (absl::Status s = Gateway::ValidateCall(request->method(), params, "params"); !s.ok()) {
    call->Reply(s);
    return call;
  }
  gateway_->Call(*portal, request->method(), std::move(params), request->raw(), std::move(options),
                 [call, response](absl::StatusOr<CallReply> reply) {
                   if (!reply.ok()) {
                     call->Reply(reply.status());
                     return;
                   }
                   *response->mutable_result() = ToValue(reply->result);
                   if (reply->total) response->set_total(*reply->total);
                   if (reply->next) response->set_next(*reply->next);
                   if (reply->time.is_object()) *response->mutable_time() = ToStruct(reply->time);
                   size_t bytes = response->ByteSizeLong();
                   call->Reply(bytes > kMaxMessageBytes ? TooLarge(bytes) : absl::OkStatus());
                 });
  return call;
}

grpc::ServerUnaryReactor* GatewayService::CallBatch(grpc::CallbackServerContext* context,
                                                    const pb::CallBatchRequest* request,
                                                    pb::CallBatchResponse* response) {
  auto* call = new UnaryCall();
  absl::StatusOr<Portal*> portal = gateway_->FindPortal(request->portal());
  if (!portal.ok()) {
    call->Reply(portal.status());
    return call;
  }
  std::vector<BatchCommandSpec> commands;
  for (const auto& c : request->commands()) {
    commands.push_back(
        {c.key(), c.method(), c.has_params() ? ToJson(c.params()) : nlohmann::ordered_json::object()});
  }
  gateway_->CallBatch(*portal, std::move(commands), request->halt(),
                      OptionsFrom(context, false, call->cancel()),
                      [call, response](absl::StatusOr<std::vector<KeyedOutcome>> results) {
                        if (!results.ok()) {
                          call->Reply(results.status());
                          return;
                        }
                        for (const auto& r : *results) {
                          pb::BatchResult* out = response->add_results();
                          out->set_key(r.key);
                          FillOutcome(r.outcome, out->mutable_result());
                        }
                        size_t bytes = response->ByteSizeLong();
                        call->Reply(bytes > kMaxMessageBytes ? TooLarge(bytes) : absl::OkStatus());
                      });
  return call;
}

grpc::ServerWriteReactor<pb::GetAllResponse>* GatewayService::GetAll(
    grpc::CallbackServerContext* context, const pb::GetAllRequest* request) {
  return new GetAllStream(gateway_, context, request);
}

grpc::ServerWriteReactor<pb::GetByIdResponse>* GatewayService::GetById(
    grpc::CallbackServerContext* context, const pb::GetByIdRequest* request) {
  return new GetByIdStream(gateway_, context, request);
}

}  // namespace b24gate
