// Fuzzes ParseInboundPost: the body of a POST to the gateway's inbound event
// endpoint comes from anybody on the internet, so any bytes must be read or
// refused with INVALID_ARGUMENT -- never crash, throw, or nest deeper than
// the limit. An accepted post has a valid event name and only text in auth.
#include <algorithm>
#include <cstddef>
#include <cstdint>
#include <string>

#include "engine/events/inbound_post.h"
#include "tests/fuzz/fuzz_check.h"

namespace {

size_t Depth(const nlohmann::ordered_json& j) {
  if (!j.is_structured()) return 0;
  size_t deepest = 0;
  for (const auto& child : j) deepest = std::max(deepest, Depth(child));
  return deepest + 1;
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  const std::string body(reinterpret_cast<const char*>(data), size);
  b24gate::InboundPostLimits limits;
  absl::StatusOr<b24gate::InboundPost> post = b24gate::ParseInboundPost(body, limits);
  if (!post.ok()) {
    FUZZ_CHECK(post.status().code() == absl::StatusCode::kInvalidArgument,
               "refusal is not INVALID_ARGUMENT: " + post.status().ToString());
    return 0;
  }
  FUZZ_CHECK(!post->event.empty() && post->event.size() <= 64, "event name out of bounds");
  for (char c : post->event) {
    FUZZ_CHECK((c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') || c == '_',
               "event name with a character outside A-Z 0-9 _");
  }
  FUZZ_CHECK(post->data.is_object(), "data is not an object");
  FUZZ_CHECK(Depth(post->data) <= limits.max_depth + 1, "data nests deeper than the limit");
  for (const auto& [key, value] : post->auth.items()) {
    FUZZ_CHECK(value.is_string(), "auth field that is not text");
  }
  return 0;
}
