// Fuzzes HttpRequestReader: every byte of a request to the inbound endpoint
// comes from anybody on the internet, in pieces of any size. Any bytes must
// be read or refused with one of the reader's statuses and reasons -- never
// crash, and never keep more than the bounds -- and the outcome must not
// depend on how the bytes were split (the first input byte picks a split).
#include <cstddef>
#include <cstdint>
#include <set>
#include <string>

#include "absl/strings/string_view.h"
#include "service/http_request_reader.h"
#include "tests/fuzz/fuzz_check.h"

namespace {

using b24gate::HttpReadLimits;
using b24gate::HttpRequestReader;
using Stage = HttpRequestReader::Stage;

// Small bounds, so that the fuzzer reaches them.
HttpReadLimits Limits() {
  HttpReadLimits limits;
  limits.max_head_bytes = 512;
  limits.max_headers = 8;
  limits.max_body_bytes = 1024;
  return limits;
}

// What a reader ended with, to compare two ways of feeding it.
std::string Outcome(const HttpRequestReader& r) {
  switch (r.stage()) {
    case Stage::kDone:
      return "done " + r.method() + " " + r.path() + " " + r.body();
    case Stage::kRefused:
      return "refused " + std::to_string(r.refusal().status) + " " + r.refusal().reason;
    default:
      return r.stage() == Stage::kHead ? "head" : "body";
  }
}

void Check(const HttpRequestReader& r, const HttpReadLimits& limits) {
  if (r.stage() == Stage::kDone) {
    FUZZ_CHECK(r.body().size() <= limits.max_body_bytes, "a body over the bound");
    FUZZ_CHECK(!r.method().empty() && r.path().rfind('/', 0) == 0, "a request without method or path");
  }
  if (r.stage() == Stage::kRefused) {
    static const std::set<std::string> kReasons = {"malformed", "truncated", "too_large", "headers_too_large"};
    static const std::set<int> kStatuses = {400, 413, 415, 431};
    FUZZ_CHECK(kReasons.count(r.refusal().reason) == 1, "an unknown reason: " + r.refusal().reason);
    FUZZ_CHECK(kStatuses.count(r.refusal().status) == 1, "an unknown status");
  }
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  if (size == 0) return 0;
  const size_t split = data[0] % size;
  const absl::string_view bytes(reinterpret_cast<const char*>(data) + 1, size - 1);
  const HttpReadLimits limits = Limits();
  HttpRequestReader whole(limits);
  whole.Feed(bytes);
  whole.End();
  Check(whole, limits);
  HttpRequestReader pieces(limits);
  pieces.Feed(bytes.substr(0, split));
  pieces.Feed(bytes.substr(std::min(split, bytes.size())));
  pieces.End();
  Check(pieces, limits);
  FUZZ_CHECK(Outcome(whole) == Outcome(pieces), "the outcome depends on the split: " + Outcome(whole) + " | " +
                                                     Outcome(pieces));
  return 0;
}
