// The pieces of a Bitrix24 answer: the `time` object and error bodies.
//
// Thread-safety: pure functions.
#ifndef B24EMU_ENVELOPE_H_
#define B24EMU_ENVELOPE_H_

#include <string>

#include <nlohmann/json.hpp>

#include "absl/time/time.h"
#include "tests/emulator/operating_limiter.h"

namespace b24emu {

struct CallTiming {
  absl::Time start;
  absl::Time finish;
  absl::Duration processing;
  OperatingState operating;
};

// {start, finish, duration, processing, date_start, date_finish,
//  operating_reset_at, operating} in the order a real portal writes them.
// `integer_reset_at`: operating_reset_at as whole seconds rounded up (what
// the real portal sends); otherwise fractional, for scaled-down time.
nlohmann::ordered_json TimeObject(const CallTiming& timing, bool integer_reset_at);

// {"error": code, "error_description": description}.
nlohmann::ordered_json ErrorObject(const std::string& code, const std::string& description);

// Unix seconds with microsecond precision, like PHP microtime(true).
double UnixSeconds(absl::Time t);

}  // namespace b24emu

#endif  // B24EMU_ENVELOPE_H_
