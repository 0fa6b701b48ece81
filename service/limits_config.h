// The config file's "limits" section: what a request may hold (see
// engine/gateway/input_limits.h for each limit and README "Input limits").
//
//   "limits": {"max_depth": 32, "max_params_bytes": 2097152, "max_string_bytes": 1048576,
//              "max_bulk_items": 1000, "max_call_many_items": 100000, "max_ids": 10000,
//              "max_batch_commands": 1000, "max_request_bytes": 4194304}
//
// Absent keys keep their defaults. The older top-level "max_bulk_items" is
// still read; "limits.max_bulk_items" wins over it.
//
// Thread-safety: pure functions.
#ifndef B24GATE_SERVICE_LIMITS_CONFIG_H_
#define B24GATE_SERVICE_LIMITS_CONFIG_H_

#include <string>

#include "absl/status/status.h"
#include "engine/gateway/input_limits.h"
#include "service/config_reading.h"

namespace b24gate {

// Reads the object `j` (at `where`, e.g. "config.limits") into `limits`.
// INVALID_ARGUMENT naming the key for unknown keys and out-of-range values.
absl::Status ReadLimits(const ConfigJson& j, const std::string& where, InputLimits* limits);

// gRPC's receive limit for `limits`: room above max_request_bytes, so a
// request a little too large is answered by the gateway's own
// INVALID_ARGUMENT, and only a far larger one is cut off by gRPC
// (RESOURCE_EXHAUSTED, "received message larger than max").
int GrpcReceiveLimit(const InputLimits& limits);

}  // namespace b24gate

#endif  // B24GATE_SERVICE_LIMITS_CONFIG_H_
