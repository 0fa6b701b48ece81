#include "engine/http/keep_alive_header.h"

#include <cstdint>

#include "absl/strings/ascii.h"
#include "absl/strings/match.h"
#include "absl/strings/numbers.h"
#include "absl/strings/str_split.h"

namespace b24gate {

std::optional<absl::Duration> KeepAliveTimeout(absl::string_view value) {
  std::optional<absl::Duration> timeout;
  for (absl::string_view part : absl::StrSplit(value, ',')) {
    std::pair<absl::string_view, absl::string_view> pair =
        absl::StrSplit(absl::StripAsciiWhitespace(part), absl::MaxSplits('=', 1));
    int64_t seconds = 0;
    if (!absl::EqualsIgnoreCase(absl::StripAsciiWhitespace(pair.first), "timeout") ||
        !absl::SimpleAtoi(absl::StripAsciiWhitespace(pair.second), &seconds) || seconds < 1 ||
        seconds > 86400) {
      continue;
    }
    if (!timeout || absl::Seconds(seconds) < *timeout) timeout = absl::Seconds(seconds);
  }
  return timeout;
}

}  // namespace b24gate
