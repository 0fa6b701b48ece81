#include "service/limits_config.h"

#include <climits>
#include <cstdint>

#include "absl/strings/str_cat.h"

namespace b24gate {
namespace {

// Slack above max_request_bytes before gRPC itself refuses (see header).
constexpr int64_t kGrpcReceiveSlack = 1024 * 1024;
// gRPC sizes are ints; a request of a gigabyte is never reasonable.
constexpr int64_t kMaxRequestBytes = 1024 * 1024 * 1024;

// A whole number in [min, max] at j[key], when present.
absl::Status ReadWhole(const ConfigJson& j, const char* key, const std::string& where, int64_t min,
                       int64_t max, int64_t* out) {
  auto it = j.find(key);
  if (it == j.end()) return absl::OkStatus();
  if (!it->is_number_integer() || it->get<int64_t>() < min || it->get<int64_t>() > max ||
      (it->is_number_unsigned() && it->get<uint64_t>() > static_cast<uint64_t>(max))) {
    return Bad(absl::StrCat(where, ".", key),
               absl::StrCat("must be a whole number from ", min, " to ", max));
  }
  *out = it->get<int64_t>();
  return absl::OkStatus();
}

}  // namespace

absl::Status ReadLimits(const ConfigJson& j, const std::string& where, InputLimits* limits) {
  if (!j.is_object()) return Bad(where, "must be an object");
  B24GATE_RETURN_IF_ERROR(CheckKeys(j, where,
                                    {"max_depth", "max_params_bytes", "max_string_bytes",
                                     "max_bulk_items", "max_call_many_items", "max_ids",
                                     "max_batch_commands", "max_request_bytes"}));
  int64_t depth = limits->max_depth;
  // Each JSON level costs up to three protobuf messages while decoding.
  B24GATE_RETURN_IF_ERROR(ReadWhole(j, "max_depth", where, 1, 1000, &depth));
  limits->max_depth = static_cast<int>(depth);
  struct Size {
    const char* key;
    size_t* field;
  };
  for (const Size& s : {Size{"max_params_bytes", &limits->max_params_bytes},
                        Size{"max_string_bytes", &limits->max_string_bytes},
                        Size{"max_bulk_items", &limits->max_bulk_items},
                        Size{"max_call_many_items", &limits->max_call_many_items},
                        Size{"max_ids", &limits->max_ids},
                        Size{"max_batch_commands", &limits->max_batch_commands},
                        Size{"max_request_bytes", &limits->max_request_bytes}}) {
    int64_t value = static_cast<int64_t>(*s.field);
    B24GATE_RETURN_IF_ERROR(ReadWhole(j, s.key, where, 1, kMaxRequestBytes, &value));
    *s.field = static_cast<size_t>(value);
  }
  return absl::OkStatus();
}

int GrpcReceiveLimit(const InputLimits& limits) {
  int64_t bytes = static_cast<int64_t>(limits.max_request_bytes) + kGrpcReceiveSlack;
  return static_cast<int>(bytes > INT_MAX ? INT_MAX : bytes);
}

}  // namespace b24gate
