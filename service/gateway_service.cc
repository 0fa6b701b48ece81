#include "service/gateway_service.h"

#include <memory>
#include <string>
#include <utility>
#include <vector>

#include "absl/strings/str_cat.h"
#include "engine/bitrix/method_traits.h"
#include "engine/common/errors.h"
#include "service/json_value.h"
#include "service/message_limit.h"
#include "service/owned_message.h"
#include "service/request_params.h"
#include "service/rest_v3_call.h"
#include "service/rpc_call_options.h"
#include "service/result_links.h"
#include "service/status_mapping.h"
#include "service/stream_writer.h"
#include "service/wire/request_decoder.h"

namespace b24gate {
namespace {

// Why a call is refused before any work: an unauthenticated caller first
// (its request is not looked at), then a request the decoder refused.
absl::Status Admission(const absl::StatusOr<std::string>& client,
                       const google::protobuf::Message& request) {
  if (!client.ok()) return client.status();
  return DecodeError(request);
}

namespace pb = bitrix24::gateway::v1;

// A GetAll page's arena: 2,500 narrow rows (ID and TITLE) take about 1.1 MB
// of it; its blocks stay under glibc's mmap threshold (128 KiB), so they are
// reused from the heap rather than mapped and faulted in afresh.
constexpr size_t kPageArenaStartBytes = 16 * 1024;
constexpr size_t kPageArenaMaxBlockBytes = 64 * 1024;

void FillOutcome(const absl::StatusOr<CallReply>& outcome, pb::CallResult* out) {
  if (!outcome.ok()) {
    *out->mutable_error() = ToCommandError(outcome.status());
    return;
  }
  *out->mutable_result() = ToValue(outcome->result);
  StripLinkCredentials(out->mutable_result());
  if (outcome->total) out->set_total(*outcome->total);
  if (outcome->next) out->set_next(*outcome->next);
  if (outcome->time.is_object()) *out->mutable_time() = ToStruct(outcome->time);
}

CacheMode CacheModeFrom(pb::CacheMode mode) {
  switch (mode) {
    case pb::CACHE_MODE_BYPASS: return CacheMode::kBypass;
    case pb::CACHE_MODE_REFRESH: return CacheMode::kRefresh;
    default: return CacheMode::kUse;
  }
}

// A read may be asked for again, so its body may be left out of an answer
// that is too large; a write's result may not (see message_limit.h).
bool IsRead(const std::string& method, bool idempotent) {
  return idempotent || IsReadMethod(method);
}

// The field names of a request's params, and the configured depth limit.
ParamsFields FieldsFor(const Gateway* gateway, std::string params = "params",
                       std::string params_json = "params_json") {
  ParamsFields fields;
  fields.params = std::move(params);
  fields.params_json = std::move(params_json);
  fields.max_depth = gateway->options().limits.max_depth;
  return fields;
}

// A request's one parameter set, given as a Value or as JSON text, never
// both.
template <typename Request>
absl::StatusOr<nlohmann::ordered_json> RequestParams(const Request& request,
                                                     const Gateway* gateway) {
  return ParamsOrJson(request.has_params() ? &request.params() : nullptr, request.params_json(),
                      FieldsFor(gateway));
}

// The field a request's parameters came in, which the engine's errors name.
template <typename Request>
std::string ParamsField(const Request& request) {
  return request.params_json().empty() ? "params" : "params_json";
}

// Parameter sets given as Values or as JSON texts, never both.
absl::StatusOr<std::vector<nlohmann::ordered_json>> ParameterSets(
    const google::protobuf::RepeatedPtrField<google::protobuf::Value>& values,
    const google::protobuf::RepeatedPtrField<std::string>& texts, const std::string& values_field,
    const std::string& texts_field, int max_depth) {
  if (!values.empty() && !texts.empty()) {
    return absl::InvalidArgumentError(absl::StrCat(values_field, " and ", texts_field,
                                                   " are exclusive: give the parameter sets once"));
  }
  std::vector<nlohmann::ordered_json> sets;
  sets.reserve(values.size() + texts.size());
  for (const auto& value : values) sets.push_back(ToJson(value));
  for (int i = 0; i < texts.size(); ++i) {
    absl::StatusOr<nlohmann::ordered_json> set =
        ParseJsonText(texts[i], absl::StrCat(texts_field, "[", i, "]"), max_depth);
    if (!set.ok()) return set.status();
    sets.push_back(std::move(*set));
  }
  return sets;
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

// Call with one parameter set: the method's answer, or the RPC's error.
// `api`: where the request's api_version (or the portal's default) sends it.
void StartSingleCall(Gateway* gateway, grpc::CallbackServerContext* context,
                     const std::string& client, const pb::CallRequest& request,
                     pb::CallResponse* response, UnaryCall* call, RestApi api) {
  absl::StatusOr<nlohmann::ordered_json> params = RequestParams(request, gateway);
  if (!params.ok()) {
    call->Reply(params.status());
    return;
  }
  CallSpec spec;
  spec.portal = request.portal();
  spec.method = request.method();
  spec.params = std::move(*params);
  spec.params_field = ParamsField(request);
  spec.raw = request.raw();
  spec.cache = CacheModeFrom(request.cache());
  const bool is_read = IsRead(request.method(), request.idempotent());
  CallOptions options = RpcCallOptions(*context, client, request.idempotent(), call->cancel());
  // This gRPC thread holds no lock: on an idle portal it sends the call
  // itself rather than waking a dispatcher thread to do so.
  options.lend_thread = true;
  if (absl::Status s = ApplyApiVersion(request, &spec, &options, api); !s.ok()) {
    call->Reply(s);
    return;
  }
  gateway->Call(std::move(spec), std::move(options),
                [call, response, is_read](absl::StatusOr<CallReply> reply) {
                  if (!reply.ok()) {
                    call->Reply(reply.status());
                    return;
                  }
                  pb::CallResult result;
                  FillOutcome(reply, &result);
                  *response->mutable_result() = std::move(*result.mutable_result());
                  if (result.has_total()) response->set_total(result.total());
                  if (result.has_next()) response->set_next(result.next());
                  if (result.has_time()) *response->mutable_time() = std::move(*result.mutable_time());
                  // A read can be repeated through a stream; a write's answer
                  // is sent whatever its size (message_limit.h).
                  size_t bytes = response->ByteSizeLong();
                  call->Reply(is_read && bytes > kMaxMessageBytes ? TooLarge(bytes)
                                                                  : absl::OkStatus());
                });
}

// Collects a bulk Call's results in request order into one reply.
class BulkReply : public FanoutSink {
 public:
  BulkReply(UnaryCall* call, pb::CallResponse* response, size_t n, bool is_read)
      : call_(call), response_(response), is_read_(is_read) {
    for (size_t i = 0; i < n; ++i) response_->add_results();
  }
  void OnResults(size_t first, std::vector<absl::StatusOr<CallReply>> results) override {
    for (size_t i = 0; i < results.size(); ++i) {
      FillOutcome(results[i], response_->mutable_results(static_cast<int>(first + i)));
    }
  }
  void OnDone(absl::Status status) override {
    if (status.ok()) {
      std::vector<FittableResult> parts;
      for (auto& r : *response_->mutable_results()) parts.push_back({&r, is_read_});
      FitUnderMessageLimit(std::move(parts), response_->ByteSizeLong());
    }
    call_->Reply(status);
    delete this;
  }

 private:
  UnaryCall* const call_;
  pb::CallResponse* const response_;
  const bool is_read_;
};

// Call with bulk_params: one result per parameter set, in one reply.
void StartBulkCall(Gateway* gateway, grpc::CallbackServerContext* context,
                   const std::string& client, const pb::CallRequest& request,
                   pb::CallResponse* response, UnaryCall* call, RestApi api) {
  if (request.has_params() || !request.params_json().empty()) {
    call->Reply(absl::InvalidArgumentError(absl::StrCat(
        request.has_params() ? "params" : "params_json",
        " and bulk_params are exclusive: use bulk_params (or CallMany's params_json) for many "
        "parameter sets")));
    return;
  }
  // Only the checks matter here: a bulk call is classic.
  CallSpec checked;
  CallOptions checked_options;
  if (absl::Status s = ApplyApiVersion(request, &checked, &checked_options, api); !s.ok()) {
    call->Reply(s);
    return;
  }
  BulkSpec bulk;
  bulk.portal = request.portal();
  bulk.method = request.method();
  for (const auto& p : request.bulk_params()) bulk.params.push_back(ToJson(p));
  bulk.params_field = "bulk_params";
  bulk.raw = request.raw();
  bulk.cache = CacheModeFrom(request.cache());
  auto* reply = new BulkReply(call, response, bulk.params.size(),
                              IsRead(request.method(), request.idempotent()));
  absl::StatusOr<std::shared_ptr<OrderedFanout>> fanout =
      gateway->PrepareBulk(std::move(bulk), BulkForm::kUnary,
                           RpcCallOptions(*context, client, request.idempotent(), call->cancel()), reply);
  if (!fanout.ok()) {
    response->Clear();
    delete reply;
    call->Reply(fanout.status());
    return;
  }
  (*fanout)->Run();
}

// Results of an OrderedFanout streamed in request order, each delivered
// chunk cut into messages of about kStreamChunkBytes; the chunk is
// acknowledged when its last message is written. `Fill` adds result `index`
// to a message and returns the bytes it added.
template <typename Message>
class FanoutStream : public StreamWriter<Message, OrderedFanout>, public FanoutSink {
 protected:
  virtual size_t Fill(size_t index, absl::StatusOr<CallReply> result, Message* message) = 0;
  // Called for each new message with the index of its first result.
  virtual void Begin(size_t first, Message* message) { (void)first, (void)message; }

 public:
  void OnResults(size_t first, std::vector<absl::StatusOr<CallReply>> results) override {
    Message message;
    Begin(first, &message);
    size_t bytes = 0;
    for (size_t i = 0; i < results.size(); ++i) {
      bytes += Fill(first + i, std::move(results[i]), &message);
      if (bytes >= kStreamChunkBytes && i + 1 < results.size()) {
        this->Send(std::move(message), /*ends_unit=*/false);
        message = Message();
        Begin(first + i + 1, &message);
        bytes = 0;
      }
    }
    this->Send(std::move(message), /*ends_unit=*/true);
  }
  void OnDone(absl::Status status) override { this->ProducerDone(status); }

  // Starts `fanout`, or refuses the RPC with its validation error.
  void StartOrRefuse(absl::StatusOr<std::shared_ptr<OrderedFanout>> fanout) {
    if (!fanout.ok()) {
      this->Refuse(fanout.status());
      return;
    }
    this->Start(std::move(*fanout));
  }
};

// Hands `stream` its request's API once ResolveApi knows it (at once,
// unless the portal's OpenAPI document must be read first).
template <typename Stream, typename Request>
void StartOnceResolved(Stream* stream, Gateway* gateway, grpc::CallbackServerContext* context,
                       const std::string& client, const Request* request) {
  ResolveApi(gateway, request->portal(), request->api_version(), {request->method()},
             [stream, gateway, context, client, request](absl::StatusOr<RestApi> api) {
               stream->StartWith(gateway, context, client, request, std::move(api));
             });
}

// GetById: results in id order.
class GetByIdStream final : public FanoutStream<pb::GetByIdResponse> {
 public:
  GetByIdStream(Gateway* gateway, grpc::CallbackServerContext* context,
                const absl::StatusOr<std::string>& client, const pb::GetByIdRequest* request)
      : ids_(request->ids().begin(), request->ids().end()) {
    if (absl::Status s = Admission(client, *request); !s.ok()) {
      Refuse(s);
      return;
    }
    StartOnceResolved(this, gateway, context, *client, request);
  }

  // The rest of the constructor, once the request's API is known (see
  // StartOnceResolved).
  void StartWith(Gateway* gateway, grpc::CallbackServerContext* context, const std::string& client,
                 const pb::GetByIdRequest* request, absl::StatusOr<RestApi> resolved) {
    if (!resolved.ok()) {
      Refuse(resolved.status());
      return;
    }
    const RestApi api = *resolved;
    absl::StatusOr<nlohmann::ordered_json> params = RequestParams(*request, gateway);
    if (!params.ok()) {
      Refuse(params.status());
      return;
    }
    GetByIdSpec spec;
    spec.portal = request->portal();
    spec.method = request->method();
    for (const auto& id : ids_) spec.ids.push_back(ToJson(id));
    spec.id_field = request->id_field();
    spec.params = std::move(*params);
    spec.params_field = ParamsField(*request);
    spec.cache = CacheModeFrom(request->cache());
    CallOptions options =
        RpcCallOptions(*context, client, request->idempotent(), std::make_shared<CancelToken>());
    if (absl::Status s = ApplyFanoutApiVersion(request->api_version(), api, &options, &spec.cache);
        !s.ok()) {
      Refuse(s);
      return;
    }
    // REST 3.0 names fields in camelCase.
    if (options.api == RestApi::kV3 && spec.id_field.empty()) spec.id_field = "id";
    StartOrRefuse(gateway->PrepareGetById(std::move(spec), std::move(options), this));
  }

 private:
  size_t Fill(size_t index, absl::StatusOr<CallReply> result,
              pb::GetByIdResponse* message) override {
    pb::IdResult* r = message->add_results();
    *r->mutable_id() = ids_[index];
    if (result.ok()) {
      *r->mutable_result() = ToValue(result->result);
      StripLinkCredentials(r->mutable_result());
    } else {
      *r->mutable_error() = ToCommandError(result.status());
    }
    return r->ByteSizeLong();
  }

  const std::vector<google::protobuf::Value> ids_;
};

// CallMany: one result per parameter set, streamed in request order.
class CallManyStream final : public FanoutStream<pb::CallManyResponse> {
 public:
  CallManyStream(Gateway* gateway, grpc::CallbackServerContext* context,
                 const absl::StatusOr<std::string>& client, const pb::CallManyRequest* request) {
    if (absl::Status s = Admission(client, *request); !s.ok()) {
      Refuse(s);
      return;
    }
    StartOnceResolved(this, gateway, context, *client, request);
  }

  // The rest of the constructor, once the request's API is known (see
  // StartOnceResolved).
  void StartWith(Gateway* gateway, grpc::CallbackServerContext* context, const std::string& client,
                 const pb::CallManyRequest* request, absl::StatusOr<RestApi> resolved) {
    if (!resolved.ok()) {
      Refuse(resolved.status());
      return;
    }
    const RestApi api = *resolved;
    absl::StatusOr<std::vector<nlohmann::ordered_json>> sets =
        ParameterSets(request->params(), request->params_json(), "params", "params_json",
                      gateway->options().limits.max_depth);
    if (!sets.ok()) {
      Refuse(sets.status());
      return;
    }
    BulkSpec bulk;
    bulk.portal = request->portal();
    bulk.method = request->method();
    bulk.params = std::move(*sets);
    bulk.params_field = ParamsField(*request);
    bulk.cache = CacheModeFrom(request->cache());
    CallOptions options =
        RpcCallOptions(*context, client, request->idempotent(), std::make_shared<CancelToken>());
    if (absl::Status s = ApplyFanoutApiVersion(request->api_version(), api, &options, &bulk.cache,
                                               &bulk.params, bulk.params_field);
        !s.ok()) {
      Refuse(s);
      return;
    }
    if (absl::Status s = ApplyCallManyKeys(*request, options, &bulk); !s.ok()) {
      Refuse(s);
      return;
    }
    StartOrRefuse(gateway->PrepareBulk(std::move(bulk), BulkForm::kStreaming, std::move(options),
                                       this));
  }

 private:
  void Begin(size_t first, pb::CallManyResponse* message) override {
    message->set_first_index(static_cast<int64_t>(first));
  }
  size_t Fill(size_t /*index*/, absl::StatusOr<CallReply> result,
              pb::CallManyResponse* message) override {
    pb::CallResult* r = message->add_results();
    FillOutcome(result, r);
    return r->ByteSizeLong();
  }
};

ListStrategyKind StrategyFrom(pb::ListStrategy strategy) {
  switch (strategy) {
    case pb::LIST_STRATEGY_OFFSET: return ListStrategyKind::kOffset;
    case pb::LIST_STRATEGY_KEYSET: return ListStrategyKind::kKeysetChain;
    case pb::LIST_STRATEGY_PARALLEL_KEYSET: return ListStrategyKind::kParallelKeyset;
    default: return ListStrategyKind::kDefault;
  }
}

// A GetAll page's items in its message, on an arena of its own (a page's
// thousands of Structs cost a few blocks instead of mallocs and frees for
// every field, kPageArena*): stripped of link credentials as JSON, then
// written in place, as Values or as one JSON text.
OwnedMessage<pb::GetAllResponse> ItemsMessage(std::vector<nlohmann::ordered_json> items,
                                              bool as_json) {
  auto message =
      OwnedMessage<pb::GetAllResponse>::OnArena(kPageArenaStartBytes, kPageArenaMaxBlockBytes);
  if (as_json) {
    if (!items.empty()) message->set_items_json(ItemsJsonText(items));
    return message;
  }
  message->mutable_items()->Reserve(static_cast<int>(items.size()));
  for (auto& item : items) {
    StripLinkCredentials(&item);
    ToValue(item, message->add_items());
  }
  return message;
}

// A page's message made ahead of its turn (PagePreparer): an ordered read's
// later ranges, waiting for the first, are converted while they wait
// instead of in one run after the read's last answer.
class GetAllPage final : public PreparedPage {
 public:
  explicit GetAllPage(OwnedMessage<pb::GetAllResponse> message) : message_(std::move(message)) {}
  int64_t bytes() const override { return message_.arena_bytes(); }
  OwnedMessage<pb::GetAllResponse> Take() { return std::move(message_); }

 private:
  OwnedMessage<pb::GetAllResponse> message_;
};

class GetAllPreparer final : public PagePreparer {
 public:
  explicit GetAllPreparer(bool items_as_json) : items_as_json_(items_as_json) {}
  std::unique_ptr<PreparedPage> Prepare(std::vector<nlohmann::ordered_json> items) const override {
    return std::make_unique<GetAllPage>(ItemsMessage(std::move(items), items_as_json_));
  }

 private:
  const bool items_as_json_;
};

// GetAll: pages of items with progress, then the summary.
class GetAllStream final : public StreamWriter<pb::GetAllResponse, ListReader>, public ListSink {
 public:
  GetAllStream(Gateway* gateway, grpc::CallbackServerContext* context,
               const absl::StatusOr<std::string>& client, const pb::GetAllRequest* request) {
    if (absl::Status s = Admission(client, *request); !s.ok()) {
      Refuse(s);
      return;
    }
    StartOnceResolved(this, gateway, context, *client, request);
  }

  // The rest of the constructor, once the request's API is known (see
  // StartOnceResolved).
  void StartWith(Gateway* gateway, grpc::CallbackServerContext* context, const std::string& client,
                 const pb::GetAllRequest* request, absl::StatusOr<RestApi> resolved) {
    if (!resolved.ok()) {
      Refuse(resolved.status());
      return;
    }
    const RestApi api = *resolved;
    absl::StatusOr<nlohmann::ordered_json> params = RequestParams(*request, gateway);
    if (!params.ok()) {
      Refuse(params.status());
      return;
    }
    ListRequest list;
    list.method = request->method();
    list.params = std::move(*params);
    list.params_field = ParamsField(*request);
    list.items_key = request->items_key();
    list.options =
        RpcCallOptions(*context, client, request->idempotent(), std::make_shared<CancelToken>());
    list.strategy = StrategyFrom(request->strategy());
    list.unordered = request->unordered();
    items_as_json_ = request->items_as_json();
    list.skip_total = request->skip_total();
    list.resume_cursor = request->resume_cursor();
    if (absl::Status s = ApplyFanoutApiVersion(request->api_version(), api, &list.options, nullptr);
        !s.ok()) {
      Refuse(s);
      return;
    }
    absl::StatusOr<std::shared_ptr<ListReader>> reader =
        gateway->PrepareGetAll(request->portal(), std::move(list), this);
    if (!reader.ok()) {
      Refuse(reader.status());
      return;
    }
    Start(std::move(*reader));
  }

  std::shared_ptr<const PagePreparer> Preparer() override {
    return std::make_shared<GetAllPreparer>(items_as_json_);
  }

  void OnPage(ListPage page) override {
    // Made ahead (the reader's only prepared pages are this sink's), or now.
    OwnedMessage<pb::GetAllResponse> message =
        page.prepared ? static_cast<GetAllPage&>(*page.prepared).Take()
                      : ItemsMessage(std::move(page.items), items_as_json_);
    message->mutable_progress()->set_items_so_far(page.items_so_far);
    if (page.total) message->mutable_progress()->set_total(*page.total);
    message->set_resume_cursor(page.resume_cursor);
    Send(std::move(message), /*ends_unit=*/true);
  }

  void OnDone(absl::Status status, ListSummary summary) override {
    if (status.ok()) Send(SummaryMessage(summary), /*ends_unit=*/false);
    ProducerDone(status);
  }

 private:
  static pb::GetAllResponse SummaryMessage(const ListSummary& summary) {
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
    return message;
  }

  // GetAllRequest.items_as_json: set before the reader starts.
  bool items_as_json_ = false;
};

// Reads each command's params or params_json.
absl::StatusOr<std::vector<BatchCommandSpec>> BatchCommands(const Gateway* gateway,
                                                            const pb::CallBatchRequest& request) {
  std::vector<BatchCommandSpec> commands;
  for (int i = 0; i < request.commands_size(); ++i) {
    const pb::BatchCommand& c = request.commands(i);
    ParamsFields fields = FieldsFor(gateway, absl::StrCat("commands[", i, "].params"),
                                    absl::StrCat("commands[", i, "].params_json"));
    absl::StatusOr<nlohmann::ordered_json> params =
        ParamsOrJson(c.has_params() ? &c.params() : nullptr, c.params_json(), fields);
    if (!params.ok()) return params.status();
    commands.push_back({c.key(), c.method(), std::move(*params)});
  }
  return commands;
}

// CallBatch once its API is known (`api`, see ResolveApi).
void StartBatch(Gateway* gateway, const pb::CallBatchRequest& request,
                std::vector<BatchCommandSpec> commands, CallOptions options, RestApi api,
                pb::CallBatchResponse* response, UnaryCall* call) {
  if (absl::Status s = ApplyBatchApiVersion(request.api_version(), api, &options); !s.ok()) {
    call->Reply(s);
    return;
  }
  std::vector<bool> reads;
  for (const auto& c : commands) reads.push_back(IsReadMethod(c.method.substr(0, c.method.find('?'))));
  gateway->CallBatch(
      request.portal(), std::move(commands), request.halt(), std::move(options),
      [call, response, reads](absl::StatusOr<std::vector<KeyedOutcome>> results) {
        if (!results.ok()) {
          call->Reply(results.status());
          return;
        }
        std::vector<FittableResult> parts;
        for (size_t i = 0; i < results->size(); ++i) {
          pb::BatchResult* out = response->add_results();
          out->set_key((*results)[i].key);
          FillOutcome((*results)[i].outcome, out->mutable_result());
          parts.push_back({out->mutable_result(), i < reads.size() && reads[i]});
        }
        FitUnderMessageLimit(std::move(parts), response->ByteSizeLong());
        call->Reply(absl::OkStatus());
      });
}

}  // namespace

grpc::ServerUnaryReactor* GatewayService::Call(grpc::CallbackServerContext* context,
                                               const pb::CallRequest* request,
                                               pb::CallResponse* response) {
  auto* call = new UnaryCall();
  absl::StatusOr<std::string> client = AdmittedClientName(access_, *context);
  if (absl::Status s = Admission(client, *request); !s.ok()) {
    call->Reply(s);
    return call;
  }
  ResolveApi(gateway_, request->portal(), request->api_version(), {request->method()},
             [gateway = gateway_, context, client = *client, request, response,
              call](absl::StatusOr<RestApi> api) {
               if (!api.ok()) {
                 call->Reply(api.status());
               } else if (request->bulk_params_size() > 0) {
                 StartBulkCall(gateway, context, client, *request, response, call, *api);
               } else {
                 StartSingleCall(gateway, context, client, *request, response, call, *api);
               }
             });
  return call;
}

grpc::ServerUnaryReactor* GatewayService::CallBatch(grpc::CallbackServerContext* context,
                                                    const pb::CallBatchRequest* request,
                                                    pb::CallBatchResponse* response) {
  auto* call = new UnaryCall();
  absl::StatusOr<std::string> client = AdmittedClientName(access_, *context);
  if (absl::Status s = Admission(client, *request); !s.ok()) {
    call->Reply(s);
    return call;
  }
  absl::StatusOr<std::vector<BatchCommandSpec>> commands = BatchCommands(gateway_, *request);
  if (!commands.ok()) {
    call->Reply(commands.status());
    return call;
  }
  std::vector<std::string> methods;
  for (const auto& c : *commands) methods.push_back(c.method.substr(0, c.method.find('?')));
  ResolveApi(gateway_, request->portal(), request->api_version(), std::move(methods),
             [gateway = gateway_, request, response, call, commands = std::move(*commands),
              options = RpcCallOptions(*context, *client, false, call->cancel())](
                 absl::StatusOr<RestApi> api) mutable {
               if (!api.ok()) {
                 call->Reply(api.status());
                 return;
               }
               StartBatch(gateway, *request, std::move(commands), std::move(options), *api,
                          response, call);
             });
  return call;
}

grpc::ServerWriteReactor<pb::GetAllResponse>* GatewayService::GetAll(
    grpc::CallbackServerContext* context, const pb::GetAllRequest* request) {
  return new GetAllStream(gateway_, context, AdmittedClientName(access_, *context), request);
}

grpc::ServerWriteReactor<pb::GetByIdResponse>* GatewayService::GetById(
    grpc::CallbackServerContext* context, const pb::GetByIdRequest* request) {
  return new GetByIdStream(gateway_, context, AdmittedClientName(access_, *context), request);
}

grpc::ServerWriteReactor<pb::CallManyResponse>* GatewayService::CallMany(
    grpc::CallbackServerContext* context, const pb::CallManyRequest* request) {
  return new CallManyStream(gateway_, context, AdmittedClientName(access_, *context), request);
}

}  // namespace b24gate
