// Prints how long seeding takes and the peak RSS afterwards, then times a few
// representative list calls.
//   b24-emulator-seed-bench [SEED_SPEC]   (default: crm.lead=1000000)
#include <sys/resource.h>

#include <chrono>
#include <cstdio>
#include <string>

#include "data/seed.h"
#include "method_api.h"

namespace {

double Seconds(std::chrono::steady_clock::time_point since) {
  return std::chrono::duration<double>(std::chrono::steady_clock::now() - since).count();
}

long PeakRssKb() {
  rusage u{};
  getrusage(RUSAGE_SELF, &u);
  return u.ru_maxrss;
}

void TimeCall(b24emu::MethodTable& portal, const char* label, const std::string& method,
              nlohmann::json params, int repeat) {
  b24emu::MethodCall call;
  call.method = method;
  call.params = std::move(params);
  auto t0 = std::chrono::steady_clock::now();
  b24emu::MethodResult r;
  for (int i = 0; i < repeat; ++i) r = portal.Invoke(call);
  std::printf("%-40s %10.6f s/call  rows=%lld total=%s\n", label, Seconds(t0) / repeat,
              static_cast<long long>(r.work.rows_returned),
              r.total ? std::to_string(*r.total).c_str() : "-");
}

}  // namespace

int main(int argc, char** argv) {
  std::string spec = argc > 1 ? argv[1] : "crm.lead=1000000";
  long rss_before = PeakRssKb();
  auto t0 = std::chrono::steady_clock::now();
  std::string error;
  std::unique_ptr<b24emu::MethodTable> portal = b24emu::MakeSeededPortal(spec, &error);
  double seconds = Seconds(t0);
  if (portal == nullptr) {
    std::fprintf(stderr, "bad seed spec: %s\n", error.c_str());
    return 2;
  }
  std::printf("seed: %s\nseconds: %.3f\npeak_rss_mib: %.1f (before seeding: %.1f)\n", spec.c_str(), seconds,
              PeakRssKb() / 1024.0, rss_before / 1024.0);
  using nlohmann::json;
  TimeCall(*portal, "keyset page (>ID, order ID, start=-1)", "crm.lead.list",
           {{"filter", {{">ID", 900000}}}, {"order", {{"ID", "ASC"}}}, {"start", -1}}, 200);
  TimeCall(*portal, "offset page with total (start=500000)", "crm.lead.list",
           {{"order", {{"ID", "ASC"}}}, {"start", 500000}}, 20);
  TimeCall(*portal, "filtered count (STATUS_ID=JUNK)", "crm.lead.list",
           {{"filter", {{"STATUS_ID", "JUNK"}}}, {"start", 0}}, 1);
  TimeCall(*portal, "order by TITLE, start=-1", "crm.lead.list",
           {{"order", {{"TITLE", "ASC"}}}, {"start", -1}}, 1);
  std::printf("peak_rss_mib_after_queries: %.1f\n", PeakRssKb() / 1024.0);
  return 0;
}
