// Turns a group of queued work into the one HTTP request that carries it:
//   - one call alone: POST <base>/<method> with its params as the JSON body;
//   - calls sharing a batch: POST <base>/batch, commands keyed c0, c1, ...
//     as "method?query";
//   - a pre-formed batch: POST <base>/batch with its own keys, in order (so
//     `$result[key]` references to earlier commands work), and its `halt`;
//     a REST 3.0 one gets only its keys here (rest_v3.h makes its body).
//
// Thread-safety: a pure function.
#ifndef B24GATE_ENGINE_PORTAL_REQUEST_ENCODER_H_
#define B24GATE_ENGINE_PORTAL_REQUEST_ENCODER_H_

#include <string>
#include <vector>

#include "engine/portal/work.h"

namespace b24gate {

struct EncodedRequest {
  std::string method;  // the REST method in the URL: the call's, or "batch"
  std::string body;    // JSON
  // Batch keys in the order of the group's work (coalesced) or of the
  // batch's commands (pre-formed); empty for a single call.
  std::vector<std::string> keys;
  int commands = 0;  // commands carried
};

// REQUIRES: `group` non-empty; a pre-formed batch or a call that must
// travel alone is the group's only work.
EncodedRequest EncodeRequest(const std::vector<WorkPtr>& group);

}  // namespace b24gate

#endif  // B24GATE_ENGINE_PORTAL_REQUEST_ENCODER_H_
