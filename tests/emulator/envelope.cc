#include "tests/emulator/envelope.h"

#include <cmath>
#include <cstdint>

namespace b24emu {
namespace {

std::string IsoDate(absl::Time t) {
  return absl::FormatTime("%Y-%m-%dT%H:%M:%S%Ez", t, absl::UTCTimeZone());
}

double RoundMicros(double seconds) { return std::round(seconds * 1e6) / 1e6; }

}  // namespace

double UnixSeconds(absl::Time t) {
  return static_cast<double>(absl::ToUnixMicros(t)) / 1e6;
}

nlohmann::ordered_json TimeObject(const CallTiming& timing, bool integer_reset_at) {
  nlohmann::ordered_json time = nlohmann::ordered_json::object();
  time.get_ref<nlohmann::ordered_json::object_t&>().reserve(9);  // grown, it would copy
  time["start"] = UnixSeconds(timing.start);
  time["finish"] = UnixSeconds(timing.finish);
  time["duration"] = RoundMicros(absl::ToDoubleSeconds(timing.finish - timing.start));
  time["processing"] = RoundMicros(absl::ToDoubleSeconds(timing.processing));
  time["date_start"] = IsoDate(timing.start);
  time["date_finish"] = IsoDate(timing.finish);
  const double reset_at = absl::ToDoubleSeconds(timing.operating.reset_at - absl::UnixEpoch());
  if (integer_reset_at) {
    time["operating_reset_at"] = static_cast<int64_t>(std::ceil(reset_at));
  } else {
    time["operating_reset_at"] = std::ceil(reset_at * 1000) / 1000;
  }
  time["operating"] = RoundMicros(absl::ToDoubleSeconds(timing.operating.used));
  return time;
}

nlohmann::ordered_json ErrorObject(const std::string& code, const std::string& description) {
  return nlohmann::ordered_json{{"error", code}, {"error_description", description}};
}

}  // namespace b24emu
