// The emulator's access log (--access-log FILE): one line per HTTP request it
// answered, appended to FILE, so that a failed test shows what reached the
// portal and what it answered (the e2e harness keeps it beside the test's
// output, tests/support/kept_logs.h):
//
//   2026-12-06T07:31:13.633Z POST /rest/1/***/crm.lead.list 200 1234
//
// (time written, method, path, status, body bytes: 0 for a streamed reply).
// No secret is written: the webhook code in a path is masked, and the query
// string (where OAuth tokens, client secrets and download tokens travel),
// headers and bodies are never written.
//
// Thread-safety: Write may be called from any thread: one write(2) per line to
// a file opened O_APPEND keeps lines whole, with no lock, and takes a few
// microseconds beside a request's handling.
#ifndef B24EMU_ACCESS_LOG_H_
#define B24EMU_ACCESS_LOG_H_

#include <cstddef>
#include <memory>
#include <string>

#include "absl/status/statusor.h"
#include "absl/strings/string_view.h"

namespace b24emu {

// `path` with its webhook code masked: "/rest/1/CODE/crm.lead.list" (also
// under /rest/api/) is "/rest/1/***/crm.lead.list", and a stored file's link
// "/upload/b24emu-crm/HASH" is "/upload/b24emu-crm/***". Other paths as they
// are.
std::string MaskedPath(absl::string_view path);

class AccessLog {
 public:
  // Appends to `path` (created if missing).
  static absl::StatusOr<std::unique_ptr<AccessLog>> Open(const std::string& path);
  ~AccessLog();
  AccessLog(const AccessLog&) = delete;
  AccessLog& operator=(const AccessLog&) = delete;

  // One line; `path` is masked here. A line the file refuses is dropped.
  void Write(absl::string_view method, absl::string_view path, int status, size_t body_bytes);

 private:
  explicit AccessLog(int fd) : fd_(fd) {}
  const int fd_;
};

}  // namespace b24emu

#endif  // B24EMU_ACCESS_LOG_H_
