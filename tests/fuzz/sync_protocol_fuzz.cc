// Fuzzes the budget sync protocol's encoding (engine/budget/sync_protocol.h).
//
// Decode: any reply -- a different script's, a damaged key's -- is either
// refused or read within range (slots 0..asked, a finite level >= 0, waits and
// reservations >= 0, reports finite and >= 0); never a crash.
// Encode: a request of any method names and figures keeps the script's
// layout (11 fixed arguments, 4 per report, 1, 3 per reservation), and a
// report the script stores as given reads back as it was sent.
#include <fuzzer/FuzzedDataProvider.h>

#include <cmath>
#include <cstddef>
#include <cstdint>
#include <string>
#include <vector>

#include "absl/strings/str_cat.h"
#include "engine/budget/sync_protocol.h"
#include "tests/fuzz/fuzz_check.h"

namespace b24gate {
namespace {

RedisReply Element(FuzzedDataProvider& in) {
  RedisReply r;
  switch (in.ConsumeIntegralInRange(0, 3)) {
    case 0:
      r.type = RedisReply::Type::kInteger;
      r.integer = in.ConsumeIntegral<int64_t>();
      break;
    case 1:
      r.type = RedisReply::Type::kNil;
      break;
    default:
      r.type = RedisReply::Type::kString;
      r.str = in.ConsumeRandomLengthString(64);
  }
  return r;
}

void CheckDecode(FuzzedDataProvider& in) {
  const int take = in.ConsumeIntegralInRange(0, kMaxTake);
  RedisReply reply;
  reply.type = in.ConsumeBool() ? RedisReply::Type::kArray : RedisReply::Type::kString;
  const int n = in.ConsumeIntegralInRange(0, 40);
  for (int i = 0; i < n && in.remaining_bytes() > 0; ++i) reply.elements.push_back(Element(in));
  absl::StatusOr<SyncAnswer> a = DecodeSync(reply, take);
  if (!a.ok()) {
    FUZZ_CHECK(a.status().code() == absl::StatusCode::kInternal, a.status().ToString());
    return;
  }
  FUZZ_CHECK(a->granted >= 0 && a->granted <= take, "granted out of range");
  FUZZ_CHECK(std::isfinite(a->level) && a->level >= 0, "level out of range");
  FUZZ_CHECK(a->wait >= absl::ZeroDuration(), "negative wait");
  FUZZ_CHECK(a->methods.size() * 3 + 3 == reply.elements.size(), "methods lost");
  for (const auto& [method, s] : a->methods) {
    FUZZ_CHECK(s.reserved >= absl::ZeroDuration() && s.in_flight >= 0, "negative reservation");
    FUZZ_CHECK(!s.reported || (std::isfinite(s.operating) && s.operating >= 0), "bad report");
  }
}

RedisReply Text(std::string s) {
  RedisReply r;
  r.type = RedisReply::Type::kString;
  r.str = std::move(s);
  return r;
}

void CheckEncode(FuzzedDataProvider& in) {
  SyncRequest r;
  r.key_prefix = in.ConsumeRandomLengthString(16);
  r.replica_id = in.ConsumeRandomLengthString(16);
  r.burst = in.ConsumeFloatingPointInRange(1.0, 1e6);
  r.drain_per_second = in.ConsumeFloatingPointInRange(0.001, 1e6);
  r.usable = in.ConsumeFloatingPointInRange(-10.0, 1e6);
  r.take = in.ConsumeIntegral<int>();
  r.add = in.ConsumeIntegral<int64_t>();
  r.full = in.ConsumeBool();
  const int reports = in.ConsumeIntegralInRange(0, 8);
  for (int i = 0; i < reports; ++i) {
    OperatingTracker::Shared s;
    s.reported = in.ConsumeBool();
    s.operating = in.ConsumeFloatingPointInRange(0.0, 1e6);
    s.reset_at = absl::FromUnixMicros(in.ConsumeIntegralInRange<int64_t>(1, int64_t{1} << 52));
    s.paused_until = absl::FromUnixMicros(in.ConsumeIntegralInRange<int64_t>(1, int64_t{1} << 52));
    r.reports.emplace_back(in.ConsumeRandomLengthString(32), s);
  }
  const int reservations = in.ConsumeIntegralInRange(0, 8);
  for (int i = 0; i < reservations; ++i) {
    OperatingTracker::Shared s;
    s.reserved = absl::Microseconds(in.ConsumeIntegralInRange<int64_t>(0, int64_t{1} << 40));
    s.in_flight = in.ConsumeIntegralInRange(0, 1 << 20);
    r.reservations.emplace_back(in.ConsumeRandomLengthString(32), s);
  }
  const SyncCall call = EncodeSync(r);
  FUZZ_CHECK(call.keys.size() == 4, "keys");
  const std::vector<std::string>& a = call.args;
  FUZZ_CHECK(a.size() == 11 + 4 * r.reports.size() + 1 + 3 * r.reservations.size(), "layout");
  int take = -1;
  FUZZ_CHECK(absl::SimpleAtoi(a[3], &take) && take >= 0 && take <= kMaxTake, "take");
  double usable = 0;
  FUZZ_CHECK(absl::SimpleAtod(a[2], &usable) && usable >= 1, "usable");
  FUZZ_CHECK(a[10] == absl::StrCat(r.reports.size()), "report count");
  // What the script stores for one report, read back as another replica would.
  for (size_t i = 0; i < r.reports.size(); ++i) {
    const size_t at = 11 + 4 * i;
    FUZZ_CHECK(a[at] == r.reports[i].first, "method name changed");
    RedisReply reply;
    reply.type = RedisReply::Type::kArray;
    reply.elements = {Text("0"), Text("0"), Text("0"), Text(a[at]),
                      Text(absl::StrCat(a[at + 1], " ", a[at + 2], " ", a[at + 3])), Text("0 0")};
    absl::StatusOr<SyncAnswer> back = DecodeSync(reply, 0);
    FUZZ_CHECK(back.ok() && back->methods.size() == 1, "a stored report does not read");
    const OperatingTracker::Shared& sent = r.reports[i].second;
    const OperatingTracker::Shared& got = back->methods[0].second;
    FUZZ_CHECK(got.paused_until == sent.paused_until, "pause changed");
    FUZZ_CHECK(got.reported == sent.reported, "report lost or made up");
    if (sent.reported) {
      FUZZ_CHECK(got.reset_at == sent.reset_at, "reset changed");
      FUZZ_CHECK(std::abs(got.operating - sent.operating) <= 1e-5 * sent.operating + 1e-9,
                 "operating changed");
    }
  }
}

}  // namespace
}  // namespace b24gate

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  FuzzedDataProvider decode(data, size);
  b24gate::CheckDecode(decode);
  FuzzedDataProvider encode(data, size);
  b24gate::CheckEncode(encode);
  return 0;
}
