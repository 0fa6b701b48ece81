// Injected transport and server faults (README "Faults").
//
// SPEC is a comma list of KIND=P (probability 0..1 per REST request) or
// KIND=@N (exactly the next N matching REST requests), plus an optional
// method=NAME that restricts the whole spec to requests for that top-level
// method (a batch is method `batch`). Kinds:
//   500       HTTP 500 INTERNAL_SERVER_ERROR JSON, after executing the call
//   502       non-JSON 502 page, before executing
//   504       non-JSON 504 page, after executing
//   reset     execute, then drop the connection without a response
//   delay     execute, then hold the response for the fault delay
//   redirect  302 to the same server under another host name, before executing
//   overload  503 OVERLOAD_LIMIT, before executing
//   cut       drop the connection while the request's body arrives (after
//             half of it, or 64 KiB when its length is not given), before
//             executing: the portal never had a whole request
// At most one fault hits a request: counted (@N) kinds first, in spec order;
// otherwise one uniform draw is matched against the cumulative probabilities.
//
// Thread-safety: FaultInjector is safe for concurrent use.
#ifndef B24EMU_FAULTS_H_
#define B24EMU_FAULTS_H_

#include <cstdint>
#include <random>
#include <string>
#include "absl/strings/string_view.h"
#include <vector>

#include "absl/base/thread_annotations.h"
#include "absl/status/statusor.h"
#include "absl/synchronization/mutex.h"

namespace b24emu {

enum class FaultKind { kNone, k500, k502, k504, kReset, kDelay, kRedirect, kOverload, kCut };

// The SPEC name of a kind ("500", "reset", ...); "none" for kNone.
const char* FaultName(FaultKind kind);

// True for the kinds that answer without executing the call.
bool FaultPreventsExecution(FaultKind kind);

struct FaultSpec {
  struct Entry {
    FaultKind kind = FaultKind::kNone;
    double probability = 0;  // used when remaining < 0
    int64_t remaining = -1;  // @N: how many requests are still to be hit
  };
  std::vector<Entry> entries;
  std::string method;  // empty: every method
};

// Parses SPEC; an empty string or "none" is the empty spec.
absl::StatusOr<FaultSpec> ParseFaultSpec(absl::string_view text);

class FaultInjector {
 public:
  explicit FaultInjector(uint64_t seed);

  void Set(FaultSpec spec);
  // The current spec as text, with @N counts as they stand now.
  std::string Describe() const;

  // Decides the fault for one REST request for `method` (normalised).
  FaultKind Draw(const std::string& method);

 private:
  mutable absl::Mutex mu_;
  FaultSpec spec_ ABSL_GUARDED_BY(mu_);
  std::mt19937_64 rng_ ABSL_GUARDED_BY(mu_);
};

}  // namespace b24emu

#endif  // B24EMU_FAULTS_H_
