// The emulated portal, independent of HTTP: routing of /rest/ paths, auth
// (webhooks and OAuth), the leaky bucket, operating-time limits, the cost
// model, batch, faults, the Bitrix24 envelope with PHP json_encode quirks, and
// the control endpoints' logic. The HTTP server (server.h) only translates
// requests into RestRequest and sends back the HttpReply, sleeping
// `reply.delay` first and dropping the connection if asked.
//
// Thread-safety: safe for concurrent use; every component has its own lock and
// the MethodTable is thread-safe by contract.
#ifndef B24EMU_PORTAL_H_
#define B24EMU_PORTAL_H_

#include <cstdint>
#include <memory>
#include <optional>
#include <string>
#include <utility>
#include <vector>

#include <nlohmann/json.hpp>

#include "absl/strings/string_view.h"
#include "absl/time/time.h"
#include "tests/emulator/batch.h"
#include "tests/emulator/clock.h"
#include "tests/emulator/body_spool.h"
#include "tests/emulator/cost_model.h"
#include "tests/emulator/crm_files.h"
#include "tests/emulator/disk.h"
#include "tests/emulator/envelope.h"
#include "tests/emulator/faults.h"
#include "tests/emulator/idempotency_store.h"
#include "tests/emulator/leaky_bucket.h"
#include "tests/emulator/method_api.h"
#include "tests/emulator/oauth.h"
#include "tests/emulator/operating_limiter.h"
#include "tests/emulator/request_params.h"
#include "tests/emulator/stats.h"

namespace b24emu {

// Everything the portal needs, with every duration and rate already scaled by
// --time-scale (see options.h).
struct PortalConfig {
  struct Webhook {
    int64_t user_id = 1;
    std::string code;
  };
  std::vector<Webhook> webhooks;
  std::optional<OAuthOptions> oauth;  // nullopt: OAuth calls are refused
  LeakyBucketOptions bucket;
  OperatingOptions operating;
  // true: per sub-method (docs); false: the whole batch charged to `batch`.
  bool per_method_batch_accounting = true;
  CostModel cost = *CostProfile("small");
  FaultSpec faults;
  uint64_t fault_seed = 1;
  absl::Duration fault_delay = absl::Seconds(65);
  bool require_https = false;
  // operating_reset_at in whole seconds (time scale >= 1) or fractional.
  bool integer_reset_at = true;
  // Host name for the `redirect` fault; empty: swap 127.0.0.1 <-> localhost.
  std::string redirect_host;
  // How long REST 3.0 keeps the answer of a write sent with an
  // Idempotency-Key (24 h on a real portal).
  absl::Duration idempotency_ttl = absl::Hours(24);
  // The Drive's space in bytes (0: unlimited): a file that would pass it is
  // ERROR_COULD_NOT_SAVE_FILE, as the docs name for a full Drive.
  int64_t disk_quota = 0;
};

// `path` with every run of '/' made one, as nginx's `merge_slashes on` (its
// default) does before a real portal's PHP sees the request.
std::string MergeSlashes(absl::string_view path);

// One HTTP request to /rest/..., already read from the wire.
struct RestRequest {
  std::string path;  // raw path without the query, e.g. "/rest/1/abc/crm.lead.get.json"
  HttpParamsSource params;
  bool https = false;
  std::string host;  // Host header (with port)
  std::string target;  // raw request target, for redirects
  std::string http_method = "POST";  // "GET" or "POST"
  // The Idempotency-Key header, when the request had one.
  std::optional<std::string> idempotency_key;
  // The body's long values, kept on disk (body_spool.h); null: none.
  const BodySpool* spool = nullptr;
  // The fault drawn before the body was read (DrawFault); unset: drawn by
  // HandleRest.
  std::optional<FaultKind> fault;
  // The token of an "Authorization: Bearer" header (REST 3.0 reads it when
  // the body has no `auth`, e.g. a batch's list); empty when none.
  std::string bearer;
  // When the request's bytes arrived, on the portal's clock (the server's
  // reading of the kernel's record); unset: when HandleRest runs. The run
  // counts from here, as the server's hold of the reply does, so a keyed
  // write is kept as finished by the time its answer leaves.
  std::optional<absl::Time> arrived;
};

// The byte endpoints of the Drive: a request's query, and how it arrived.
struct FileRequest {
  std::string query;  // raw, without '?'
  bool https = false;
  std::string host;
};

struct HttpReply {
  int status = 200;
  std::string content_type = "application/json; charset=utf-8";
  std::string body;
  std::vector<std::pair<std::string, std::string>> headers;
  // Hold the response this long before sending (processing time, fault delay).
  absl::Duration delay;
  // `reset` fault: close the connection instead of answering.
  bool drop_connection = false;
};

class Portal {
 public:
  // `methods` and `clock` must outlive the portal. `oauth`, when given,
  // serves OAuth instead of one made from config.oauth, and must outlive
  // the portal (a portal's tokens exist before it is first called).
  Portal(PortalConfig config, MethodTable* methods, const Clock* clock,
         OAuthServer* oauth = nullptr);

  // A REST call (webhook or OAuth URL). Never fails: errors are replies.
  HttpReply HandleRest(const RestRequest& request);
  // The fault for a REST request to `path`, drawn before its body is read
  // (the `cut` fault acts while it is read); pass it on in RestRequest.
  FaultKind DrawFault(const std::string& path);
  // Where request bodies spool their long values.
  const std::string& spool_dir() const { return crm_files_->spool_dir(); }

  // A file field's download link (a deal's downloadUrl, show_file.php; an
  // item's urlMachine): a redirect to the file's own link, or an error
  // reply.
  HttpReply OpenCrmFileLink(const FileRequest& request, const CrmFileField& field);
  // That link: the file to stream, or an error reply (status != 200).
  HttpReply OpenCrmFile(const std::string& token, StoredFile* file);

  // /oauth/token/ with its merged parameters; `portal_url` is
  // "http(s)://host:port" as the client reached us.
  HttpReply HandleToken(const nlohmann::ordered_json& params, const std::string& portal_url);

  // The second step of a Drive upload (POST to an uploadUrl), in two halves
  // around the server streaming the bytes into `slot->temp_path`. An error
  // reply (status != 200) from OpenUpload means: read nothing, send it.
  // `fault` is the fault drawn for the POST (the method `upload`): kCut is
  // the server's to act on while the body arrives (the upload is then
  // abandoned), the others FinishUpload's.
  HttpReply OpenUpload(const FileRequest& request, UploadSlot* slot, DiskCaller* caller,
                       FaultKind* fault);
  HttpReply FinishUpload(const UploadSlot& slot, int64_t size, const std::string& file_name,
                         const std::string& content_type, const DiskCaller& caller,
                         FaultKind fault);
  void AbandonUpload(const UploadSlot& slot) { disk_->AbandonUpload(slot); }
  // Disk::Inspect, for /_emulator/disk/files/ID.
  std::optional<nlohmann::json> InspectFile(int64_t id) const { return disk_->Inspect(id); }
  // A DOWNLOAD_URL: the file to stream, or an error reply (status != 200).
  HttpReply OpenDownload(const FileRequest& request, StoredFile* file);
  // An attached object's DOWNLOAD_URL (uf.php, authorized by its
  // auth[auth]): a redirect to the file's own link, or an error reply.
  HttpReply OpenAttachedLink(const FileRequest& request);

  // Control endpoints.
  nlohmann::json StatsJson();
  void Reset();
  // Replaces the fault spec; InvalidArgument for a bad SPEC.
  absl::Status SetFaults(const std::string& spec);
  std::string DescribeFaults() const { return faults_.Describe(); }
  void ExpireTokens();

  Stats& stats() { return stats_; }
  // Empty when OAuth is off.
  std::string InitialRefreshToken() const;
  // OAuthServer::UsesAfterRotation (0 when OAuth is off).
  int64_t TokensUsedAfterRotation() const;

 private:
  struct Caller {
    std::string credential;  // operating-time key: "webhook:UID/CODE" or "app:CLIENT"
    int64_t user_id = 1;
    DiskCaller disk;  // for URLs a disk method hands out
    const BodySpool* spool = nullptr;  // the request's long values
  };
  // The outcome of one command (top-level call or batch sub-command).
  struct Outcome {
    MethodResult result;
    CallTiming timing;
  };

  HttpReply ErrorReply(int status, const std::string& code, const std::string& description);
  // Checks a byte endpoint's `auth` (an OAuth access token or a webhook's
  // URL token): an error reply, or status 200 with *caller filled.
  HttpReply FileAuth(const nlohmann::ordered_json& query, const FileRequest& request,
                     DiskCaller* caller);
  HttpReply FaultReply(FaultKind kind, const RestRequest& request);
  // The faults that let the call run change its reply afterwards.
  void ApplyFault(FaultKind kind, HttpReply* reply);
  // Webhook (`segments` = USER_ID, CODE, method) or OAuth (`auth`): fills
  // *caller (its disk URLs from how `request` reached us), or returns the
  // refusal.
  std::optional<HttpReply> Authenticate(const RestRequest& request,
                                        const std::vector<std::string>& segments,
                                        const std::string& auth, Caller* caller);
  // A classic call (/rest/...) once routed.
  HttpReply ServeClassic(const RestRequest& request, const std::vector<std::string>& segments,
                         const std::string& method, absl::Time start);
  // A REST 3.0 call (/rest/api/..., portal_v3.cc) once routed.
  HttpReply ServeV3(const RestRequest& request, const std::vector<std::string>& segments,
                    const std::string& method, absl::Time start);
  // Runs a REST 3.0 method ("tasks.task.add") and renders its reply.
  HttpReply RunV3(const Caller& caller, const std::string& method,
                  const nlohmann::ordered_json& params, absl::Time start);
  // REST 3.0's batch: `body` is its list of sub-requests (batch_v3.h).
  HttpReply RunV3Batch(const Caller& caller, const nlohmann::ordered_json& body,
                       absl::Time start);
  // A REST 3.0 method's error, held `delay` (its processing so far).
  HttpReply V3ErrorReply(const MethodResult& result, absl::Duration delay);
  // Runs one method with operating checks (when `check_operating`) and costs.
  // `charge_key` is the method name operating time is charged to ("" = none).
  // REST 3.0 methods ("v3/...") run only when `v3`: a classic batch cannot
  // reach them.
  Outcome RunCommand(const Caller& caller, const std::string& method,
                     const nlohmann::ordered_json& params, absl::Time start,
                     bool check_operating, const std::string& charge_key, bool in_batch,
                     bool v3 = false);
  // tasks.task.files.attach: attaches a Drive file to a task (the task from
  // the data layer, the attachment in the Disk).
  MethodResult AttachTaskFile(const nlohmann::json& params, int64_t user_id);
  // crm.deal.* / crm.item.* add, update and get with their file `fields`
  // (crm_files.h) around the data layer's method.
  MethodResult InvokeWithFileFields(const Caller& caller, MethodCall call,
                                    const std::vector<const CrmFileField*>& fields);
  // The method a REST path names ("" when none), and whether it is REST 3.0.
  static std::string MethodOfPath(const std::string& path, bool* v3,
                                  std::vector<std::string>* segments);
  HttpReply RunSingle(const Caller& caller, const std::string& method,
                      const nlohmann::ordered_json& params, absl::Time start);
  HttpReply RunBatch(const Caller& caller, const nlohmann::ordered_json& params, absl::Time start);

  const PortalConfig config_;
  MethodTable* const methods_;
  const Clock* const clock_;
  LeakyBucket bucket_;
  OperatingLimiter operating_;
  FaultInjector faults_;
  std::unique_ptr<OAuthServer> own_oauth_;
  OAuthServer* oauth_ = nullptr;  // own_oauth_ or the one given
  std::unique_ptr<Disk> disk_;
  std::unique_ptr<CrmFiles> crm_files_;
  IdempotencyStore idempotency_;
  Stats stats_;
};

}  // namespace b24emu

#endif  // B24EMU_PORTAL_H_
