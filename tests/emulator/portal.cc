#include "tests/emulator/portal.h"

#include <exception>
#include <set>
#include <stdexcept>
#include "absl/strings/string_view.h"
#include <utility>

#include "absl/strings/ascii.h"
#include "absl/strings/match.h"
#include "absl/strings/numbers.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_split.h"
#include "absl/strings/strip.h"
#include "tests/emulator/envelope.h"
#include "tests/emulator/php_json.h"

namespace b24emu {
namespace {

using OJson = nlohmann::ordered_json;

constexpr char kJsonType[] = "application/json; charset=utf-8";

std::string HtmlPage(int status, const char* reason) {
  return absl::StrCat("<html>\r\n<head><title>", status, " ", reason,
                      "</title></head>\r\n<body>\r\n<center><h1>", status, " ", reason,
                      "</h1></center>\r\n<hr><center>nginx</center>\r\n</body>\r\n</html>\r\n");
}


constexpr char kAttachTaskFile[] = "tasks.task.files.attach";

// The file fields a call writes or reads (crm_files.h); none for most.
std::vector<const CrmFileField*> FileFieldsOf(const std::string& method,
                                              const nlohmann::json& params) {
  if (method == "crm.deal.add" || method == "crm.deal.update" || method == "crm.deal.get") {
    return {&CrmFiles::kDeal, &CrmFiles::kDealFiles};
  }
  if (method != "crm.item.add" && method != "crm.item.update" && method != "crm.item.get") {
    return {};
  }
  const nlohmann::json* type = params.is_object() && params.contains("entityTypeId")
                                   ? &params["entityTypeId"]
                                   : nullptr;
  const bool smart_process = type != nullptr && (*type == 128 || *type == "128");
  if (!smart_process) return {};
  return {&CrmFiles::kItem};
}

bool HoldsFileField(const OJson& fields) {
  if (!fields.is_object()) return false;
  for (const auto& [code, value] : fields.items()) {
    if (CrmFiles::IsFileField(code)) return true;
  }
  return false;
}

// Puts every spooled value of `params` back in memory, except a file
// field's value under fields / FIELDS, which crm_files.h decodes from disk.
absl::Status InflateSpooled(const BodySpool& spool, OJson* params, bool in_file_field) {
  if (params->is_string()) {
    if (in_file_field || !spool.FileOf(params->get_ref<const std::string&>())) {
      return absl::OkStatus();
    }
    absl::StatusOr<std::string> value = spool.Inflate(params->get_ref<const std::string&>());
    if (!value.ok()) return value.status();
    *params = *std::move(value);
    return absl::OkStatus();
  }
  if (params->is_object()) {
    for (auto& [key, item] : params->items()) {
      const bool file = in_file_field || ((key == "fields" || key == "FIELDS") && HoldsFileField(item));
      if (file && !in_file_field) {
        for (auto& [field, value] : item.items()) {
          absl::Status s = InflateSpooled(spool, &value, CrmFiles::IsFileField(field));
          if (!s.ok()) return s;
        }
        continue;
      }
      if (absl::Status s = InflateSpooled(spool, &item, in_file_field); !s.ok()) return s;
    }
  }
  if (params->is_array()) {
    for (auto& item : *params) {
      if (absl::Status s = InflateSpooled(spool, &item, in_file_field); !s.ok()) return s;
    }
  }
  return absl::OkStatus();
}

// Makes room for `n` fields in an ordered object before they are added: its
// keys are const, so an object that grows copies its values (a batch's every
// page before) instead of moving them.
void ReserveFields(OJson* object, size_t n) { object->get_ref<OJson::object_t&>().reserve(n); }

// A positive integer parameter, as a number or decimal text (forms).
std::optional<int64_t> PositiveParam(const nlohmann::json& params, const char* name) {
  if (!params.is_object() || !params.contains(name)) return std::nullopt;
  const nlohmann::json& v = params[name];
  int64_t n = 0;
  if (v.is_number_integer()) n = v.get<int64_t>();
  if (v.is_string() && !absl::SimpleAtoi(v.get<std::string>(), &n)) return std::nullopt;
  if (n <= 0) return std::nullopt;
  return n;
}

}  // namespace

std::string MergeSlashes(absl::string_view path) {
  std::string out;
  out.reserve(path.size());
  for (char c : path) {
    if (c == '/' && !out.empty() && out.back() == '/') continue;
    out.push_back(c);
  }
  return out;
}

Portal::Portal(PortalConfig config, MethodTable* methods, const Clock* clock, OAuthServer* oauth)
    : config_(std::move(config)),
      methods_(methods),
      clock_(clock),
      bucket_(config_.bucket, clock),
      operating_(config_.operating, clock),
      faults_(config_.fault_seed),
      idempotency_(config_.idempotency_ttl, clock) {
  faults_.Set(config_.faults);
  if (oauth == nullptr && config_.oauth) {
    own_oauth_ = std::make_unique<OAuthServer>(*config_.oauth, clock);
    oauth = own_oauth_.get();
  }
  oauth_ = oauth;
  absl::StatusOr<std::unique_ptr<Disk>> disk = Disk::Create(clock, config_.disk_quota);
  if (!disk.ok()) throw std::runtime_error(std::string(disk.status().message()));
  disk_ = std::move(*disk);
  absl::StatusOr<std::unique_ptr<CrmFiles>> crm_files = CrmFiles::Create();
  if (!crm_files.ok()) throw std::runtime_error(std::string(crm_files.status().message()));
  crm_files_ = std::move(*crm_files);
}

std::string Portal::InitialRefreshToken() const {
  return oauth_ ? oauth_->InitialRefreshToken() : "";
}

int64_t Portal::TokensUsedAfterRotation() const {
  return oauth_ ? oauth_->UsesAfterRotation() : 0;
}

HttpReply Portal::ErrorReply(int status, const std::string& code, const std::string& description) {
  stats_.CountError(code);
  HttpReply reply;
  reply.status = status;
  reply.body = PhpJsonEncode(ErrorObject(code, description));
  return reply;
}

HttpReply Portal::FaultReply(FaultKind kind, const RestRequest& request) {
  HttpReply reply;
  switch (kind) {
    case FaultKind::k502:
      reply.status = 502;
      reply.content_type = "text/html";
      reply.body = HtmlPage(502, "Bad Gateway");
      break;
    case FaultKind::kOverload:
      reply = ErrorReply(503, "OVERLOAD_LIMIT", "REST API is blocked due to overload");
      break;
    case FaultKind::kCut:  // the body was too short to cut inside: cut after it
      reply.drop_connection = true;
      break;
    case FaultKind::kRedirect: {
      // The portal "moved" to another name of this very server.
      absl::string_view host = request.host;
      std::string port;
      if (const size_t colon = host.rfind(':');
          colon != absl::string_view::npos && host.find(']', colon) == absl::string_view::npos) {
        port = std::string(host.substr(colon));
        host = host.substr(0, colon);
      }
      std::string alias = config_.redirect_host;
      if (alias.empty()) alias = host == "127.0.0.1" ? "localhost" : "127.0.0.1";
      const std::string location =
          absl::StrCat(request.https ? "https://" : "http://", alias, port, request.target);
      reply.status = 302;
      reply.content_type = "text/html";
      reply.headers.emplace_back("Location", location);
      reply.body = HtmlPage(302, "Found");
      break;
    }
    default:
      break;
  }
  return reply;
}

std::string Portal::MethodOfPath(const std::string& raw_path, bool* v3,
                                 std::vector<std::string>* segments) {
  // Route: /rest/{USER_ID}/{CODE}/{method} or /rest/{method}, and REST 3.0's
  // /rest/api/{USER_ID}/{CODE}/{method} or /rest/api/{method}, once runs of
  // '/' are merged as nginx does by default (README "URLs").
  const std::string merged = MergeSlashes(raw_path);
  absl::string_view path = merged;
  *v3 = absl::ConsumePrefix(&path, "/rest/api/");
  if (!*v3 && !absl::ConsumePrefix(&path, "/rest/")) return "";
  *segments = absl::StrSplit(path, '/');
  if (!segments->empty() && segments->back().empty()) segments->pop_back();  // "method/"
  if (segments->size() != 1 && segments->size() != 3) return "";
  // REST 3.0 has no ".json" suffix: only the case is normalised.
  return *v3 ? absl::AsciiStrToLower(segments->back()) : NormalizeMethod(segments->back());
}

FaultKind Portal::DrawFault(const std::string& path) {
  bool v3 = false;
  std::vector<std::string> segments;
  const std::string method = MethodOfPath(path, &v3, &segments);
  const FaultKind fault = method.empty() ? FaultKind::kNone : faults_.Draw(method);
  if (fault != FaultKind::kNone) stats_.CountFault(FaultName(fault));
  return fault;
}

HttpReply Portal::HandleRest(const RestRequest& request) {
  stats_.CountRequest();
  // From the arrival, when the server knows it: the reply is held until
  // arrival + processing, and everything the run keeps (the idempotency
  // store's finish, the operating time) must count from the same instant.
  const absl::Time start = request.arrived.value_or(clock_->Now());
  bool v3 = false;
  std::vector<std::string> segments;
  const std::string method = MethodOfPath(request.path, &v3, &segments);
  if (method.empty()) return ErrorReply(404, "ERROR_METHOD_NOT_FOUND", "Method not found!");

  const FaultKind fault = request.fault ? *request.fault : faults_.Draw(method);
  if (fault != FaultKind::kNone && !request.fault) stats_.CountFault(FaultName(fault));
  if (FaultPreventsExecution(fault)) return FaultReply(fault, request);

  HttpReply reply = v3 ? ServeV3(request, segments, method, start)
                       : ServeClassic(request, segments, method, start);
  ApplyFault(fault, &reply);
  return reply;
}

std::optional<HttpReply> Portal::Authenticate(const RestRequest& request,
                                              const std::vector<std::string>& segments,
                                              const std::string& auth, Caller* caller) {
  caller->disk.base_url = absl::StrCat(request.https ? "https://" : "http://", request.host);
  if (segments.size() == 3) {
    int64_t user_id = 0;
    bool known = false;
    if (absl::SimpleAtoi(segments[0], &user_id)) {
      for (const PortalConfig::Webhook& w : config_.webhooks) {
        known = known || (w.user_id == user_id && w.code == segments[1]);
      }
    }
    if (!known) return ErrorReply(401, "INVALID_CREDENTIALS", "Invalid request credentials");
    caller->credential = absl::StrCat("webhook:", segments[0], "/", segments[1]);
    caller->user_id = user_id;
    caller->disk.user_id = user_id;
    caller->disk.url_auth = disk_->WebhookUrlAuth(caller->credential, user_id);
    return std::nullopt;
  }
  if (auth.empty()) return ErrorReply(401, "NO_AUTH_FOUND", "Wrong authorization data");
  AccessCheck check = AccessCheck::kUnknown;
  if (oauth_) check = oauth_->CheckAccessToken(auth, &caller->user_id);
  if (check == AccessCheck::kExpired) {
    return ErrorReply(401, "expired_token", "The access token provided has expired.");
  }
  if (check == AccessCheck::kUnknown) {
    return ErrorReply(401, "invalid_token", "The access token provided is invalid.");
  }
  caller->credential = oauth_->CredentialKey();
  caller->disk.user_id = caller->user_id;
  caller->disk.url_auth = auth;
  return std::nullopt;
}

HttpReply Portal::ServeClassic(const RestRequest& request, const std::vector<std::string>& segments,
                               const std::string& method, absl::Time start) {
  if (config_.require_https && !request.https) {
    return ErrorReply(400, "INVALID_REQUEST", "Https required");
  }
  absl::StatusOr<OJson> parsed = ParseRequestParams(request.params);
  if (!parsed.ok()) return ErrorReply(400, "INVALID_REQUEST", std::string(parsed.status().message()));
  OJson params = std::move(*parsed);
  if (request.spool != nullptr) {
    if (absl::Status s = InflateSpooled(*request.spool, &params, false); !s.ok()) {
      return ErrorReply(400, "INVALID_REQUEST", std::string(s.message()));
    }
  }
  const std::string auth = TakeStringParam(params, "auth");
  params = ListIfSequential(std::move(params));

  Caller caller;
  caller.spool = request.spool;
  if (std::optional<HttpReply> refused = Authenticate(request, segments, auth, &caller)) {
    return *refused;
  }
  // At its arrival, like its `time.start` and its run.
  if (!bucket_.TryAdmit(start)) {
    return ErrorReply(503, "QUERY_LIMIT_EXCEEDED", "Too many requests");
  }
  if (method == "batch") return RunBatch(caller, params, start);
  return RunSingle(caller, method, params, start);
}

void Portal::ApplyFault(FaultKind kind, HttpReply* reply) {
  switch (kind) {
    case FaultKind::k500: {
      const absl::Duration delay = reply->delay;
      *reply = ErrorReply(500, "INTERNAL_SERVER_ERROR", "Internal server error");
      reply->delay = delay;
      break;
    }
    case FaultKind::k504:
      reply->status = 504;
      reply->content_type = "text/html";
      reply->body = HtmlPage(504, "Gateway Time-out");
      reply->headers.clear();
      break;
    case FaultKind::kReset:
      reply->drop_connection = true;
      break;
    case FaultKind::kDelay:
      reply->delay += config_.fault_delay;
      break;
    default:
      break;
  }
}

Portal::Outcome Portal::RunCommand(const Caller& caller, const std::string& method,
                                   const OJson& params, absl::Time start, bool check_operating,
                                   const std::string& account_key, bool in_batch, bool v3) {
  Outcome out;
  out.timing.start = start;
  out.timing.finish = start;
  const bool charge = check_operating;  // the modes that check also charge
  auto refuse = [&](int status, const char* code, const char* description) {
    out.result = Error(status, code, description);
    stats_.CountError(code);
    out.timing.operating = operating_.Peek(caller.credential, account_key);
    return out;
  };
  stats_.RecordCommand(method, nlohmann::json(params));
  if (method.empty()) return refuse(400, "ERROR_ARGUMENT", "Command must be a string");
  if (in_batch && method == "batch") {
    return refuse(405, "ERROR_BATCH_METHOD_NOT_ALLOWED", "Batch method is not allowed");
  }
  const bool disk_method = Disk::Serves(method);
  const bool attach_method = method == kAttachTaskFile;
  if ((!disk_method && !attach_method && !methods_->HasMethod(method)) ||
      absl::StartsWith(method, "v3/") != v3) {
    return refuse(404, "ERROR_METHOD_NOT_FOUND", "Method not found!");
  }
  if (check_operating) {
    OperatingState state;
    if (!operating_.Check(caller.credential, account_key, &state)) {
      out.result =
          Error(429, "OPERATION_TIME_LIMIT", "Method is blocked due to operation time limit.");
      stats_.CountError(out.result.error);
      out.timing.operating = state;
      return out;
    }
  }

  MethodCall call;
  call.method = method;
  call.params = nlohmann::json(params);
  // nlohmann::json sorts object keys, which would lose the priority of a
  // multi-field `order` map; hand it to the data layer as an ordered list of
  // single-field maps (a form it accepts).
  if (params.is_object()) {
    for (const char* key : {"order", "ORDER"}) {
      auto it = params.find(key);
      if (it != params.end() && it->is_object() && it->size() > 1) {
        nlohmann::json ordered = nlohmann::json::array();
        for (const auto& [field, direction] : it->items()) {
          ordered.push_back(nlohmann::json::object({{field, nlohmann::json(direction)}}));
        }
        call.params[key] = std::move(ordered);
      }
    }
  }
  call.user_id = caller.user_id;
  const std::vector<const CrmFileField*> file_fields = FileFieldsOf(method, call.params);
  try {
    if (attach_method) {
      out.result = AttachTaskFile(call.params, caller.user_id);
    } else {
      out.result = disk_method  ? disk_->Invoke(method, call.params, caller.disk)
                   : !file_fields.empty() ? InvokeWithFileFields(caller, std::move(call), file_fields)
                                : methods_->Invoke(call);
    }
  } catch (const std::exception& e) {
    // A data-layer bug must not take the server down; report it like PHP would.
    out.result = Error(500, "INTERNAL_SERVER_ERROR", e.what());
  }
  stats_.CountCommand();
  if (out.result.is_error) {
    stats_.CountError(out.result.error);
  } else if (!out.result.created_entity.empty()) {
    stats_.CountCreated(out.result.created_entity);
  }

  const absl::Duration cost = config_.cost.Cost(out.result.work);
  out.timing.processing = cost;
  out.timing.finish = start + cost;
  out.timing.operating = charge ? operating_.Charge(caller.credential, account_key, cost, start)
                                : operating_.Peek(caller.credential, account_key);
  return out;
}

MethodResult Portal::InvokeWithFileFields(const Caller& caller, MethodCall call,
                                          const std::vector<const CrmFileField*>& fields) {
  const bool read = absl::EndsWith(call.method, ".get");
  // What the write puts into each field (nullopt: left as it is).
  std::vector<std::optional<CrmFiles::Write>> writes(fields.size());
  auto discard = [&writes] {
    for (const std::optional<CrmFiles::Write>& write : writes) {
      if (write) CrmFiles::Discard(*write);
    }
  };
  for (size_t i = 0; i < fields.size() && !read; ++i) {
    absl::StatusOr<std::optional<CrmFiles::Write>> taken =
        crm_files_->Take(*fields[i], &call.params, caller.spool);
    if (!taken.ok()) {
      discard();
      return Error(400, "ERROR_CORE", std::string(taken.status().message()));
    }
    writes[i] = *std::move(taken);
  }
  MethodResult result = methods_->Invoke(call);
  // crm.item.* answer {"item": {...}}; crm.deal.add the new id.
  nlohmann::json* record = &result.result;
  if (record->is_object() && record->contains("item")) record = &(*record)["item"];
  std::optional<int64_t> id = PositiveParam(call.params, "id");
  if (!id) id = PositiveParam(call.params, "ID");
  if (absl::EndsWith(call.method, ".add")) {
    id = record->is_number_integer() ? std::optional<int64_t>(record->get<int64_t>())
                                     : PositiveParam(*record, "id");
  }
  if (result.is_error || !id) {
    discard();
    return result;
  }
  for (size_t i = 0; i < fields.size(); ++i) {
    if (writes[i]) crm_files_->Attach(*fields[i], *id, *std::move(writes[i]));
    if (read) crm_files_->Render(*fields[i], *id, record, caller.disk);
  }
  return result;
}

MethodResult Portal::AttachTaskFile(const nlohmann::json& params, int64_t user_id) {
  const std::optional<int64_t> task_id = PositiveParam(params, "taskId");
  const std::optional<int64_t> file_id = PositiveParam(params, "fileId");
  if (!task_id) return Error(400, "0", "wrong task id (internal error)");
  if (!file_id) {
    return Error(400, "100", "Could not find value for parameter {fileId} (internal error)");
  }
  if (!methods_->HasMethod("tasks.task.get")) {
    return Error(404, "ERROR_METHOD_NOT_FOUND", "Method not found!");
  }
  MethodCall task;
  task.method = "tasks.task.get";
  task.params = {{"taskId", *task_id}, {"select", {"ID"}}};
  task.user_id = user_id;
  MethodResult found = methods_->Invoke(task);
  if (found.is_error) return found;
  absl::StatusOr<int64_t> attached = disk_->AttachToTask(*file_id, *task_id, user_id);
  if (!attached.ok()) return Error(400, "ERROR_CORE", "Insufficient rights.");
  MethodResult r;
  r.result = {{"attachmentId", *attached}};
  return r;
}

HttpReply Portal::RunSingle(const Caller& caller, const std::string& method, const OJson& params,
                            absl::Time start) {
  stats_.CountRequestFor({method});
  Outcome out = RunCommand(caller, method, params, start, /*check_operating=*/true, method,
                           /*in_batch=*/false);
  HttpReply reply;
  reply.delay = out.timing.processing;
  if (out.result.is_error) {
    reply.status = out.result.http_status;
    reply.body = PhpJsonEncode(ErrorObject(out.result.error, out.result.error_description));
    return reply;
  }
  reply.status = out.result.http_status;
  OJson envelope = OJson::object();
  ReserveFields(&envelope, 4);
  envelope["result"] = ToPhpOrdered(std::move(out.result.result));
  if (out.result.next) envelope["next"] = *out.result.next;
  if (out.result.total) envelope["total"] = *out.result.total;
  envelope["time"] = TimeObject(out.timing, config_.integer_reset_at);
  reply.body = PhpJsonEncode(envelope);
  return reply;
}

HttpReply Portal::RunBatch(const Caller& caller, const OJson& params, absl::Time start) {
  stats_.CountBatch();
  const bool per_method = config_.per_method_batch_accounting;
  if (!per_method) {
    OperatingState state;
    if (!operating_.Check(caller.credential, "batch", &state)) {
      return ErrorReply(429, "OPERATION_TIME_LIMIT",
                        "Method is blocked due to operation time limit.");
    }
  }
  const std::vector<BatchCommand> commands = ParseBatchCommands(params);
  const bool halt = ParseHalt(params);
  std::set<std::string> methods;
  for (const BatchCommand& c : commands) methods.insert(c.method);
  stats_.CountRequestFor(methods);

  BatchResults results;
  for (OJson* map : {&results.result, &results.result_error, &results.result_total,
                     &results.result_next, &results.result_time}) {
    ReserveFields(map, commands.size());
  }
  absl::Time t = start;
  absl::Duration total;
  for (size_t i = 0; i < commands.size(); ++i) {
    const BatchCommand& command = commands[i];
    if (i >= static_cast<size_t>(kMaxBatchCommands)) {
      stats_.CountError("ERROR_BATCH_LENGTH_EXCEEDED");
      results.result_error[command.key] =
          ErrorObject("ERROR_BATCH_LENGTH_EXCEEDED", "Max batch length exceeded");
      if (halt) break;
      continue;
    }
    OJson resolved = ResolveReferences(command.params, results);
    TakeStringParam(resolved, "auth");
    resolved = ListIfSequential(std::move(resolved));
    Outcome out = RunCommand(caller, command.method, resolved, t, /*check_operating=*/per_method,
                             per_method ? command.method : "batch", /*in_batch=*/true);
    t = out.timing.finish;
    total += out.timing.processing;
    if (out.result.is_error) {
      results.result_error[command.key] =
          ErrorObject(out.result.error, out.result.error_description);
      if (halt) break;
      continue;
    }
    results.result[command.key] = ToPhpOrdered(std::move(out.result.result));
    if (out.result.total) results.result_total[command.key] = *out.result.total;
    if (out.result.next) results.result_next[command.key] = *out.result.next;
    results.result_time[command.key] = TimeObject(out.timing, config_.integer_reset_at);
  }

  CallTiming timing;
  timing.start = start;
  timing.finish = start + total;
  timing.processing = total;
  timing.operating = per_method ? operating_.Peek(caller.credential, "batch")
                                : operating_.Charge(caller.credential, "batch", total, start);
  // Built by moves: an initializer list would copy every page.
  OJson maps = OJson::object();
  ReserveFields(&maps, 5);
  maps["result"] = std::move(results.result);
  maps["result_error"] = std::move(results.result_error);
  maps["result_total"] = std::move(results.result_total);
  maps["result_next"] = std::move(results.result_next);
  maps["result_time"] = std::move(results.result_time);
  OJson body = OJson::object();
  ReserveFields(&body, 2);
  body["result"] = std::move(maps);
  body["time"] = TimeObject(timing, config_.integer_reset_at);
  HttpReply reply;
  reply.delay = total;
  reply.body = PhpJsonEncode(body);
  return reply;
}

HttpReply Portal::HandleToken(const OJson& params, const std::string& portal_url) {
  HttpReply reply;
  if (!oauth_) {
    reply.status = 401;
    reply.body = PhpJsonEncode(ErrorObject("invalid_client", "OAuth is not enabled"));
    return reply;
  }
  TokenReply token = oauth_->HandleTokenRequest(params, portal_url);
  stats_.CountTokenRequest(token.http_status == 200);
  reply.status = token.http_status;
  reply.body = PhpJsonEncode(token.body);
  return reply;
}

HttpReply Portal::FileAuth(const OJson& query, const FileRequest& request, DiskCaller* caller) {
  const std::string auth = query.contains("auth") && query["auth"].is_string()
                               ? query["auth"].get<std::string>()
                               : "";
  if (auth.empty()) return ErrorReply(401, "NO_AUTH_FOUND", "Wrong authorization data");
  if (!disk_->CheckWebhookUrlAuth(auth, &caller->user_id)) {
    const AccessCheck check =
        oauth_ ? oauth_->CheckAccessToken(auth, &caller->user_id) : AccessCheck::kUnknown;
    if (check == AccessCheck::kExpired) {
      return ErrorReply(401, "expired_token", "The access token provided has expired.");
    }
    if (check == AccessCheck::kUnknown) {
      return ErrorReply(401, "invalid_token", "The access token provided is invalid.");
    }
  }
  caller->url_auth = auth;
  caller->base_url = absl::StrCat(request.https ? "https://" : "http://", request.host);
  HttpReply ok;
  return ok;
}

namespace {

// The `token` of a Drive byte URL: "disk|T" (sent as disk%7CT) -> "T".
std::string DiskToken(const OJson& query) {
  if (!query.contains("token") || !query["token"].is_string()) return "";
  absl::string_view token = query["token"].get_ref<const std::string&>();
  return absl::ConsumePrefix(&token, "disk|") ? std::string(token) : "";
}

OJson FileQuery(const FileRequest& request) {
  HttpParamsSource source;
  source.query = request.query;
  absl::StatusOr<OJson> query = ParseRequestParams(source);
  return query.ok() ? *query : OJson::object();
}

}  // namespace

HttpReply Portal::OpenUpload(const FileRequest& request, UploadSlot* slot, DiskCaller* caller,
                             FaultKind* fault) {
  const OJson query = FileQuery(request);
  HttpReply reply = FileAuth(query, request, caller);
  if (reply.status != 200) return reply;
  std::optional<UploadSlot> opened = disk_->BeginUpload(DiskToken(query));
  if (!opened) return ErrorReply(400, "ERROR_ARGUMENT", "Unknown or used upload token");
  *slot = std::move(*opened);
  // Faults hit the POST as the method `upload` (README "Drive (files)").
  *fault = faults_.Draw("upload");
  if (*fault != FaultKind::kNone) stats_.CountFault(FaultName(*fault));
  return reply;
}

HttpReply Portal::FinishUpload(const UploadSlot& slot, int64_t size, const std::string& file_name,
                               const std::string& content_type, const DiskCaller& caller,
                               FaultKind fault) {
  if (fault == FaultKind::k502) {
    disk_->AbandonUpload(slot);
    return FaultReply(fault, RestRequest{});
  }
  MethodResult result = disk_->FinishUpload(slot, size, file_name, content_type, caller);
  if (result.is_error) return ErrorReply(result.http_status, result.error, result.error_description);
  stats_.CountCreated(result.created_entity);
  HttpReply reply;
  OJson envelope = OJson::object();
  envelope["result"] = ToPhpOrdered(result.result);
  reply.body = PhpJsonEncode(envelope);
  switch (fault) {  // each after the file was stored
    case FaultKind::k500:
      return ErrorReply(500, "INTERNAL_SERVER_ERROR", "Internal server error");
    case FaultKind::k504:
      reply.status = 504;
      reply.content_type = "text/html";
      reply.body = HtmlPage(504, "Gateway Time-out");
      break;
    case FaultKind::kReset:
      reply.drop_connection = true;
      break;
    case FaultKind::kDelay:
      reply.delay = config_.fault_delay;
      break;
    default:
      break;
  }
  return reply;
}

HttpReply Portal::OpenDownload(const FileRequest& request, StoredFile* file) {
  const OJson query = FileQuery(request);
  DiskCaller caller;
  HttpReply reply = FileAuth(query, request, &caller);
  if (reply.status != 200) return reply;
  std::optional<StoredFile> found = disk_->FindDownload(DiskToken(query));
  if (!found) return ErrorReply(404, "ERROR_NOT_FOUND", "File not found");
  *file = std::move(*found);
  return reply;
}

HttpReply Portal::OpenAttachedLink(const FileRequest& request) {
  OJson query = FileQuery(request);
  // The link carries its authorization as auth[auth] (the docs' form).
  const bool nested = query.contains("auth") && query["auth"].is_object() &&
                      query["auth"].contains("auth") && query["auth"]["auth"].is_string();
  query["auth"] = nested ? query["auth"]["auth"].get<std::string>() : std::string();
  DiskCaller caller;
  HttpReply reply = FileAuth(query, request, &caller);
  if (reply.status != 200) return reply;
  const std::optional<int64_t> attached = PositiveParam(nlohmann::json(query), "attachedId");
  std::optional<std::string> link =
      attached ? disk_->AttachedFileLink(*attached, caller) : std::nullopt;
  if (!link) return HttpReply{404, "text/html", HtmlPage(404, "Not Found")};
  reply.status = 302;
  reply.content_type = "text/html";
  reply.headers.emplace_back("Location", *link);
  // No body: cpp-httplib would apply a resumed download's Range to it and
  // answer 416 instead of the redirect.
  return reply;
}

HttpReply Portal::OpenCrmFileLink(const FileRequest& request, const CrmFileField& field) {
  const OJson query = FileQuery(request);
  DiskCaller caller;
  HttpReply reply = FileAuth(query, request, &caller);
  if (reply.status != 200) return reply;
  const nlohmann::json params(query);
  const std::optional<int64_t> owner = PositiveParam(params, field.owner_param);
  const std::optional<int64_t> file = PositiveParam(params, "fileId");
  const std::string code = query.contains("fieldName") && query["fieldName"].is_string()
                               ? query["fieldName"].get<std::string>()
                               : "";
  std::optional<std::string> link =
      owner && file ? crm_files_->LinkOf(field, *owner, code, *file) : std::nullopt;
  if (!link) return HttpReply{404, "text/html", HtmlPage(404, "Not Found")};
  reply.status = 302;
  reply.content_type = "text/html";
  reply.headers.emplace_back("Location", absl::StrCat(caller.base_url, *link));
  // No body: cpp-httplib would apply a resumed download's Range to it and
  // answer 416 instead of the redirect.
  return reply;
}

HttpReply Portal::OpenCrmFile(const std::string& token, StoredFile* file) {
  std::optional<StoredFile> found = crm_files_->FindLink(token);
  if (!found) return HttpReply{404, "text/html", HtmlPage(404, "Not Found")};
  *file = std::move(*found);
  return HttpReply{};
}

nlohmann::json Portal::StatsJson() {
  nlohmann::json j = stats_.ToJson();
  j["bucket_level"] = bucket_.Level();
  j["peak_bucket_level"] = bucket_.PeakLevel();
  nlohmann::json operating = nlohmann::json::object();
  for (const auto& [method, seconds] : operating_.TotalsByMethod()) operating[method] = seconds;
  j["operating"] = std::move(operating);
  j["faults"] = faults_.Describe();
  j["tokens_used_after_rotation"] = TokensUsedAfterRotation();
  return j;
}

void Portal::Reset() {
  stats_.Reset();
  bucket_.Reset();
  operating_.Reset();
}

absl::Status Portal::SetFaults(const std::string& spec) {
  absl::StatusOr<FaultSpec> parsed = ParseFaultSpec(spec);
  if (!parsed.ok()) return parsed.status();
  faults_.Set(std::move(*parsed));
  return absl::OkStatus();
}

void Portal::ExpireTokens() {
  if (oauth_) oauth_->ExpireAccessTokens();
}

}  // namespace b24emu
