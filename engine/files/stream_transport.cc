#include "engine/files/stream_transport.h"

#include <curl/curl.h>

#include <algorithm>
#include <cstring>
#include <deque>
#include <thread>
#include <unordered_map>
#include <utility>
#include <vector>

#include "absl/base/thread_annotations.h"
#include "absl/strings/ascii.h"
#include "absl/strings/escaping.h"
#include "absl/strings/match.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/numbers.h"
#include "absl/synchronization/mutex.h"
#include "engine/http/easy_handle_pool.h"
#include "engine/http/redirect_policy.h"

namespace b24gate {
namespace {

constexpr int kMaxPollMillis = 1000;
constexpr char kShutDown[] = "transport shut down";
constexpr long kUploadBufferBytes = 512 * 1024;
constexpr long kDownloadBufferBytes = 256 * 1024;
// Easy handles kept between transfers: a few, as each may keep its buffers
// (the sizes above) while idle.
constexpr size_t kMaxIdleHandles = 4;

// One transfer: owns the request, the easy handle (lent by the loop's pool)
// and what is collected.
struct Transfer {
  uint64_t id = 0;
  StreamRequest request;
  StreamTransport::Done done;
  StreamResult result;
  EasyHandlePool* pool = nullptr;
  CURL* easy = nullptr;
  curl_slist* headers = nullptr;
  size_t head_sent = 0;
  size_t tail_sent = 0;
  // Base64 mode: the pipe's bytes not yet encoded (fewer than 3), and the
  // encoded text not yet handed to libcurl.
  std::string carry;
  std::string encoded;
  size_t encoded_sent = 0;
  std::string scratch;
  bool body_ended = false;
  bool body_began = false;  // a download's wanted body, announced by on_body
  std::string refusal;  // why our side stopped the transfer ("" = it did not)
  int hop_status = 0;   // the status line of the answer whose headers are coming
  const Clock* clock = nullptr;
  absl::Time last_progress;  // when a byte last moved (or the transfer began)
  size_t max_answer_bytes = 0;
  char error[CURL_ERROR_SIZE] = {};

  ~Transfer() {
    // Reset (by the pool) before the header list it points at goes.
    if (easy != nullptr) pool->Give(easy);
    if (headers != nullptr) curl_slist_free_all(headers);
  }
};

size_t CopyOut(const std::string& from, size_t* sent, char* to, size_t max) {
  const size_t n = std::min(max, from.size() - *sent);
  std::memcpy(to, from.data() + *sent, n);
  *sent += n;
  return n;
}

// The POST body: head, the pipe's bytes, tail. Never rewound.
size_t ReadBody(Transfer* t, char* buffer, size_t max);

size_t OnRead(char* buffer, size_t size, size_t count, void* user) {
  auto* t = static_cast<Transfer*>(user);
  const size_t n = ReadBody(t, buffer, size * count);
  if (n > 0 && n != CURL_READFUNC_PAUSE && n != CURL_READFUNC_ABORT) {
    t->last_progress = t->clock->Now();
  }
  return n;
}

// The pipe's next bytes as they are: how many were put into `buffer`, or
// CURL_READFUNC_PAUSE / CURL_READFUNC_ABORT; 0 once it ended (body_ended).
size_t ReadPipe(Transfer* t, char* buffer, size_t max) {
  size_t n = 0;
  switch (t->request.upload->Read(buffer, max, &n)) {
    case BytePipe::ReadResult::kData:
      t->result.bytes_sent += static_cast<int64_t>(n);
      if (t->request.upload_size >= 0 && t->result.bytes_sent > t->request.upload_size) {
        t->result.local_stop = LocalStop::kSizeMismatch;
        t->refusal = absl::StrCat("the stream is longer than its declared size of ",
                                  t->request.upload_size, " bytes");
        return CURL_READFUNC_ABORT;
      }
      if (t->request.max_upload_size >= 0 && t->result.bytes_sent > t->request.max_upload_size) {
        t->result.local_stop = LocalStop::kTooLarge;
        t->refusal = absl::StrCat("the stream passed the maximum size of ",
                                  t->request.max_upload_size, " bytes");
        return CURL_READFUNC_ABORT;
      }
      return n;
    case BytePipe::ReadResult::kEmpty:
      return CURL_READFUNC_PAUSE;
    case BytePipe::ReadResult::kAborted:
      t->result.local_stop = LocalStop::kPipeAborted;
      t->refusal = "the upload stream was abandoned";
      return CURL_READFUNC_ABORT;
    case BytePipe::ReadResult::kEnd:
      t->body_ended = true;
      if (t->request.upload_size >= 0 && t->result.bytes_sent != t->request.upload_size) {
        t->result.local_stop = LocalStop::kSizeMismatch;
        t->refusal = absl::StrCat("the stream ended after ", t->result.bytes_sent,
                                  " bytes, not its declared size of ", t->request.upload_size);
        return CURL_READFUNC_ABORT;
      }
      return 0;
  }
  return CURL_READFUNC_ABORT;
}

// The pipe's next bytes base64-encoded, as ReadPipe answers. Whole groups of
// three bytes are encoded as they come; the last one or two, padded, once
// the pipe ended. So the text never holds more than one read's worth.
size_t ReadEncoded(Transfer* t, char* buffer, size_t max) {
  while (true) {
    if (t->encoded_sent < t->encoded.size()) return CopyOut(t->encoded, &t->encoded_sent, buffer, max);
    if (t->body_ended) return 0;
    t->scratch.resize(std::max<size_t>(max / 4 * 3, 3));
    const size_t n = ReadPipe(t, t->scratch.data(), t->scratch.size());
    if (n == CURL_READFUNC_PAUSE || n == CURL_READFUNC_ABORT) return n;
    t->carry.append(t->scratch.data(), n);
    const size_t whole = t->body_ended ? t->carry.size() : t->carry.size() / 3 * 3;
    t->encoded.clear();
    t->encoded_sent = 0;
    absl::Base64Escape(absl::string_view(t->carry.data(), whole), &t->encoded);
    t->carry.erase(0, whole);
  }
}

size_t ReadBody(Transfer* t, char* buffer, size_t max) {
  if (t->head_sent < t->request.head.size()) return CopyOut(t->request.head, &t->head_sent, buffer, max);
  if (!t->body_ended || t->encoded_sent < t->encoded.size()) {
    const size_t n = t->request.base64 ? ReadEncoded(t, buffer, max) : ReadPipe(t, buffer, max);
    if (n != 0) return n;
  }
  const size_t n = CopyOut(t->request.tail, &t->tail_sent, buffer, max);
  t->result.body_complete = t->tail_sent == t->request.tail.size();
  return n;
}

// The length of the POST body when the pipe's size is known, else -1.
curl_off_t BodyLength(const StreamRequest& r) {
  if (r.upload_size < 0) return -1;
  const int64_t bytes = r.base64 ? (r.upload_size + 2) / 3 * 4 : r.upload_size;
  return static_cast<curl_off_t>(r.head.size() + r.tail.size()) + bytes;
}

int RefuseRewind(void*, curl_off_t, int) { return CURL_SEEKFUNC_FAIL; }

size_t Collect(Transfer* t, const char* data, size_t n) {
  if (n > t->max_answer_bytes - t->result.answer.size()) {
    t->result.local_stop = LocalStop::kAnswerTooLarge;
    t->refusal = absl::StrCat("the answer is larger than ", t->max_answer_bytes, " bytes");
    return 0;
  }
  t->result.answer.append(data, n);
  t->last_progress = t->clock->Now();
  return n;
}

// Whether an answer with `status` is the body a download asked for: 206 for
// a range, any 2xx otherwise (a portal that ignores the range answers 200
// with the whole file, which must not be taken for the rest of it).
bool IsWantedBody(const Transfer& t, long status) {
  if (!t.request.download) return false;
  if (t.request.range_from > 0) return status == 206;
  return status >= 200 && status < 300;
}

// Announces a download's wanted body once (StreamRequest::on_body).
void BodyBegins(Transfer* t) {
  if (t->body_began) return;
  t->body_began = true;
  if (t->request.on_body) t->request.on_body(t->result.content_type);
}

// A download's body goes into the pipe; everything else is collected.
size_t OnWrite(char* data, size_t size, size_t count, void* user) {
  auto* t = static_cast<Transfer*>(user);
  const size_t n = size * count;
  long status = 0;
  curl_easy_getinfo(t->easy, CURLINFO_RESPONSE_CODE, &status);
  if (!IsWantedBody(*t, status)) return Collect(t, data, n);
  BodyBegins(t);
  switch (t->request.download->Write(absl::string_view(data, n))) {
    case BytePipe::WriteResult::kTaken:
      t->result.bytes_received += static_cast<int64_t>(n);
      t->last_progress = t->clock->Now();
      return n;
    case BytePipe::WriteResult::kFull:
      return CURL_WRITEFUNC_PAUSE;  // libcurl keeps `data` and offers it again
    case BytePipe::WriteResult::kAborted:
      t->result.local_stop = LocalStop::kPipeAborted;
      t->refusal = "the download stream was abandoned";
      return 0;
  }
  return 0;
}

// Whether a download may follow the redirect to `location`, decided here,
// before libcurl follows it: libcurl's own rules (REDIR_PROTOCOLS) cannot
// say why, and ours are the call path's (redirect_policy.h). Refused, the
// transfer stops (a header callback answering 0) before anything of it
// reached the pipe, and the message names only the target's origin.
bool CheckRedirect(Transfer* t, absl::string_view location) {
  const RedirectDecision d = DecideDownloadRedirect(t->request.url, location);
  if (d.follow) return true;
  t->result.local_stop = LocalStop::kRedirectRefused;
  t->refusal = absl::StrCat("the portal redirected the download to ",
                            d.to.empty() ? "an unusable address" : d.to,
                            " and the gateway did not follow: ", d.why);
  return false;
}

size_t OnHeader(char* data, size_t size, size_t count, void* user) {
  auto* t = static_cast<Transfer*>(user);
  absl::string_view line(data, size * count);
  // Each answer of a redirect chain starts with its status line: only the
  // last one's Content-Type counts.
  if (absl::StartsWith(line, "HTTP/")) {
    t->result.content_type.clear();
    const size_t space = line.find(' ');
    if (space == absl::string_view::npos ||
        !absl::SimpleAtoi(line.substr(space + 1, 3), &t->hop_status)) {
      t->hop_status = 0;
    }
  }
  if (absl::StartsWithIgnoreCase(line, "content-type:")) {
    t->result.content_type = std::string(absl::StripAsciiWhitespace(line.substr(13)));
  }
  if (t->request.max_redirects > 0 && t->hop_status >= 300 && t->hop_status < 400 &&
      absl::StartsWithIgnoreCase(line, "location:")) {
    return CheckRedirect(t, line.substr(9)) ? line.size() : 0;
  }
  return line.size();
}

template <typename T>
void SetOpt(CURL* easy, CURLoption option, T value, CURLcode* first_error) {
  const CURLcode result = curl_easy_setopt(easy, option, value);
  if (result != CURLE_OK && *first_error == CURLE_OK) *first_error = result;
}

CURLcode Configure(Transfer* t, const StreamTransportOptions& options) {
  CURL* easy = t->easy;
  const StreamRequest& r = t->request;
  CURLcode setup = CURLE_OK;
  SetOpt(easy, CURLOPT_URL, r.url.c_str(), &setup);
  SetOpt(easy, CURLOPT_PROTOCOLS_STR, "http,https", &setup);
  SetOpt(easy, CURLOPT_NOSIGNAL, 1L, &setup);
  SetOpt(easy, CURLOPT_ERRORBUFFER, t->error, &setup);
  SetOpt(easy, CURLOPT_WRITEFUNCTION, &OnWrite, &setup);
  SetOpt(easy, CURLOPT_WRITEDATA, t, &setup);
  SetOpt(easy, CURLOPT_HEADERFUNCTION, &OnHeader, &setup);
  SetOpt(easy, CURLOPT_HEADERDATA, t, &setup);
  SetOpt(easy, CURLOPT_USERAGENT, options.user_agent.c_str(), &setup);
  SetOpt(easy, CURLOPT_FOLLOWLOCATION, 0L, &setup);
  SetOpt(easy, CURLOPT_TCP_KEEPALIVE, 1L, &setup);
  // Larger buffers than libcurl's defaults (64 KiB up, 16 KiB down): fewer
  // callbacks per megabyte, a bounded cost per transfer.
  SetOpt(easy, CURLOPT_UPLOAD_BUFFERSIZE, kUploadBufferBytes, &setup);
  SetOpt(easy, CURLOPT_BUFFERSIZE, kDownloadBufferBytes, &setup);
  SetOpt(easy, CURLOPT_CONNECTTIMEOUT_MS,
         static_cast<long>(absl::ToInt64Milliseconds(options.connect_timeout)), &setup);
  SetOpt(easy, CURLOPT_SSL_VERIFYPEER, r.tls.verify ? 1L : 0L, &setup);
  SetOpt(easy, CURLOPT_SSL_VERIFYHOST, r.tls.verify ? 2L : 0L, &setup);
  if (!r.tls.ca_file.empty()) SetOpt(easy, CURLOPT_CAINFO, r.tls.ca_file.c_str(), &setup);
  if (r.upload) {
    SetOpt(easy, CURLOPT_POST, 1L, &setup);
    SetOpt(easy, CURLOPT_READFUNCTION, &OnRead, &setup);
    SetOpt(easy, CURLOPT_READDATA, t, &setup);
    SetOpt(easy, CURLOPT_SEEKFUNCTION, &RefuseRewind, &setup);
    SetOpt(easy, CURLOPT_POSTFIELDSIZE_LARGE, BodyLength(r), &setup);
    t->headers = curl_slist_append(t->headers, ("Content-Type: " + r.content_type).c_str());
    t->headers = curl_slist_append(t->headers, "Expect:");
  } else {
    SetOpt(easy, CURLOPT_HTTPGET, 1L, &setup);
    if (r.range_from > 0) SetOpt(easy, CURLOPT_RANGE, absl::StrCat(r.range_from, "-").c_str(), &setup);
    if (r.max_redirects > 0) {
      SetOpt(easy, CURLOPT_FOLLOWLOCATION, 1L, &setup);
      SetOpt(easy, CURLOPT_MAXREDIRS, static_cast<long>(r.max_redirects), &setup);
      // CheckRedirect decides each hop; libcurl is held to the same rule
      // too. A redirect to another origin (a storage host) gets no
      // credential of ours: a download sets no Authorization header (and
      // libcurl would not send one to another host without
      // UNRESTRICTED_AUTH), no cookies and no Referer -- only the URL the
      // portal itself wrote in the Location.
      const bool tls = absl::StartsWithIgnoreCase(r.url, "https://");
      SetOpt(easy, CURLOPT_REDIR_PROTOCOLS_STR, tls ? "https" : "http,https", &setup);
      SetOpt(easy, CURLOPT_UNRESTRICTED_AUTH, 0L, &setup);
      SetOpt(easy, CURLOPT_AUTOREFERER, 0L, &setup);
    }
  }
  if (t->headers != nullptr) SetOpt(easy, CURLOPT_HTTPHEADER, t->headers, &setup);
  return setup;
}

// Nothing of the request reached a connection: surely not executed.
TransportFailure Classify(CURLcode code, CURL* easy) {
  if (code == CURLE_COULDNT_RESOLVE_HOST || code == CURLE_COULDNT_CONNECT ||
      code == CURLE_URL_MALFORMAT || code == CURLE_UNSUPPORTED_PROTOCOL) {
    return TransportFailure::kNotSent;
  }
  curl_off_t request_size = 0;
  curl_easy_getinfo(easy, CURLINFO_REQUEST_SIZE, &request_size);
  return request_size == 0 ? TransportFailure::kNotSent : TransportFailure::kAfterSend;
}

void Finish(std::unique_ptr<Transfer> t) {
  const bool ok = t->result.failure == TransportFailure::kNone;
  // The other side of each pipe stops waiting: a whole download ends, the
  // rest is abandoned.
  if (t->request.download) {
    t->request.download->SetWriterWake(nullptr);
    if (ok && IsWantedBody(*t, t->result.status)) {
      BodyBegins(t.get());  // an empty body
      t->request.download->Close();
    } else {
      t->request.download->Abort();
    }
  }
  if (t->request.upload) {
    t->request.upload->SetReaderWake(nullptr);
    if (!ok || !t->body_ended) t->request.upload->Abort();
  }
  StreamResult result = std::move(t->result);
  StreamTransport::Done done = std::move(t->done);
  t.reset();
  done(std::move(result));
}

void Fail(std::unique_ptr<Transfer> t, TransportFailure failure, std::string message) {
  t->result.failure = failure;
  t->result.failure_message = std::move(message);
  Finish(std::move(t));
}

}  // namespace

class StreamTransport::Loop {
 public:
  Loop(const Clock* clock, StreamTransportOptions options)
      : clock_(clock), options_(std::move(options)), multi_(curl_multi_init()) {
    thread_ = std::thread([this] { Run(); });
  }

  ~Loop() {
    {
      absl::MutexLock lock(&mu_);
      stopping_ = true;
    }
    curl_multi_wakeup(multi_);
    thread_.join();
    curl_multi_cleanup(multi_);
  }

  void Enqueue(std::unique_ptr<Transfer> t) {
    {
      absl::MutexLock lock(&mu_);
      t->id = next_id_++;
      queued_.push_back(std::move(t));
    }
    curl_multi_wakeup(multi_);
  }

  // A pipe has data or room for transfer `id`: resume it (if still there).
  void Wake(uint64_t id) {
    {
      absl::MutexLock lock(&mu_);
      wakes_.push_back(id);
    }
    curl_multi_wakeup(multi_);
  }

 private:
  void Run() {
    while (true) {
      std::deque<std::unique_ptr<Transfer>> fresh;
      std::vector<uint64_t> wakes;
      bool stopping;
      {
        absl::MutexLock lock(&mu_);
        fresh.swap(queued_);
        wakes.swap(wakes_);
        stopping = stopping_;
      }
      for (auto& t : fresh) waiting_.push_back(std::move(t));
      if (stopping) break;
      for (uint64_t id : wakes) Resume(id);
      while (!waiting_.empty() && static_cast<int>(running_.size()) < options_.max_transfers) {
        std::unique_ptr<Transfer> t = std::move(waiting_.front());
        waiting_.pop_front();
        Begin(std::move(t));
      }
      int still_running = 0;
      curl_multi_perform(multi_, &still_running);
      Reap();
      FailStalled(clock_->Now());
      curl_multi_poll(multi_, nullptr, 0, kMaxPollMillis, nullptr);
    }
    for (auto& [easy, t] : running_) {
      curl_multi_remove_handle(multi_, easy);
      Fail(std::move(t), TransportFailure::kAfterSend, kShutDown);
    }
    running_.clear();
    for (auto& t : waiting_) Fail(std::move(t), TransportFailure::kNotSent, kShutDown);
    waiting_.clear();
    // Completions above may have started more: refuse them too (outside
    // the lock, as a completion may call Start again).
    while (true) {
      std::deque<std::unique_ptr<Transfer>> late;
      {
        absl::MutexLock lock(&mu_);
        late.swap(queued_);
      }
      if (late.empty()) break;
      for (auto& t : late) Fail(std::move(t), TransportFailure::kNotSent, kShutDown);
    }
  }

  void Resume(uint64_t id) {
    auto it = by_id_.find(id);
    if (it != by_id_.end()) curl_easy_pause(it->second, CURLPAUSE_CONT);
  }

  void Begin(std::unique_ptr<Transfer> t) {
    t->pool = &pool_;
    t->easy = pool_.Take();
    if (t->easy == nullptr) return Fail(std::move(t), TransportFailure::kNotSent, "curl_easy_init failed");
    t->max_answer_bytes = options_.max_answer_bytes;
    t->clock = clock_;
    const CURLcode setup = Configure(t.get(), options_);
    if (setup != CURLE_OK) {
      return Fail(std::move(t), TransportFailure::kNotSent,
                  absl::StrCat("curl setup failed: ", curl_easy_strerror(setup)));
    }
    const uint64_t id = t->id;
    auto wake = [this, id] { Wake(id); };
    if (t->request.upload) t->request.upload->SetReaderWake(wake);
    if (t->request.download) t->request.download->SetWriterWake(wake);
    if (curl_multi_add_handle(multi_, t->easy) != CURLM_OK) {
      return Fail(std::move(t), TransportFailure::kNotSent, "curl_multi_add_handle failed");
    }
    t->last_progress = t->clock->Now();
    by_id_[id] = t->easy;
    running_[t->easy] = std::move(t);
  }

  // Fails the transfers no byte moved for in their stall_timeout (a paused
  // one too: libcurl's own low-speed check skips paused transfers).
  void FailStalled(absl::Time now) {
    for (auto it = running_.begin(); it != running_.end();) {
      Transfer& t = *it->second;
      if (now - t.last_progress < t.request.stall_timeout) {
        ++it;
        continue;
      }
      curl_multi_remove_handle(multi_, it->first);
      std::unique_ptr<Transfer> stalled = std::move(it->second);
      by_id_.erase(stalled->id);
      it = running_.erase(it);
      stalled->result.local_stop = LocalStop::kStalled;
      const TransportFailure failure = Classify(CURLE_OPERATION_TIMEDOUT, stalled->easy);
      std::string why =
          absl::StrCat("no byte moved for ", absl::FormatDuration(stalled->request.stall_timeout));
      Fail(std::move(stalled), failure, std::move(why));
    }
  }

  void Reap() {
    int left = 0;
    while (CURLMsg* message = curl_multi_info_read(multi_, &left)) {
      if (message->msg != CURLMSG_DONE) continue;
      CURL* easy = message->easy_handle;
      const CURLcode code = message->data.result;
      curl_multi_remove_handle(multi_, easy);
      auto it = running_.find(easy);
      if (it == running_.end()) continue;
      std::unique_ptr<Transfer> t = std::move(it->second);
      running_.erase(it);
      by_id_.erase(t->id);
      long status = 0;
      curl_easy_getinfo(easy, CURLINFO_RESPONSE_CODE, &status);
      t->result.status = static_cast<int>(status);
      if (code == CURLE_OK) {
        Finish(std::move(t));
        continue;
      }
      const TransportFailure failure = Classify(code, easy);
      std::string text = !t->refusal.empty() ? t->refusal
                                             : absl::StrCat("curl error ", static_cast<int>(code),
                                                            ": ", curl_easy_strerror(code));
      Fail(std::move(t), failure, std::move(text));
    }
  }

  const Clock* const clock_;
  const StreamTransportOptions options_;
  CURLM* const multi_;
  std::thread thread_;

  absl::Mutex mu_;
  std::deque<std::unique_ptr<Transfer>> queued_ ABSL_GUARDED_BY(mu_);
  std::vector<uint64_t> wakes_ ABSL_GUARDED_BY(mu_);
  bool stopping_ ABSL_GUARDED_BY(mu_) = false;
  uint64_t next_id_ ABSL_GUARDED_BY(mu_) = 1;

  // Loop thread only.
  EasyHandlePool pool_{kMaxIdleHandles};
  std::deque<std::unique_ptr<Transfer>> waiting_;
  std::unordered_map<CURL*, std::unique_ptr<Transfer>> running_;
  std::unordered_map<uint64_t, CURL*> by_id_;
};

StreamTransport::StreamTransport(const Clock* clock, StreamTransportOptions options) {
  static const CURLcode init = curl_global_init(CURL_GLOBAL_DEFAULT);
  (void)init;
  loop_ = std::make_unique<Loop>(clock, std::move(options));
}

StreamTransport::~StreamTransport() = default;

void StreamTransport::Start(StreamRequest request, Done done) {
  auto t = std::make_unique<Transfer>();
  t->request = std::move(request);
  t->done = std::move(done);
  loop_->Enqueue(std::move(t));
}

}  // namespace b24gate
