#!/usr/bin/env bash
# Benchmarks: starts real b24-emulator and b24gate processes (through the
# drivers in tests/bench/) and prints one table per part, in Markdown.
#   1. GetAll of 20,000 and 200,000 leads, `select ID,TITLE`, standard plan,
#      profiles small and huge, for each strategy (offset, keyset chain,
#      parallel keyset), and next to them as many tasks read as a REST 3.0
#      list (pages of 1,000: `v3-keyset` one after another, `v3` the default,
#      pieces side by side with their pages in REST 3.0 batches). Small 20k
#      parallel is read twice by the same processes: the first read (fresh
#      processes, the headline) and a warm one (getall_bench --reads).
#   2. The unthrottled relay: items/s through the gateway vs straight from the
#      emulator, and the latency the gateway adds to one Call; single calls:
#      one idle client (enterprise plan, zero cost) against the same calls
#      straight to the emulator, and 1,000 calls from 50 clients (standard
#      plan, small profile) against the fewest requests and the server time.
#   3. GetAll read by a slow consumer (1,000,000 narrow rows; 100,000 rows of
#      every field): the gateway's RSS.
#   4. Bulk writes: 20,000 crm.lead.add through one CallMany stream, standard
#      plan, small profile, real time (about three minutes): the emulator's
#      counts and the share of the policy ceiling.
#   5. GetAll of 20,000 leads through each generated client (Python, Go,
#      TypeScript, C++) next to its bare stub, and what each client's own
#      work on the items costs beside the gateway's time
#      (tests/bench/clients_bench.sh).
#   6. Files: one 2 GiB file up and down through the gateway next to curl
#      straight to the emulator; 50 concurrent 20 MiB uploads under the
#      standard plan (tests/bench/files_bench.cc).
#   7. Every other benchmark binary in build/tests/bench/.
# Figures only, never pass/fail; the machine's load shows in them.
# QUICK=1 runs part 1 on 20,000 leads only.
set -euo pipefail
cd "$(dirname "$0")/.."

bash scripts/install-deps.sh >/dev/null
BENCHMARKS=ON bash scripts/build.sh >/dev/null
B=build/tests/bench/getall_bench

echo "## GetAll, standard plan (burst 50, 2 requests/s), gateway max_concurrency 8"
echo
echo "200,000-lead offset and keyset-chain runs on the huge profile are time-scaled (emulator --time-scale"
echo "0.2, gateway policy scaled to match; seconds are simulated, real / 0.2): read in real time they would"
echo "take minutes. Parallel keyset reads them in real time too (about a minute): time scaling multiplies"
echo "the fixed cost of each request (HTTP, JSON, two shared cores) by five. Offset runs that would take"
echo "longer than their cap (every offset page counts the whole table) stop there; their rate is partial."
echo
$B list --header
sizes=(20000 200000)
[[ ${QUICK:-0} == 1 ]] && sizes=(20000)
for leads in "${sizes[@]}"; do
  for profile in small huge; do
    for strategy in offset keyset parallel v3-keyset v3; do
      scale=1
      [[ $profile == huge && $leads == 200000 && $strategy != parallel ]] && scale=0.2
      cap=300
      [[ $strategy == offset ]] && cap=90
      # Small 20k parallel, the headline read, also once warm (the same two
      # processes, started idle again): its first-read row stays first.
      reads=1
      [[ $profile == small && $leads == 20000 && $strategy == parallel ]] && reads=2
      $B list --profile "$profile" --leads "$leads" --strategy "$strategy" --time-scale "$scale" \
        --max-seconds "$cap" --reads "$reads" 2>/dev/null || echo "| $profile | $leads | $strategy | failed |"
    done
  done
done
$B list --profile small --leads 20000 --strategy parallel --unordered 2>/dev/null || true
if [[ ${QUICK:-0} != 1 ]]; then
  $B list --profile huge --leads 200000 --strategy parallel --time-scale 0.2 --max-seconds 300 2>/dev/null || true
fi

echo
echo "## Unthrottled relay (emulator --no-limits --cost-zero)"
echo
$B relay --leads 100000 --calls 1000 2>/dev/null || echo "relay failed"

echo
echo "## Single calls: the latency added to an idle Call, and coalescing under load"
echo
echo "Goals: at most 1 ms added at p50 to an idle call; 1,000 calls from 50 clients in at most 21 requests, in"
echo "about the server time (the emulator serves a batch's commands one after another, ~10 ms a crm.lead.get on"
echo "the small profile; with every client in every batch the batches run one after another)."
echo
build/tests/bench/single_calls_bench --clients 1 --profile zero --plan enterprise --calls 200 2>/dev/null ||
  echo "single_calls_bench (idle) failed"
echo
build/tests/bench/single_calls_bench --clients 50 --calls 1000 2>/dev/null ||
  echo "single_calls_bench (50 clients) failed"

echo
echo "## A slow consumer: the gateway's memory while a long list is read"
echo
echo "| list | read | gateway RSS |"
echo "|---|---|---|"
$B slow --leads 100000 --time-scale 0.1 --reader-items-per-second 20000 2>/dev/null || echo "| 100000 | failed | |"
$B slow --leads 1000000 --time-scale 0.1 --reader-items-per-second 20000 --max-seconds 300 2>/dev/null ||
  echo "| 1000000 | failed | |"
# Rows of every field (about a hundred times wider): the read-ahead budget is in bytes.
$B slow --leads 100000 --full-rows --time-scale 0.1 --reader-items-per-second 5000 --max-seconds 300 2>/dev/null ||
  echo "| 100000 (every field) | failed | |"

echo
echo "## Bulk writes: crm.lead.add through CallMany, standard plan (burst 50, 2 requests/s), real time"
echo
echo "Ceiling: 50 commands a request at the bucket's rate after the burst, plus the last batch's operating"
echo "time, or the operating-time limit (480 s a method per 600 s) where it binds, with each add's operating"
echo "time as the emulator counted it; created is what the emulator stored, acknowledged the distinct lead"
echo "ids the stream returned. Goals: at least 90% of the ceiling, no 503 or 429, created = acknowledged = adds."
echo
build/tests/bench/bulk_bench --header
build/tests/bench/bulk_bench --adds 20000 --profile small 2>/dev/null || echo "| small | 20000 | failed |"

echo
echo "## The clients' share: GetAll of 20,000 leads through a generated client"
echo
echo "The same read as the small 20,000-lead parallel row above, through one gateway, by each client with its"
echo "items converted to the language's values, and through the bare generated stub (items left as the client"
echo "receives them: protobuf messages, JSON text for Python), in turn; and each client's own work on the items"
echo "of a bare read, timed apart, as a share of"
echo "the gateway's time (the bare C++ stub's read). Goal: a client adds at most 10% to the gateway's time."
echo
bash tests/bench/clients_bench.sh build/tests/emulator/b24-emulator build/service/b24gate \
  build/tests/bench/cpp_client_getall 2>/dev/null || echo "clients_bench failed"

echo
echo "## Files: throughput and memory"
echo
echo "A file generated on the fly (SHA-256 checked both ways); the gateway's path has a third process on the"
echo "same cores."
build/tests/bench/files_bench --mib 2048 2>/dev/null || echo "files_bench --mib 2048 failed"
build/tests/bench/files_bench --concurrent 50 --mib 20 2>/dev/null || echo "files_bench --concurrent 50 failed"

for bench in build/tests/bench/*; do
  name=$(basename "$bench")
  [[ -x $bench && -f $bench && $name != getall_bench && $name != bulk_bench && $name != files_bench &&
     $name != cpp_client_getall && $name != single_calls_bench ]] ||
    continue
  echo
  echo "## $name"
  echo
  "$bench" 2>/dev/null || echo "$name failed"
done
