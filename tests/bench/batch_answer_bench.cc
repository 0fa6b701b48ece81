// One list batch's answer from the HTTP body to the items a keyset strategy
// delivers, on one thread and without a portal or a network: the path a pool
// thread takes for each 50-page answer of a GetAll (ParseBatchResponse, the
// per-command outcomes a BatchResult carries, ReadChain's items).
//
//   batch_answer_bench [--pages N] [--rounds N] [--fields N] [--body FILE] [--held N]
//
// The body is shaped like the emulator's answer to 50 chained
// `crm.lead.list` pages with `select ID,TITLE` (the small-profile read of
// getall_bench: ~166 KB for 2,500 leads); --fields adds string fields to
// each item to see how the cost grows with the row; --body reads a captured
// answer instead (its commands must be keyed p0..p{N-1}). Prints the median
// and the best ms per answer for each stage and for the whole, and, for
// comparison, nlohmann's own DOM parse of the same text into an
// ordered_json and into a json (std::map objects); asserts nothing.
// First, --held answers (8: a 20,000-item read's big batches) are read and
// kept, as an ordered read buffers them: each lands in memory the process
// never touched, and the first touch of each page (a minor fault) is what
// a fresh gateway pays per answer; printed with the faults per answer.
// The figures are wall-clock on a shared machine: print `uptime` beside them.
#include <algorithm>
#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <fstream>
#include <sstream>
#include <string>
#include <vector>

#include <sys/resource.h>

#include "absl/strings/str_cat.h"
#include "engine/bitrix/bitrix_response.h"
#include "engine/lists/keyset_pages.h"
#include "engine/portal/call_types.h"

namespace b24gate {
namespace {

struct Args {
  int pages = 50;
  int rounds = 200;
  int fields = 0;
  std::string body;  // a file, or "" for the generated answer
  int held = 8;
};

constexpr const char* kTitles[] = {"Price inquiry: Summit Pharma Co.",
                                   "Callback request: Blue Ridge Labs Co.",
                                   "Trade show contact: Evergreen Retail GmbH",
                                   "Partner referral: Northwind Systems Corp."};

std::string TimeObject(double start) {
  return absl::StrCat(R"({"start":)", start, R"(,"finish":)", start + 0.01,
                      R"(,"duration":0.01,"processing":0.01,"date_start":"2026-12-06T10:25:55+00:00",)",
                      R"("date_finish":"2026-12-06T10:25:55+00:00","operating_reset_at":1796553356,)",
                      R"("operating":0.01})");
}

// The emulator's answer to `pages` chained pages of 50 leads, ids ~0.5 dense.
std::string BatchBody(const Args& a) {
  std::string result, next, times;
  int64_t id = 0;
  for (int p = 0; p < a.pages; ++p) {
    absl::StrAppend(&result, p ? "," : "", "\"p", p, "\":[");
    for (int i = 0; i < kPageSize; ++i) {
      id += 1 + (id % 3 == 0);
      absl::StrAppend(&result, i ? "," : "", R"({"ID":")", id, R"(","TITLE":")", kTitles[id % 4],
                      "\"");
      for (int f = 0; f < a.fields; ++f) {
        absl::StrAppend(&result, ",\"UF_CRM_", f, "\":\"value ", id * 7 + f, "\"");
      }
      result.push_back('}');
    }
    result.push_back(']');
    absl::StrAppend(&next, p ? "," : "", "\"p", p, "\":", (p + 1) * kPageSize);
    absl::StrAppend(&times, p ? "," : "", "\"p", p, "\":", TimeObject(1796552755.8 + p * 0.01));
  }
  return absl::StrCat(R"({"result":{"result":{)", result, R"(},"result_error":[],"result_total":[],)",
                      R"("result_next":{)", next, R"(},"result_time":{)", times, "}},\"time\":",
                      TimeObject(1796552755.8), "}");
}

// What Portal::HandleUserBatch hands the strategy: each command's reply.
BatchResult ResultOf(BatchReply reply) {
  BatchResult result;
  for (auto& [key, outcome] : reply.outcomes) {
    if (outcome.reply) result.outcomes.insert_or_assign(key, std::move(*outcome.reply));
  }
  return result;
}

long MinorFaults() {
  rusage usage{};
  getrusage(RUSAGE_SELF, &usage);
  return usage.ru_minflt;
}

double Ms(std::chrono::steady_clock::duration d) {
  return std::chrono::duration<double, std::milli>(d).count();
}

struct Stage {
  const char* name;
  std::vector<double> ms;
};

void Print(const Stage& s) {
  std::vector<double> v = s.ms;
  std::sort(v.begin(), v.end());
  std::printf("| %s | %.3f | %.3f |\n", s.name, v[v.size() / 2], v.front());
}

int Run(const Args& a) {
  HttpResponse response;
  response.status = 200;
  response.body = BatchBody(a);
  if (!a.body.empty()) {
    std::ifstream file(a.body, std::ios::binary);
    std::stringstream text;
    text << file.rdbuf();
    response.body = text.str();
  }
  std::vector<std::string> keys;
  for (int p = 0; p < a.pages; ++p) keys.push_back(absl::StrCat("p", p));
  KeysetQuery query;
  query.method = "crm.lead.list";
  query.shape.item_id_field = "ID";
  query.shape.keyset_filter_field = "ID";
  Stage parse{"ParseBatchResponse", {}}, result{"BatchResult", {}}, chain{"ReadChain", {}},
      freeing{"freeing the items", {}}, total{"whole answer", {}},
      ordered{"(nlohmann::ordered_json::parse, for comparison)", {}},
      plain{"(nlohmann::json::parse, for comparison)", {}};
  size_t items = 0;
  std::vector<ChainPages> held;
  Stage fresh{"whole answer, into fresh memory (held)", {}};
  const long faults_before = MinorFaults();
  for (int r = 0; r < a.held; ++r) {
    auto t0 = std::chrono::steady_clock::now();
    absl::StatusOr<BatchReply> reply = ParseBatchResponse(response, keys);
    if (!reply.ok()) return 1;
    BatchResult batch = ResultOf(std::move(*reply));
    ItemExtractor extractor("");
    absl::StatusOr<ChainPages> read =
        ReadChain(query, &batch, a.pages, IdRange{0, std::nullopt}, &extractor);
    if (!read.ok()) return 1;
    held.push_back(std::move(*read));
    fresh.ms.push_back(Ms(std::chrono::steady_clock::now() - t0));
  }
  const double faults = a.held > 0 ? double(MinorFaults() - faults_before) / a.held : 0;
  for (int r = 0; r < a.rounds; ++r) {
    auto t0 = std::chrono::steady_clock::now();
    absl::StatusOr<BatchReply> reply = ParseBatchResponse(response, keys);
    auto t1 = std::chrono::steady_clock::now();
    if (!reply.ok()) {
      std::fprintf(stderr, "parse failed: %s\n", reply.status().ToString().c_str());
      return 1;
    }
    BatchResult batch = ResultOf(std::move(*reply));
    auto t2 = std::chrono::steady_clock::now();
    ItemExtractor extractor("");
    absl::StatusOr<ChainPages> read =
        ReadChain(query, &batch, a.pages, IdRange{0, std::nullopt}, &extractor);
    auto t3 = std::chrono::steady_clock::now();
    if (!read.ok()) {
      std::fprintf(stderr, "chain failed: %s\n", read.status().ToString().c_str());
      return 1;
    }
    items = read->items.size();
    reply = absl::UnknownError("freed");
    batch = BatchResult();
    read = absl::UnknownError("freed");
    auto t4 = std::chrono::steady_clock::now();
    parse.ms.push_back(Ms(t1 - t0));
    result.ms.push_back(Ms(t2 - t1));
    chain.ms.push_back(Ms(t3 - t2));
    freeing.ms.push_back(Ms(t4 - t3));
    total.ms.push_back(Ms(t4 - t0));
    auto t5 = std::chrono::steady_clock::now();
    { auto tree = nlohmann::ordered_json::parse(response.body); }
    auto t6 = std::chrono::steady_clock::now();
    { auto tree = nlohmann::json::parse(response.body); }
    auto t7 = std::chrono::steady_clock::now();
    ordered.ms.push_back(Ms(t6 - t5));
    plain.ms.push_back(Ms(t7 - t6));
  }
  std::printf("%d pages, %zu items, %zu bytes, %d rounds; %d answers held: %.0f minor faults each\n\n",
              a.pages, items, response.body.size(), a.rounds, a.held, faults);
  std::printf("| stage | median ms | best ms |\n|---|---|---|\n");
  if (a.held > 0) Print(fresh);
  for (const Stage* s : {&parse, &result, &chain, &freeing, &total, &ordered, &plain}) Print(*s);
  return 0;
}

}  // namespace
}  // namespace b24gate

int main(int argc, char** argv) {
  b24gate::Args a;
  for (int i = 1; i + 1 < argc; i += 2) {
    std::string f = argv[i];
    int v = std::atoi(argv[i + 1]);
    if (f == "--body") a.body = argv[i + 1];
    else if (f == "--held") a.held = std::max(v, 0);
    else if (f == "--pages") a.pages = std::clamp(v, 1, b24gate::kMaxPages);
    else if (f == "--rounds") a.rounds = std::max(v, 1);
    else if (f == "--fields") a.fields = std::max(v, 0);
    else {
      std::fprintf(stderr, "usage: batch_answer_bench [--pages N] [--rounds N] [--fields N] [--body FILE] [--held N]\n");
      return 2;
    }
  }
  return b24gate::Run(a);
}
