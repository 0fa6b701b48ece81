// Keeping answers within gRPC's message size.
//
// gRPC clients refuse messages above 4 MiB by default. Streams cut their
// results into messages of about kStreamChunkBytes. A unary answer cannot be
// cut, so one that outgrows kMaxMessageBytes is fitted by a fixed rule that
// never drops what cannot be asked for again:
//   1. the bodies of read results (methods safe to repeat) go first, largest
//      first, each replaced by a per-item RESOURCE_EXHAUSTED error
//      (RESULT_TOO_LARGE) telling the caller to read it through a stream;
//   2. then the `time` objects of the remaining results (bookkeeping);
//   3. the results of writes are never dropped: if they alone are too large
//      the answer goes out as it is, and a client must raise its receive
//      limit to read it (the unary bulk cap makes this rare; CallMany avoids
//      it).
//
// Thread-safety: pure functions.
#ifndef B24GATE_SERVICE_MESSAGE_LIMIT_H_
#define B24GATE_SERVICE_MESSAGE_LIMIT_H_

#include <cstddef>
#include <vector>

#include "absl/status/status.h"
#include "bitrix24/gateway/v1/gateway.pb.h"

namespace b24gate {

// Below gRPC's default 4 MiB, with room for the envelope.
inline constexpr size_t kMaxMessageBytes = 4 * 1024 * 1024 - 64 * 1024;
// Streamed messages are cut at about this size.
inline constexpr size_t kStreamChunkBytes = 1024 * 1024;

// The per-item reason for a read result dropped to fit the answer.
inline constexpr char kReasonResultTooLarge[] = "RESULT_TOO_LARGE";

// RESOURCE_EXHAUSTED for a single read whose answer is too large.
absl::Status TooLarge(size_t bytes);

// One result of a unary answer, and whether its method is a read.
struct FittableResult {
  bitrix24::gateway::v1::CallResult* result;
  bool is_read;
};

// Applies the rule above to `results`, parts of an answer of
// `message_bytes` bytes, until it is at most kMaxMessageBytes or nothing more
// may go.
void FitUnderMessageLimit(std::vector<FittableResult> results, size_t message_bytes);

}  // namespace b24gate

#endif  // B24GATE_SERVICE_MESSAGE_LIMIT_H_
